-- one row per registry value (or empty key) of a .reg export
with

source as (
    select *
    from read_parquet(
        'parquet/registry_values/*/*.parquet',
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
    -- a bundle's rows from its latest run, and from one file of it (two copies
    -- of a bundle in different batches of one run are ingested twice)
    qualify
        filename = first_value(filename) over (
            partition by bundle_id order by ingest_run_id desc, filename asc
        )
)

select * from final
