-- one row per ingested bundle: ESP tracking states and Autopilot profile facts
with

tracking as (
    select * from stg_esp__tracking
),

per_bundle as (
    select
        bundle_id,
        max(value_int) filter (
            where
            kind = 'policy_provider'
            and lower(item) = 'configmgr'
            and lower(setting) = 'installationstate'
        ) as configmgr_provider_state,
        max(value_int) filter (
            where
            kind = 'setup_app'
            and lower(item) = 'provisioning_ts'
            and lower(setting) = 'installationstate'
        ) as provisioning_ts_state,
        max(value_int) filter (
            where
            kind = 'autopilot_profile'
            and lower(setting) = 'cloudassigneddomainjoinmethod'
        ) as domain_join_method,
        max(value_text) filter (
            where
            kind = 'autopilot_profile'
            and lower(setting) = 'deploymentprofilename'
        ) as deployment_profile,
        max(value_text) filter (
            where kind = 'os_build' and lower(setting) = 'fullbuild'
        ) as os_build,
        max(value_text) filter (
            where kind = 'configmgr_client'
            and lower(setting) = 'productversion'
        ) as client_version
    from tracking
    group by bundle_id
),

final as (
    select * from per_bundle
)

select * from final
