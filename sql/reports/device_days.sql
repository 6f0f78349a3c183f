-- one row per device x UTC day it had an attempt: its latest attempt that day
-- (the population of failure_rates and of the night-over-night deltas)
with

outcomes as (
    select * from device_outcomes
    where started_at is not null
),

final as (
    select
        day,
        device_key,
        bundle_id,
        attempt,
        count(*) over (partition by device_key, day) as attempts_that_day,
        outcome,
        is_failure(outcome) as failed,
        failed_phase,
        error_code
    from outcomes
    qualify
        row_number() over (
            partition by device_key, day
            order by started_at desc, bundle_id desc, attempt_in_bundle desc
        ) = 1
)

select * from final
