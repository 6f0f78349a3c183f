-- one row per device attempt (ingested bundle): outcome, failed phase, error
-- code, cause and the evidence behind it (docs/scenarios.md)
with

attempts as (
    select * from fct_esp_attempts
),

states as (
    select * from fct_esp_provider_states
),

ccmsetup as (
    select * from fct_ccmsetup_outcomes
),

ts as (
    select * from fct_ts_outcomes
),

attributes as (
    select * from device_attributes
),

joined as (
    select
        attempts.*,
        states.* exclude (bundle_id),
        ccmsetup.* exclude (bundle_id),
        ts.* exclude (bundle_id),
        attributes.os_build,
        attributes.client_version,
        attributes.autopilot_profile as deployment_profile,
        attributes.model,
        attributes.manufacturer
    from attempts
    left join states using (bundle_id)
    left join ccmsetup using (bundle_id)
    left join ts using (bundle_id)
    left join attributes using (bundle_id)
),

classified as (
    select
        *,
        case
            when failed_phase is null and has_device_setup_success then 'ok'
            when failed_phase is null then 'no_esp_result'
            when domain_join_method = 'hybrid_joined'
                then 'unsupported_hybrid_join'
            when has_preprovisioning then 'unsupported_preprovisioning'
            when failed_phase = 'DevicePreparation'
                then
                    case
                        when
                            configmgr_provider_state = 'not_installed'
                            and coalesce(n_ccmsetup_runs, 0) = 0
                            then 'ccmsetup_never_ran'
                        when
                            configmgr_provider_state = 'error'
                            or ccmsetup_error_code is not null
                            or failed_return_code is not null
                            then 'ccmsetup_failed'
                        when
                            configmgr_provider_state = 'complete'
                            or succeeded_at > failed_at
                            then 'ccmsetup_too_late'
                        else 'unexplained'
                    end
            when failed_phase = 'DeviceSetup'
                then
                    case
                        when
                            provisioning_ts_state
                            in ('not_installed', 'in_progress')
                            or has_running_step
                            then 'ts_still_running'
                        when
                            provisioning_ts_state = 'error'
                            or ts_outcome = 'failed'
                            or ts_failed_step is not null
                            then 'ts_step_failed'
                        else 'unexplained'
                    end
            else 'unexplained'
        end as cause
    from joined
),

coded as (
    select
        *,
        case
            when cause in ('ok', 'no_esp_result') then null
            when cause = 'ccmsetup_failed' then ccmsetup_error_code
            when cause = 'ts_step_failed' then ts_error_code
        end as root_error_code_u32
    from classified
),

final as (
    select
        -- ids
        bundle_id,
        serial_number,
        device_name,
        row_number() over (
            partition by device_key order by started_at, bundle_id
        ) as attempt,
        -- timestamps
        started_at,
        (started_at at time zone 'UTC')::date as day,
        failed_at,
        -- outcome
        case
            when cause = 'ok' then 'succeeded'
            when cause = 'no_esp_result' then 'unknown'
            when cause like 'unsupported\_%' escape '\' then 'unsupported'
            else 'failed'
        end as outcome,
        failed_phase,
        printf(
            '0x%08X', coalesce(esp_error_code, root_error_code_u32)
        ) as error_code,
        coalesce(esp_error_code, root_error_code_u32) as error_code_u32,
        printf('0x%08X', root_error_code_u32) as root_error_code,
        cause,
        case cause
            when 'ok' then 'ESP completed'
            when 'no_esp_result' then 'no ESP result in the Shell-Core events'
            when 'unsupported_hybrid_join'
                then
                    'unsupported: hybrid Entra join '
                    || 'with ConfigMgr co-management'
            when 'unsupported_preprovisioning'
                then
                    'unsupported: pre-provisioning with ConfigMgr co-management'
            when 'ccmsetup_never_ran'
                then
                    'ESP timed out waiting for the ConfigMgr client: '
                    || 'ccmsetup.msi never ran (provider not installed)'
            when 'ccmsetup_failed'
                then
                    'ESP timed out waiting for the ConfigMgr client: '
                    || 'ccmsetup failed'
                    || coalesce(
                        ' with ' || printf('0x%08X', root_error_code_u32), ''
                    )
            when 'ccmsetup_too_late'
                then
                    'ESP timed out waiting for the ConfigMgr client: '
                    || 'ccmsetup completed after the timeout'
            when 'ts_step_failed'
                then
                    'PROVISIONTS task sequence failed at step '''
                    || coalesce(ts_failed_step, '?') || ''''
                    || coalesce(
                        ' with ' || printf('0x%08X', root_error_code_u32), ''
                    )
            when 'ts_still_running'
                then
                    'PROVISIONTS task sequence still running at the ESP timeout'
            else 'failure not explained by the evidence'
        end as diagnosis,
        ts_failed_step as failing_step,
        -- evidence
        json_object(
            'failure_event', failure_name,
            'failure_message', failure_message,
            'configmgr_provider_state', configmgr_provider_state,
            'provisioning_ts_state', provisioning_ts_state,
            'domain_join_method', domain_join_method,
            'ccmsetup_runs', n_ccmsetup_runs,
            'ccmsetup_last_return_code', last_return_code,
            'ccmsetup_succeeded_at', succeeded_at,
            'ts_outcome', ts_outcome,
            'ts_engine_code', ts_engine_code,
            'source', source_uri
        ) as evidence,
        os_build,
        client_version,
        deployment_profile,
        site,
        manufacturer,
        model,
        -- the ESP's default (60 minutes) when the device has no policy
        coalesce(esp_timeout_policy_min, 60) as esp_timeout_min,
        device_key
    from coded
)

select * from final
