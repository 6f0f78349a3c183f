-- one row per ingested bundle: what the device was (OS, hardware, identity,
-- Autopilot profile, tenant, join, ConfigMgr client, collection time), each
-- from its most trusted source, and the attributes its sources disagree on
with

bundles as (
    select * from stg_ingest__bundles
    where status = 'ingested'
),

values_ as (
    select * from fct_device_attribute_values
),

chosen as (
    select
        bundle_id,
        any_value(value) filter (
            where attribute = 'os_version'
        ) as os_version,
        any_value(value) filter (where attribute = 'os_build') as os_build,
        any_value(value) filter (
            where attribute = 'build_number'
        ) as build_number,
        any_value(value) filter (where attribute = 'ubr') as ubr,
        any_value(value) filter (where attribute = 'edition') as edition,
        any_value(value) filter (where attribute = 'build_lab') as build_lab,
        any_value(value) filter (
            where attribute = 'manufacturer'
        ) as manufacturer,
        any_value(value) filter (where attribute = 'model') as model,
        any_value(value) filter (
            where attribute = 'autopilot_profile'
        ) as autopilot_profile,
        any_value(value) filter (where attribute = 'tenant_id') as tenant_id,
        any_value(value) filter (
            where attribute = 'tenant_name'
        ) as tenant_name,
        any_value(value) filter (where attribute = 'join_type') as join_type,
        any_value(value) filter (where attribute = 'group_tag') as group_tag,
        any_value(value) filter (
            where attribute = 'client_version'
        ) as client_version
    from values_
    where chosen
    group by bundle_id
),

disagreeing as (
    select
        bundle_id,
        attribute,
        list(
            struct_pack(source := source, value := value)
            order by source_rank, value
        ) as stated
    from values_
    group by bundle_id, attribute
    having count(distinct lower(value)) > 1
),

disagreements as (
    select
        bundle_id,
        count(*) as n_disagreements,
        to_json(map_from_entries(list((attribute, stated) order by attribute)))
            as disagreements
    from disagreeing
    group by bundle_id
),

final as (
    select
        bundles.bundle_id,
        bundles.device_key,
        bundles.serial_number,
        bundles.device_name,
        chosen.os_version,
        chosen.os_build,
        chosen.build_number::integer as build_number,
        chosen.ubr::integer as ubr,
        chosen.edition,
        chosen.build_lab,
        chosen.manufacturer,
        chosen.model,
        chosen.autopilot_profile,
        chosen.tenant_id,
        chosen.tenant_name,
        chosen.join_type,
        chosen.group_tag,
        chosen.client_version,
        bundles.collected_at,
        bundles.device_zone,
        bundles.device_zone_source,
        bundles.utc_offset_min,
        coalesce(disagreements.n_disagreements, 0) as n_disagreements,
        disagreements.disagreements
    from bundles
    left join chosen using (bundle_id)
    left join disagreements using (bundle_id)
)

select * from final
