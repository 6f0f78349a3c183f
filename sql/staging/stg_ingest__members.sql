-- one row per member of a bundle (latest ingest run)
with

source as (
    select *
    from read_parquet(
        'parquet/members/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true
    )
),

final as (
    select
        bundle_id,
        ingest_run_id,
        member,
        size_bytes,
        sha256,
        parser,
        rows,
        warnings,
        skipped,
        first_warning,
        ingest_date
    from source
    qualify
        row_number() over (
            partition by bundle_id, member order by ingest_run_id desc
        ) = 1
)

select * from final
