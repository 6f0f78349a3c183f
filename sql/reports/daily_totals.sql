-- one row per UTC day with attempts: the attempts, the devices (each once, by
-- its latest attempt that day) and how many of them failed
with

days as (
    select * from device_days
),

outcomes as (
    select * from device_outcomes
    where started_at is not null
),

attempts as (
    select
        day,
        count(*) as attempts
    from outcomes
    group by day
),

devices as (
    select
        day,
        count(*) as devices,
        count(*) filter (where failed) as failed_devices,
        count(*) filter (where attempts_that_day > 1) as retried_devices
    from days
    group by day
),

final as (
    select
        devices.day,
        attempts.attempts,
        devices.devices,
        devices.failed_devices,
        devices.failed_devices / devices.devices as failure_rate,
        devices.retried_devices
    from devices
    inner join attempts using (day)
)

select * from final
