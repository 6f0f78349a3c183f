-- one row per bundle with ESP tracking rows: decoded provider and task
-- sequence states, the device's ESP timeout policy, the domain join method
with

tracking as (
    select * from stg_esp__tracking
),

per_bundle as (
    select
        bundle_id,
        any_value(state) filter (
            where
            kind = 'policy_provider'
            and item_key = 'configmgr'
            and setting_key = 'installationstate'
        ) as configmgr_provider_state,
        any_value(state) filter (
            where
            kind = 'setup_app'
            and item_key = 'provisioning_ts'
            and setting_key = 'installationstate'
        ) as provisioning_ts_state,
        -- the device's own FirstSync policy (a user's twin key holds a SID)
        nullif(
            max(value_int) filter (
                where
                kind = 'first_sync'
                and setting_key = 'syncfailuretimeout'
                and not contains(item, '\')
            ),
            0
        ) as esp_timeout_policy_min,
        any_value(state) filter (
            where
            kind = 'autopilot_profile'
            and setting_key = 'cloudassigneddomainjoinmethod'
        ) as domain_join_method
    from tracking
    group by bundle_id
),

final as (
    select * from per_bundle
)

select * from final
