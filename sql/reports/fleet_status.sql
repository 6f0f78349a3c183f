-- one row per device: how its latest attempt went (the fleet status), with
-- the attributes the cohorts group by
with

outcomes as (
    select * from device_outcomes
),

ranked as (
    select
        *,
        count(*) over (partition by device_key) as attempts,
        min(day) over (partition by device_key) as first_day,
        lag(outcome) over (
            partition by device_key
            order by started_at, bundle_id, attempt_in_bundle
        ) as previous_outcome,
        lag(day) over (
            partition by device_key
            order by started_at, bundle_id, attempt_in_bundle
        ) as previous_day
    from outcomes
),

final as (
    select
        device_key,
        serial_number,
        device_name,
        bundle_id,
        attempts,
        first_day,
        day,
        outcome,
        is_failure(outcome) as failed,
        failed_phase,
        error_code,
        cause,
        diagnosis,
        previous_outcome,
        previous_day,
        site,
        os_build,
        client_version,
        deployment_profile,
        manufacturer,
        model
    from ranked
    qualify
        row_number() over (
            partition by device_key
            order by
                started_at desc nulls last,
                bundle_id desc,
                attempt_in_bundle desc
        ) = 1
)

select * from final
