-- one row per decoded ESP tracking, profile or build setting
with

source as (
    select *
    from read_parquet(
        'parquet/esp_tracking/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true
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
    qualify
        ingest_run_id
        = max(ingest_run_id) over (partition by bundle_id)
)

select * from final
