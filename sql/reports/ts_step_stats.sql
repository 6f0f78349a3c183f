-- one row per task-sequence step name: how often it ran and failed, how long
-- it took, and how often it was the step running when the ESP gave up
with

steps as (
    select * from stg_smsts__steps
),

-- the bundle's last attempt: its smsts.log belongs to it
outcomes as (
    select * from device_outcomes
    qualify
        row_number() over (
            partition by bundle_id order by attempt_in_bundle desc
        ) = 1
),

timed as (
    select
        steps.name as step_name,
        steps.bundle_id,
        steps.outcome,
        steps.error_code_hex,
        outcomes.device_key,
        epoch(steps.ended_at - steps.started_at) as duration_s,
        coalesce(
            is_failure(outcomes.outcome)
            and (
                steps.outcome = 'running'
                or (
                    steps.started_at <= outcomes.failed_at
                    and coalesce(steps.ended_at > outcomes.failed_at, true)
                )
            ),
            false
        ) as running_at_esp_timeout
    from steps
    inner join outcomes using (bundle_id)
),

final as (
    select
        step_name,
        count(*) as executions,
        count(distinct device_key) as devices,
        count(*) filter (where outcome = 'failed') as failures,
        count(*) filter (where outcome = 'failed') / count(*) as failure_rate,
        count(*) filter (where running_at_esp_timeout)
            as running_at_esp_timeout,
        quantile_cont(duration_s, 0.5) as p50_s,
        quantile_cont(duration_s, 0.9) as p90_s,
        max(duration_s) as max_s,
        mode(error_code_hex) filter (where outcome = 'failed')
            as top_error_code
    from timed
    group by step_name
)

select * from final
