-- one row per value a bundle states for one of its device's attributes, with
-- its source: identity files, the registry and the Autopilot profile, event
-- records' Computer, ccmsetup.log; the most trusted source's value is chosen
with

facts as (
    select * from stg_device__facts
),

tracking as (
    select * from stg_esp__tracking
),

registry as (
    select * from stg_registry__values
),

events as (
    select * from stg_events__events
),

runs as (
    select * from stg_ccmsetup__runs
),

from_files as (
    select
        bundle_id,
        attribute,
        source,
        coalesce(
            value, strftime(value_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ')
        ) as value
    from facts
    where attribute != 'windows_zone'
),

from_tracking as (
    select
        bundle_id,
        case
            when kind = 'os_build' and setting_key = 'fullbuild' then 'os_build'
            when kind = 'os_build' and setting_key = 'currentbuild'
                then 'build_number'
            when kind = 'os_build' and setting_key = 'ubr' then 'ubr'
            when kind = 'os_build' and setting_key = 'editionid' then 'edition'
            when kind = 'configmgr_client' and setting_key = 'productversion'
                then 'client_version'
            when setting_key = 'deploymentprofilename' then 'autopilot_profile'
            when setting_key = 'cloudassignedtenantid' then 'tenant_id'
            when setting_key = 'cloudassignedtenantdomain' then 'tenant_name'
            when setting_key in ('cloudassignedgrouptag', 'grouptag')
                then 'group_tag'
            when setting_key = 'cloudassigneddomainjoinmethod' then 'join_type'
        end as attribute,
        case
            when kind = 'autopilot_profile' and lower(key_path) like '%.json'
                then 'AutopilotDDSZTDFile.json'
            else 'registry'
        end as source,
        case
            when setting_key = 'cloudassigneddomainjoinmethod' then state
            else coalesce(value_text, value_int::varchar)
        end as value
    from tracking
    where kind in ('os_build', 'configmgr_client', 'autopilot_profile')
),

from_join_info as (
    select
        bundle_id,
        case
            when value_name_key = 'tenantid' then 'tenant_id'
            when value_name_key = 'displayname' then 'tenant_name'
        end as attribute,
        'registry JoinInfo' as source,
        value_text as value
    from registry
    where
        (
            key_path_key like '%\clouddomainjoin\joininfo\%'
            and value_name_key = 'tenantid'
        )
        or (
            key_path_key like '%\clouddomainjoin\tenantinfo\%'
            and value_name_key = 'displayname'
        )
),

from_events as (
    select
        bundle_id,
        'device_name' as attribute,
        'events Computer' as source,
        computer as value
    from events
    where computer is not null
    group by bundle_id, computer
),

from_runs as (
    select
        bundle_id,
        'client_version' as attribute,
        'ccmsetup.log' as source,
        arg_max(client_version, run_no) as value
    from runs
    where client_version is not null
    group by bundle_id
),

claims as (
    select * from from_files
    union all
    select * from from_tracking
    union all
    select * from from_join_info
    union all
    select * from from_events
    union all
    select * from from_runs
),

ranked as (
    select
        bundle_id,
        attribute,
        source,
        trim(value) as value,
        coalesce(
            list_position(
                [
                    'DiagnosticsFrameworkData.json',
                    'DeviceHash',
                    'MDMDiagReport.xml',
                    'MdmDiagLogMetadata.json',
                    'MdmLogCollectorFootPrint.txt',
                    'AutopilotDDSZTDFile.json',
                    'registry',
                    'registry JoinInfo',
                    'ccmsetup.log',
                    'events Computer'
                ],
                source
            ),
            99
        ) as source_rank
    from claims
    where attribute is not null and nullif(trim(value), '') is not null
),

final as (
    select
        bundle_id,
        attribute,
        source,
        value,
        source_rank,
        row_number() over (
            partition by bundle_id, attribute order by source_rank, value
        ) = 1 as chosen
    from ranked
    qualify
        row_number() over (
            partition by bundle_id, attribute, source, lower(value)
            order by value
        ) = 1
)

select * from final
