-- one row per kind of member trouble (no parser, parse warnings) x file name
-- or parser: what the data-quality panel lists
with

members as (
    select
        *,
        lower(regexp_extract(member, '[^/\\]+$')) as file_name
    from stg_ingest__members
),

unparsed as (
    select
        'no_parser' as kind,
        file_name as item,
        count(*) as members,
        count(distinct bundle_id) as bundles,
        sum(0) as warnings,
        min(member) as example_member,
        null::varchar as example_warning
    from members
    where parser is null
    group by file_name
),

warned as (
    select
        'parse_warnings' as kind,
        parser as item,
        count(*) as members,
        count(distinct bundle_id) as bundles,
        sum(warnings + skipped) as warnings,
        min(member) as example_member,
        min(first_warning) as example_warning
    from members
    where parser is not null and (warnings > 0 or skipped > 0)
    group by parser
),

final as (
    select * from unparsed
    union all
    select * from warned
)

select * from final
