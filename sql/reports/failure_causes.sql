-- one row per failed ESP phase x error code x cause: how many attempts failed
-- that way, on how many devices, and one diagnosis as an example
with

outcomes as (
    select * from device_outcomes
    where is_failure(outcome)
),

attempts as (
    select count(*) as attempts from device_outcomes
    where started_at is not null
),

grouped as (
    select
        failed_phase as phase,
        error_code,
        cause,
        count(*) as failures,
        count(distinct device_key) as devices,
        min(day) as first_day,
        max(day) as last_day,
        any_value(diagnosis order by started_at desc) as example_diagnosis
    from outcomes
    group by failed_phase, error_code, cause
),

final as (
    select
        grouped.*,
        grouped.failures / attempts.attempts as share_of_attempts
    from grouped
    cross join attempts
)

select * from final
