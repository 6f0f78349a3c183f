-- one row per registry value (or empty key) of a .reg export
with

source as (
    select *
    from read_parquet(
        'parquet/registry_values/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true
    )
),

final as (
    select
        bundle_id,
        member,
        ingest_run_id,
        line_no,
        dialect,
        key_path,
        value_name,
        value_type,
        value_text,
        value_int,
        value_hex,
        is_deletion,
        ingest_date
    from source
    qualify
        ingest_run_id
        = max(ingest_run_id) over (partition by bundle_id)
)

select * from final
