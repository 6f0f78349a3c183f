-- one row per UTC day x failed ESP phase x error code with at least one
-- failure; each device counted once a day, by its latest attempt that day
with

population as (
    select * from device_days
),

devices_per_day as (
    select
        day,
        count(*) as devices
    from population
    group by day
),

failures as (
    select
        day,
        failed_phase as phase,
        error_code,
        count(*) as failures
    from population
    where failed
    group by day, failed_phase, error_code
),

final as (
    select
        failures.day,
        failures.phase,
        failures.error_code,
        devices_per_day.devices,
        failures.failures,
        failures.failures / devices_per_day.devices as rate
    from failures
    inner join devices_per_day using (day)
)

select * from final
