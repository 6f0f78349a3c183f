-- one row per device attempt x component (ccmsetup, task sequence) that ran:
-- how long after the ESP started it finished, against the device's own ESP
-- timeout
with

-- the bundle's logs against its first ESP start and its last attempt's outcome
-- (the logs run across every attempt inside the bundle)
outcomes as (
    select
        bundle_id,
        any_value(device_key) as device_key,
        min(started_at) as started_at,
        min(day) as day,
        arg_max(outcome, attempt_in_bundle) as outcome,
        any_value(esp_timeout_min) as esp_timeout_min
    from device_outcomes
    where started_at is not null
    group by bundle_id
),

ccmsetup as (
    select
        bundle_id,
        min(started_at) as component_started_at,
        max(ended_at) filter (where return_code = 0) as finished_at,
        max(ended_at) as last_seen_at
    from stg_ccmsetup__runs
    group by bundle_id
),

task_sequence as (
    select
        bundle_id,
        min(started_at) as component_started_at,
        max(ended_at) filter (where outcome = 'succeeded') as finished_at,
        max(coalesce(ended_at, started_at)) as last_seen_at
    from stg_smsts__runs
    group by bundle_id
),

components as (
    select
        'ccmsetup' as component,
        *
    from ccmsetup
    union all
    select
        'task_sequence' as component,
        *
    from task_sequence
),

measured as (
    select
        outcomes.bundle_id,
        outcomes.device_key,
        outcomes.day,
        outcomes.outcome,
        components.component,
        outcomes.esp_timeout_min,
        components.finished_at is not null as finished,
        epoch(
            coalesce(components.finished_at, components.last_seen_at)
            - outcomes.started_at
        ) / 60 as minutes_after_esp_start,
        epoch(
            coalesce(components.finished_at, components.last_seen_at)
            - components.component_started_at
        ) / 60 as own_minutes
    from outcomes
    inner join components using (bundle_id)
),

final as (
    select
        *,
        minutes_after_esp_start / esp_timeout_min as share_of_timeout,
        coalesce(
            not finished or minutes_after_esp_start > esp_timeout_min, false
        ) as over_timeout
    from measured
)

select * from final
