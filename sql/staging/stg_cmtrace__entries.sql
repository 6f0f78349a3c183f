-- one row per CMTrace or SMS-trace log record
with

source as (
    select *
    from read_parquet(
        'parquet/cm_log_entries/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true
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
    qualify
        ingest_run_id
        = max(ingest_run_id) over (partition by bundle_id)
)

select * from final
