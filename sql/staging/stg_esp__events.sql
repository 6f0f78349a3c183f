-- one row per Shell-Core 62407 CommercialOOBE_* event
with

source as (
    select *
    from read_parquet(
        'parquet/esp_events/*/*.parquet',
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
    -- a bundle's rows from its latest run, and from one file of it (two copies
    -- of a bundle in different batches of one run are ingested twice)
    qualify
        filename = first_value(filename) over (
            partition by bundle_id order by ingest_run_id desc, filename asc
        )
)

select * from final
