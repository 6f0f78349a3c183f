-- one row per bundle its latest ingest run refused: where it was and why,
-- the latest first
with

bundles as (
    select * from stg_ingest__bundles
    where status = 'quarantined'
),

final as (
    select
        bundle_id,
        site,
        source_uri,
        reason,
        ingested_at
    from bundles
)

select * from final
