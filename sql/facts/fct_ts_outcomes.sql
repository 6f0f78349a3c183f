-- one row per bundle with a task-sequence log: how PROVISIONTS went
with

runs as (
    select * from stg_smsts__runs
),

steps as (
    select * from stg_smsts__steps
),

last_run as (
    select
        bundle_id,
        outcome as ts_outcome,
        engine_code as ts_engine_code,
        failed_step as ts_failed_step,
        error_code as ts_error_code,
        duration_s as ts_duration_s
    from runs
    qualify
        row_number() over (partition by bundle_id order by run_no desc) = 1
),

step_summary as (
    select
        bundle_id,
        bool_or(outcome = 'running') as has_running_step,
        arg_max(name, step_no) filter (where outcome = 'failed')
            as failed_step_name,
        arg_max(error_code, step_no) filter (where outcome = 'failed')
            as failed_step_error_code
    from steps
    group by bundle_id
),

final as (
    select
        coalesce(last_run.bundle_id, step_summary.bundle_id) as bundle_id,
        last_run.ts_outcome,
        last_run.ts_engine_code,
        coalesce(step_summary.failed_step_name, last_run.ts_failed_step)
            as ts_failed_step,
        coalesce(step_summary.failed_step_error_code, last_run.ts_error_code)
            as ts_error_code,
        last_run.ts_duration_s,
        coalesce(step_summary.has_running_step, false) as has_running_step
    from last_run
    full outer join step_summary using (bundle_id)
)

select * from final
