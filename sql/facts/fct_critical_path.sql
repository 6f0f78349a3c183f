-- one row per device attempt (an ESP run of a bundle, or the bundle itself
-- when no ESP ran): the first failure on the Autopilot critical path, its stage
-- and code. Stages in path order: AutopilotProfile, Network, EntraJoin,
-- MdmEnrollment, TpmAttestation, DevicePreparation, DeviceSetup, AccountSetup
-- (docs/scenarios.md). A failure before the ESP decides only when no ESP run
-- followed it.
with

runs as (
    select * from fct_esp_attempts
),

stage_failures as (
    select * from fct_stage_failures
),

evidence as (
    select * from fct_deployment_evidence
),

first_pre_esp_failure as (
    select
        bundle_id,
        ts_utc as pre_esp_failed_at,
        stage as pre_esp_stage,
        source as pre_esp_source,
        evidence_name as pre_esp_event,
        record_id as pre_esp_record_id,
        count(*) over (partition by bundle_id) as n_pre_esp_failures
    from stage_failures
    qualify
        row_number() over (
            partition by bundle_id order by ts_utc nulls last, record_id
        ) = 1
),

-- the stage's code: the first row of that stage that carries one (a profile
-- that is unavailable gets its code from the ZTD file)
stage_codes as (
    select
        bundle_id,
        stage,
        arg_min(error_code, coalesce(ts_utc, 'infinity'::timestamptz))
            as pre_esp_error_code,
        arg_min(error_code_text, coalesce(ts_utc, 'infinity'::timestamptz))
            as pre_esp_error_code_text
    from stage_failures
    where error_code is not null
    group by bundle_id, stage
),

pre_esp_failure as (
    select
        first_pre_esp_failure.*,
        stage_codes.pre_esp_error_code,
        stage_codes.pre_esp_error_code_text
    from first_pre_esp_failure
    left join stage_codes
        on
            first_pre_esp_failure.bundle_id = stage_codes.bundle_id
            and first_pre_esp_failure.pre_esp_stage = stage_codes.stage
),

esp_stage as (
    select
        *,
        case
            when failure_name is null then null
            when failure_subcategory ilike 'tpm%' then 'TpmAttestation'
            when
                failure_subcategory ilike '%aad%'
                or failure_subcategory = 'PrepareMultifactorAuth'
                then 'EntraJoin'
            when
                failure_subcategory ilike 'DeviceEnrollment%'
                or failure_subcategory ilike 'MdmEnrollment%'
                then 'MdmEnrollment'
            else esp_phase
        end as esp_failed_stage
    from runs
),

final as (
    select
        esp_stage.bundle_id,
        esp_stage.device_key,
        esp_stage.esp_run,
        esp_stage.n_esp_runs,
        esp_stage.serial_number,
        esp_stage.device_name,
        esp_stage.source_uri,
        esp_stage.site,
        coalesce(esp_stage.started_at, pre.pre_esp_failed_at) as started_at,
        esp_stage.started_at as esp_started_at,
        coalesce(esp_stage.failed_at, pre.pre_esp_failed_at) as failed_at,
        coalesce(esp_stage.esp_failed_stage, pre.pre_esp_stage) as failed_stage,
        esp_stage.esp_phase,
        coalesce(
            esp_stage.failure_name, pre.pre_esp_event
        ) as failure_event,
        case
            when esp_stage.failure_name is not null then 'Shell-Core 62407'
            else pre.pre_esp_source
        end as failure_source,
        coalesce(
            esp_stage.failure_record_id, pre.pre_esp_record_id
        ) as failure_record_id,
        esp_stage.failure_outcome,
        esp_stage.failure_subcategory,
        esp_stage.failure_message,
        esp_stage.esp_error_code,
        pre.pre_esp_error_code,
        pre.pre_esp_error_code_text,
        coalesce(pre.n_pre_esp_failures, 0) as n_pre_esp_failures,
        esp_stage.has_device_setup_success,
        esp_stage.has_preprovisioning,
        esp_stage.continued_anyway,
        esp_stage.has_page_exiting,
        esp_stage.has_category_start,
        esp_stage.n_reboot_required,
        esp_stage.n_cancelled,
        esp_stage.n_esp_events,
        evidence.n_shell_core,
        evidence.n_62407,
        evidence.n_esp,
        evidence.n_oobe_enrollment,
        evidence.n_autopilot,
        evidence.n_policy_not_found,
        evidence.has_profile,
        evidence.n_aad_errors,
        evidence.n_tracking,
        evidence.n_ime_entries
    from esp_stage
    left join pre_esp_failure as pre
        on
            esp_stage.bundle_id = pre.bundle_id
            and esp_stage.n_esp_runs = 0
    left join evidence on esp_stage.bundle_id = evidence.bundle_id
)

select * from final
