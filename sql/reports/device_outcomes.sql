-- one row per device attempt (an ESP run of an ingested bundle, or the bundle
-- when no ESP ran): outcome, failed stage, error code, cause and the evidence
-- behind it (docs/scenarios.md)
with

path as (
    select * from fct_critical_path
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

apps as (
    select * from fct_win32_app_failures
),

msi as (
    select * from fct_msi_app_failures
),

attributes as (
    select * from device_attributes
),

joined as (
    select
        path.*,
        states.* exclude (bundle_id),
        ccmsetup.* exclude (bundle_id),
        ts.* exclude (bundle_id),
        apps.* exclude (bundle_id),
        msi.* exclude (bundle_id),
        -- the app that failed first blocked the Apps subcategory: a Win32
        -- app through the IME or an MSI app through the MDM (formats.md §3.5)
        case
            when
                msi.msi_product_code is not null
                and (
                    msi.msi_failed_at <= path.failed_at
                    -- a tracking snapshot: the state at collection
                    or msi.msi_record_id is null
                )
                and (
                    apps.app_failed_at is null
                    or apps.app_failed_at > path.failed_at
                    or msi.msi_failed_at < apps.app_failed_at
                )
                then 'msi_app_failed'
            when apps.app_failed_at <= path.failed_at then 'win32_app_failed'
        end as app_cause,
        attributes.os_build,
        attributes.client_version,
        attributes.autopilot_profile as deployment_profile,
        attributes.model,
        attributes.manufacturer,
        -- the bundle's snapshots (tracking states, logs) describe its last run
        path.esp_run = greatest(path.n_esp_runs, 1) as is_last_run,
        -- a timeout: a TimedOut event, or an expired monitor (state = failed,
        -- errorCode 0) while the task sequence still ran (formats.md §3.3.2)
        coalesce(
            path.failure_outcome = 'timed_out'
            or (
                path.failed_stage in ('DeviceSetup', 'AccountSetup')
                and path.esp_run = greatest(path.n_esp_runs, 1)
                and (
                    states.provisioning_ts_state in (
                        'not_installed', 'in_progress'
                    )
                    or ts.has_running_step
                )
            ),
            false
        ) as is_timeout,
        bool_or(path.failed_stage is not null) over (
            partition by path.bundle_id
            order by path.esp_run
            rows between unbounded preceding and 1 preceding
        ) as failed_before_in_bundle
    from path
    left join states using (bundle_id)
    left join ccmsetup using (bundle_id)
    left join ts using (bundle_id)
    left join apps using (bundle_id)
    left join msi using (bundle_id)
    left join attributes using (bundle_id)
),

classified as (
    select
        *,
        case
            when failed_stage is null and has_device_setup_success then 'ok'
            when failed_stage is null and n_esp_events > 0 then 'no_esp_result'
            when failed_stage is null and n_shell_core = 0 then 'no_esp_result'
            when failed_stage is null and not has_profile
                then 'no_autopilot_deployment'
            when failed_stage is null then 'no_esp_result'
            when domain_join_method = 'hybrid_joined'
                then 'unsupported_hybrid_join'
            when has_preprovisioning then 'unsupported_preprovisioning'
            when
                failed_stage = 'AutopilotProfile'
                then 'autopilot_profile_failed'
            when failed_stage = 'Network' then 'no_network'
            when failed_stage = 'EntraJoin' then 'entra_join_failed'
            when failed_stage = 'MdmEnrollment' then 'mdm_enrollment_failed'
            when failed_stage = 'TpmAttestation' then 'tpm_attestation_failed'
            when not is_last_run then 'retried_in_bundle'
            when failed_stage = 'DevicePreparation'
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
            when failed_stage = 'DeviceSetup'
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
                        else coalesce(app_cause, 'unexplained')
                    end
            when failed_stage = 'AccountSetup' and app_cause is not null
                then app_cause
            when failed_stage = 'AccountSetup' then 'account_setup_failed'
            else 'unexplained'
        end as cause
    from joined
),

judged as (
    select
        *,
        case
            when cause = 'ok' and failed_before_in_bundle
                then 'succeeded_on_retry'
            when cause = 'ok' then 'succeeded'
            when cause = 'no_autopilot_deployment' then 'not_attempted'
            when
                cause = 'no_esp_result'
                and has_category_start
                and not has_page_exiting
                and is_last_run
                then 'in_progress'
            when cause = 'no_esp_result' then 'unknown'
            when cause like 'unsupported\_%' escape '\' then 'unsupported'
            when continued_anyway then 'continued_past_failure'
            when is_timeout then 'timed_out'
            else 'failed'
        end as outcome,
        case
            when cause = 'ccmsetup_failed' then ccmsetup_error_code
            when cause = 'ts_step_failed' then ts_error_code
            -- the IME's code, else the exit code as HRESULT_FROM_WIN32
            when cause = 'win32_app_failed'
                then
                    coalesce(
                        app_error_code,
                        case
                            when app_exit_code between 1 and 65535
                                then (2147942400 + app_exit_code)::uinteger
                        end
                    )
            when cause = 'msi_app_failed' then msi_error_code
        end as root_error_code_u32
    from classified
),

coded as (
    select
        *,
        coalesce(
            esp_error_code,
            pre_esp_error_code,
            root_error_code_u32,
            -- a timeout the ESP logged with errorCode 0 (formats.md §3.3.2)
            case when is_timeout then 2147943860 end
        ) as error_code_u32,
        -- what the diagnosis lacked, for unknown and not_attempted
        concat_ws(
            '; ',
            case
                when n_shell_core = 0 then 'no Shell-Core Operational events'
            end,
            case
                when
                    n_shell_core > 0 and n_62407 = 0
                    then 'no Shell-Core 62407 event'
            end,
            case
                when n_62407 > 0 and n_esp = 0 and n_oobe_enrollment = 0
                    then 'no ESP or OOBE enrollment event in 62407'
            end,
            case
                when n_esp > 0 and not has_category_start
                    then 'no ESP category start'
            end,
            case
                when n_esp > 0 and has_category_start
                    then 'no ESP category result'
            end,
            case
                when not has_profile and n_policy_not_found > 0
                    then
                        'no Autopilot profile (ModernDeployment 100: policy '
                        || 'not found)'
                when not has_profile then 'no Autopilot profile'
            end,
            case when n_tracking = 0 then 'no ESP tracking keys' end
        ) as missing_evidence,
        -- reported, never resolved (docs/scenarios.md "Contradicting evidence")
        case
            when
                cause = 'ok'
                and is_last_run
                and (
                    configmgr_provider_state = 'error'
                    or provisioning_ts_state = 'error'
                )
                then
                    'Shell-Core says the ESP completed, the registry tracking '
                    || 'says error (ConfigMgr provider '
                    || coalesce(configmgr_provider_state, '?')
                    || ', Provisioning_TS '
                    || coalesce(provisioning_ts_state, '?') || ')'
            when
                outcome in ('failed', 'timed_out')
                and failed_stage = 'DevicePreparation'
                and is_last_run
                and has_device_setup_success
                then 'Device setup succeeded after a Device preparation failure'
            when
                cause = 'msi_app_failed'
                and msi_tracking_state = 'success'
                then
                    msi_source || ' says the MSI app failed, ESPTrackingInfo '
                    || 'says success'
        end as contradiction
    from judged
),

final as (
    select
        -- ids
        bundle_id,
        esp_run as attempt_in_bundle,
        serial_number,
        device_name,
        row_number() over (
            partition by device_key order by started_at, bundle_id, esp_run
        ) as attempt,
        -- timestamps
        started_at,
        (started_at at time zone 'UTC')::date as day,
        failed_at,
        -- outcome
        outcome,
        case
            when outcome not in ('succeeded', 'succeeded_on_retry')
                then
                    failed_stage
        end as failed_phase,
        esp_phase,
        case
            when
                cause = 'autopilot_profile_failed'
                and pre_esp_error_code_text is not null
                then pre_esp_error_code_text
            else printf('0x%08X', error_code_u32)
        end as error_code,
        error_code_u32,
        printf('0x%08X', root_error_code_u32) as root_error_code,
        cause,
        case cause
            when 'ok'
                then
                    case
                        when outcome = 'succeeded_on_retry'
                            then
                                'ESP completed after Try again '
                                || 'in the same bundle'
                        else 'ESP completed'
                    end
            when 'no_esp_result'
                then 'no result in the evidence: ' || missing_evidence
            when 'no_autopilot_deployment'
                then
                    'no Autopilot deployment in the evidence: '
                    || missing_evidence
            when 'unsupported_hybrid_join'
                then
                    'unsupported: hybrid Entra join '
                    || 'with ConfigMgr co-management'
            when 'unsupported_preprovisioning'
                then
                    'unsupported: pre-provisioning with ConfigMgr co-management'
                    || coalesce(
                        ' (' || failed_stage || ' failed: ' || failure_event
                        || ')',
                        ''
                    )
            when 'autopilot_profile_failed'
                then 'no Autopilot profile: ' || failure_event
            when 'no_network' then 'no network during OOBE: ' || failure_event
            when 'entra_join_failed' then 'Entra join failed: ' || failure_event
            when 'mdm_enrollment_failed'
                then 'MDM enrollment failed: ' || failure_event
            when 'tpm_attestation_failed'
                then 'TPM attestation failed: ' || failure_event
            when 'retried_in_bundle'
                then
                    failed_stage || ' failed (' || failure_event
                    || '), then Try again in the same bundle'
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
            when 'account_setup_failed'
                then 'Account setup failed: ' || failure_event
            when 'win32_app_failed'
                then
                    'Win32 app ''' || failed_app || ''' failed through the IME'
                    || coalesce(' with exit code ' || app_exit_code, '')
            when 'msi_app_failed'
                then
                    'MSI app ' || msi_product_code || ' failed ('
                    || msi_source || ')'
                    || coalesce(
                        ' with ' || printf('0x%08X', msi_error_code), ''
                    )
            else 'failure not explained by the evidence'
        end
        || case
            when continued_anyway and failed_stage is not null
                then '; the user chose Continue anyway'
            else ''
        end
        || case
            when contradiction is not null
                then '; contradicting evidence: ' || contradiction
            else ''
        end as diagnosis,
        contradiction,
        case when is_last_run then ts_failed_step end as failing_step,
        -- what the failure blocked: the step, app, provider or subcategory
        case
            when cause in ('ts_step_failed', 'ts_still_running')
                then coalesce(ts_failed_step, 'Provisioning_TS')
            when cause = 'win32_app_failed' then failed_app
            when cause = 'msi_app_failed' then msi_product_code
            when cause like 'ccmsetup\_%' escape '\' then 'ConfigMgr'
            else failure_subcategory
        end as blocked_item,
        -- evidence
        json_object(
            'failure_event', failure_event,
            'failure_source', failure_source,
            'failure_record_id', failure_record_id,
            'failure_message', failure_message,
            'esp_run', esp_run,
            'esp_runs', n_esp_runs,
            'continued_anyway', continued_anyway,
            'reboots_required', n_reboot_required,
            'cancelled_events', n_cancelled,
            'pre_esp_failures', n_pre_esp_failures,
            'aad_errors', n_aad_errors,
            'configmgr_provider_state', configmgr_provider_state,
            'provisioning_ts_state', provisioning_ts_state,
            'domain_join_method', domain_join_method,
            'ccmsetup_runs', n_ccmsetup_runs,
            'ccmsetup_last_return_code', last_return_code,
            'ccmsetup_succeeded_at', succeeded_at,
            'ts_outcome', ts_outcome,
            'ts_engine_code', ts_engine_code,
            'failed_app', failed_app,
            'app_exit_code', app_exit_code,
            'app_errors', n_app_errors,
            'msi_product_code', msi_product_code,
            'msi_source', msi_source,
            'msi_record_id', msi_record_id,
            'msi_tracking_state', msi_tracking_state,
            'missing', nullif(missing_evidence, ''),
            'contradiction', contradiction,
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
