-- one row per bundle, from its latest ingest run
with

source as (
    select *
    from read_parquet(
        'parquet/bundles/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true
    )
),

final as (
    select
        bundle_id,
        ingest_run_id,
        source_uri,
        layout,
        size_bytes,
        ingested_at,
        status,
        reason,
        serial_number,
        device_name,
        device_zone,
        device_zone_source,
        collected_at,
        n_members,
        n_warnings,
        ingest_date
    from source
    qualify
        row_number() over (
            partition by bundle_id order by ingest_run_id desc
        ) = 1
)

select * from final
