-- one row per decoded ESP tracking, profile or build setting
with

source as (
    select *
    from read_parquet(
        'parquet/esp_tracking/*/*.parquet',
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
        kind,
        key_path,
        item,
        setting,
        value_int,
        value_text,
        state,
        scale,
        snapshot_at,
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
