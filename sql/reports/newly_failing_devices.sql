-- one row per device whose latest attempt fails and whose attempt before it
-- did not (or which has no attempt before it)
with

fleet as (
    select * from fleet_status
),

final as (
    select
        day,
        device_key,
        serial_number,
        device_name,
        site,
        outcome,
        failed_phase,
        error_code,
        cause,
        diagnosis,
        previous_outcome,
        previous_day,
        attempts
    from fleet
    where
        failed
        and (previous_outcome is null or not is_failure(previous_outcome))
)

select * from final
