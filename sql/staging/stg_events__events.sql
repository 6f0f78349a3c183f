-- one row per event record of any channel (evtx, XML or text)
with

source as (
    select *
    from read_parquet(
        'parquet/events/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true
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
    qualify
        ingest_run_id
        = max(ingest_run_id) over (partition by bundle_id)
)

select * from final
