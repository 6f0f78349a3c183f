-- one row per bundle with ccmsetup runs: how the ConfigMgr client install went
with

runs as (
    select * from stg_ccmsetup__runs
),

failed_runs as (
    select
        bundle_id,
        error_code as ccmsetup_error_code,
        return_code as failed_return_code
    from runs
    where error_code is not null or coalesce(return_code, 0) not in (0, 7)
    qualify
        row_number() over (partition by bundle_id order by run_no desc) = 1
),

summary as (
    select
        bundle_id,
        count(*) as n_ccmsetup_runs,
        max(ended_at) filter (where return_code = 0) as succeeded_at,
        arg_max(return_code, run_no) as last_return_code,
        arg_max(client_version, run_no) as ccmsetup_client_version,
        bool_or(used_cmg) as used_cmg
    from runs
    group by bundle_id
),

final as (
    select
        summary.*,
        failed_runs.ccmsetup_error_code,
        failed_runs.failed_return_code
    from summary
    left join failed_runs using (bundle_id)
)

select * from final
