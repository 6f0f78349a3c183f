-- one row per parser that read members with warnings or skipped records: the
-- data-quality panel's parse warnings (members no parser read: unread_members)
with

members as (
    select * from stg_ingest__members
    where parser is not null and (warnings > 0 or skipped > 0)
),

final as (
    select
        parser,
        count(*) as members,
        count(distinct bundle_id) as bundles,
        sum(warnings) as warnings,
        sum(skipped) as skipped,
        min(member) as example_member,
        min(first_warning) as first_warning
    from members
    group by parser
)

select * from final
