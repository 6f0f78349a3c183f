-- one row per ingested bundle: when its ESP started and how it first failed
with

bundles as (
    select * from stg_ingest__bundles
    where status = 'ingested'
),

esp as (
    select * from stg_esp__events
),

device_preparation_start as (
    select
        bundle_id,
        min(ts_utc) as started_at
    from esp
    where
        name = 'CommercialOOBE_ESPProgress_Category_Started'
        and phase = 'DevicePreparation'
    group by bundle_id
),

any_esp_start as (
    select
        bundle_id,
        min(ts_utc) as started_at
    from esp
    where name like 'CommercialOOBE\_ESP%' escape '\'
    group by bundle_id
),

first_failure as (
    select
        bundle_id,
        ts_utc as failed_at,
        name as failure_name,
        phase as failed_phase,
        outcome as failure_outcome,
        nullif(error_code, 0) as esp_error_code,
        message as failure_message
    from esp
    where outcome in ('failed', 'timed_out') and phase is not null
    qualify
        row_number() over (
            partition by bundle_id order by ts_utc, record_id
        ) = 1
),

setup_done as (
    select
        bundle_id,
        bool_or(
            phase = 'DeviceSetup' and outcome = 'succeeded'
        ) as has_device_setup_success,
        bool_or(name_key like '%whiteglove%') as has_preprovisioning,
        count(*) as n_esp_events
    from esp
    group by bundle_id
),

final as (
    select
        -- ids
        bundles.bundle_id,
        bundles.device_key,
        bundles.serial_number,
        bundles.device_name,
        bundles.source_uri,
        bundles.site,
        -- timestamps
        coalesce(
            device_preparation_start.started_at, any_esp_start.started_at
        ) as started_at,
        first_failure.failed_at,
        -- facts
        first_failure.failure_name,
        first_failure.failed_phase,
        first_failure.failure_outcome,
        first_failure.esp_error_code,
        first_failure.failure_message,
        coalesce(setup_done.has_device_setup_success, false)
            as has_device_setup_success,
        coalesce(setup_done.has_preprovisioning, false) as has_preprovisioning,
        coalesce(setup_done.n_esp_events, 0) as n_esp_events
    from bundles
    left join device_preparation_start using (bundle_id)
    left join any_esp_start using (bundle_id)
    left join first_failure using (bundle_id)
    left join setup_done using (bundle_id)
)

select * from final
