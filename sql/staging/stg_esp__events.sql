-- one row per Shell-Core 62407 CommercialOOBE_* event
with

source as (
    select *
    from read_parquet(
        'parquet/esp_events/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true
    )
),

final as (
    select
        bundle_id,
        member,
        ingest_run_id,
        record_id,
        ts_utc,
        name,
        area,
        phase,
        subcategory,
        outcome,
        error_code,
        error_code_hex,
        message,
        is_known_name,
        meaning,
        ingest_date
    from source
    qualify
        ingest_run_id
        = max(ingest_run_id) over (partition by bundle_id)
)

select * from final
