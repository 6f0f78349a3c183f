-- one row per ISO week x failed ESP phase x error code with at least one
-- failure; each device counted once a week, by its latest attempt that week
with

population as (
    select * from device_weeks
),

devices_per_week as (
    select
        week,
        count(*) as devices
    from population
    group by week
),

failures as (
    select
        week,
        failed_phase as phase,
        error_code,
        count(*) as failures
    from population
    where failed
    group by week, failed_phase, error_code
),

final as (
    select
        failures.week,
        failures.phase,
        failures.error_code,
        devices_per_week.devices,
        failures.failures,
        failures.failures / devices_per_week.devices as rate
    from failures
    inner join devices_per_week using (week)
)

select * from final
