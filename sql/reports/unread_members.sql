-- one row per reason x kind of member no parser read (digits in the file name
-- written #): how many members, in how many bundles, how many bytes
with

members as (
    select * from stg_ingest__members
    where reason is not null
),

named as (
    select
        *,
        regexp_extract(member, '[^/]*$') as file_name,
        regexp_replace(regexp_extract(member, '[^/]*$'), '[0-9]+', '#', 'g')
            as file_kind
    from members
),

final as (
    select
        reason,
        file_kind,
        count(*) as members,
        count(distinct bundle_id) as bundles,
        sum(size_bytes) as size_bytes,
        min(file_name) as example
    from named
    group by reason, file_kind
)

select * from final
