-- one row per error code the fleet's failing devices show, with the
-- catalogue's meaning and the code's share of the failures
with

fleet as (
    select * from fleet_status
    where failed
),

attempts as (
    select * from device_outcomes
    where is_failure(outcome)
),

catalogue as (
    select * from stg_catalogue__error_codes
    where domain in ('hresult', 'configmgr')
    qualify
        row_number() over (
            partition by code_u32 order by domain = 'hresult' desc
        ) = 1
),

by_device as (
    select
        error_code,
        count(*) as failed_devices,
        string_agg(distinct failed_phase, ', ' order by failed_phase)
            as phases,
        min(day) as first_day,
        max(day) as last_day
    from fleet
    group by error_code
),

by_attempt as (
    select
        error_code,
        count(*) as failed_attempts
    from attempts
    group by error_code
),

final as (
    select
        by_device.error_code,
        catalogue.symbol,
        catalogue.meaning,
        by_device.failed_devices,
        by_device.failed_devices
        / sum(by_device.failed_devices) over () as share_of_failures,
        coalesce(by_attempt.failed_attempts, 0) as failed_attempts,
        by_device.phases,
        by_device.first_day,
        by_device.last_day
    from by_device
    left join by_attempt
        on by_device.error_code is not distinct from by_attempt.error_code
    left join catalogue
        on by_device.error_code = printf('0x%08X', catalogue.code_u32)
)

select * from final
