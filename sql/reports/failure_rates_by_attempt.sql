-- one row per UTC day x failed ESP phase x error code with at least one
-- failure, counting every attempt (a device retried three times counts three)
with

outcomes as (
    select * from device_outcomes
    where started_at is not null
),

attempts_per_day as (
    select
        day,
        count(*) as attempts,
        count(distinct device_key) as devices
    from outcomes
    group by day
),

failures as (
    select
        day,
        failed_phase as phase,
        error_code,
        count(*) as failures
    from outcomes
    where is_failure(outcome)
    group by day, failed_phase, error_code
),

final as (
    select
        failures.day,
        failures.phase,
        failures.error_code,
        attempts_per_day.attempts,
        attempts_per_day.devices,
        failures.failures,
        failures.failures / attempts_per_day.attempts as rate
    from failures
    inner join attempts_per_day using (day)
)

select * from final
