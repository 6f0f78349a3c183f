-- one row per app, policy or provider x state that was not done in failed
-- attempts: what the ESP was still waiting for when it failed, ranked
with

tracking as (
    select * from stg_esp__tracking
    where
        (
            kind = 'snapshot'
            or (
                kind in ('setup_app', 'policy_provider')
                and setting_key = 'installationstate'
            )
        )
        and state is not null
        and state not in ('complete', 'not_required', 'processed', 'success')
),

-- the tracking snapshot is the bundle's last attempt's: only that attempt
last_attempts as (
    select * from device_outcomes
    qualify
        row_number() over (
            partition by bundle_id order by attempt_in_bundle desc
        ) = 1
),

failed as (
    select * from last_attempts
    where is_failure(outcome)
),

total as (
    select count(*) as failed_attempts from failed
),

blocking as (
    select
        tracking.kind,
        tracking.item,
        tracking.state,
        failed.bundle_id,
        failed.device_key,
        failed.failed_phase,
        failed.error_code
    from tracking
    inner join failed using (bundle_id)
),

final as (
    select
        blocking.kind,
        blocking.item,
        blocking.state,
        count(distinct blocking.bundle_id) as failed_attempts,
        count(distinct blocking.device_key) as devices,
        count(distinct blocking.bundle_id)
        / any_value(total.failed_attempts) as share_of_failed_attempts,
        string_agg(
            distinct blocking.failed_phase, ', '
            order by blocking.failed_phase
        ) as phases,
        mode(blocking.error_code) as top_error_code
    from blocking
    cross join total
    group by blocking.kind, blocking.item, blocking.state
)

select * from final
