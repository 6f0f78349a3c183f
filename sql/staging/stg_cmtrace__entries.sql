-- one row per CMTrace or SMS-trace log record
with

source as (
    select *
    from read_parquet(
        'parquet/cm_log_entries/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true,
        filename = true
    )
),

final as (
    select
        bundle_id,
        member,
        ingest_run_id,
        record_no,
        log_file,
        line_no,
        format,
        ts_utc,
        ts_local,
        tz_bias_min,
        ts_confidence,
        component,
        context,
        severity,
        thread,
        file,
        message,
        ingest_date
    from source
    -- a bundle's rows from its latest run, and from one file of it (two copies
    -- of a bundle in different batches of one run are ingested twice)
    qualify
        filename = first_value(filename) over (
            partition by bundle_id order by ingest_run_id desc, filename asc
        )
)

select * from final
