-- one row per UTC day x failed phase: the day's failure rate in that phase,
-- each device once a day by its latest attempt
with

days as (
    select * from device_days
),

population as (
    select
        day,
        count(*) as devices
    from days
    group by day
),

failures as (
    select
        day,
        failed_phase as phase,
        count(*) as failures
    from days
    where failed
    group by day, failed_phase
),

final as (
    select
        failures.day,
        coalesce(failures.phase, '(no phase)') as phase,
        population.devices,
        failures.failures,
        failures.failures / population.devices as rate
    from failures
    inner join population using (day)
)

select * from final
