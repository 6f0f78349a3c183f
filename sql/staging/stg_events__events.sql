-- one row per event record of any channel (evtx, XML or text)
with

source as (
    select *
    from read_parquet(
        'parquet/events/*/*.parquet',
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
        source_format,
        channel,
        provider,
        event_id,
        record_id,
        ts_utc,
        level,
        computer,
        event_data,
        name,
        value,
        message,
        meaning,
        error_code,
        error_code_hex,
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
