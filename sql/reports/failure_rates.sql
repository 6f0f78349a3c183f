-- one row per day x failed ESP phase x error code with at least one failure
with

outcomes as (
    select * from device_outcomes
    where started_at is not null
),

attempts_per_day as (
    select
        day,
        count(*) as attempts
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
    where outcome in ('failed', 'unsupported')
    group by day, failed_phase, error_code
),

final as (
    select
        failures.day,
        failures.phase,
        failures.error_code,
        attempts_per_day.attempts,
        failures.failures,
        failures.failures / attempts_per_day.attempts as rate
    from failures
    inner join attempts_per_day using (day)
)

select * from final
