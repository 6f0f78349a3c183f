-- one row per device whose latest attempt failed, worst first: the most
-- failed attempts, then the most recent failure
with

fleet as (
    select * from fleet_status
    where failed
),

outcomes as (
    select * from device_outcomes
),

codes as (
    select * from top_error_codes
),

failed_attempts as (
    select
        device_key,
        count(*) filter (where is_failure(outcome)) as failed_attempts,
        min(day) filter (where is_failure(outcome)) as first_failed_day
    from outcomes
    group by device_key
),

final as (
    select
        row_number() over (
            order by
                failed_attempts.failed_attempts desc,
                fleet.day desc nulls last,
                fleet.device_key asc
        ) as rank,
        fleet.device_key,
        fleet.serial_number,
        fleet.device_name,
        fleet.site,
        fleet.bundle_id,
        fleet.day,
        fleet.attempts,
        failed_attempts.failed_attempts,
        failed_attempts.first_failed_day,
        fleet.outcome,
        fleet.failed_phase,
        fleet.error_code,
        codes.meaning as error_meaning,
        fleet.cause,
        fleet.diagnosis,
        coalesce(not is_failure(fleet.previous_outcome), true) as newly_failing
    from fleet
    inner join failed_attempts using (device_key)
    left join codes
        on fleet.error_code is not distinct from codes.error_code
)

select * from final
