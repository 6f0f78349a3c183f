-- one row per ESP run of an ingested bundle (an attempt inside the bundle):
-- when it started and how it first failed. A run ends at Try again, or at a
-- page load after a failure (a reboot or a new ESP); Continue anyway does not
-- end it (docs/formats.md §3.3.6, docs/scenarios.md "Attempts inside a
-- bundle").
with

bundles as (
    select * from stg_ingest__bundles
    where status = 'ingested'
),

esp as (
    select * from stg_esp__events
),

marked as (
    select
        *,
        case
            -- a name, or the same split fields from a free-text name
            -- (formats.md §3.3.10)
            when
                name = 'CommercialOOBE_ESPProgress_TryAgain_Started'
                or (area = 'ESPProgress' and subcategory = 'TryAgain')
                then 'try_again'
            when
                name = 'CommercialOOBE_ESPProgress_ContinueAnyway_Started'
                or (area = 'ESPProgress' and subcategory = 'ContinueAnyway')
                then 'continue_anyway'
            when
                outcome in ('failed', 'timed_out', 'incomplete')
                and phase is not null
                then 'failure'
            -- a page load (ResumingAfterReboot) or a run of its categories
            when
                outcome = 'page_loaded'
                or name = 'CommercialOOBE_ESPProgress_ESPTimeOutValue_Applied'
                or (
                    name like 'BootstrapStatus: %'
                    and subcategory = 'ESPTimeOutValue'
                )
                then 'page_run'
        end as marker
    from esp
),

boundaries as (
    select
        *,
        marker = 'try_again'
        or (
            marker = 'page_run'
            and last_value(marker ignore nulls) over (
                partition by bundle_id order by ts_utc, record_id
                rows between unbounded preceding and 1 preceding
            ) = 'failure'
        ) as opens_run
    from marked
),

runs as (
    select
        *,
        1 + coalesce(
            sum(opens_run::int) over (
                partition by bundle_id order by ts_utc, record_id
                rows between unbounded preceding and current row
            ),
            0
        ) as esp_run
    from boundaries
),

first_failure as (
    select
        bundle_id,
        esp_run,
        ts_utc as failed_at,
        record_id as failure_record_id,
        name as failure_name,
        phase as esp_phase,
        subcategory as failure_subcategory,
        outcome as failure_outcome,
        nullif(error_code, 0) as esp_error_code,
        message as failure_message
    from runs
    where marker = 'failure'
    qualify
        row_number() over (
            partition by bundle_id, esp_run order by ts_utc, record_id
        ) = 1
),

per_run as (
    select
        bundle_id,
        esp_run,
        coalesce(
            min(ts_utc) filter (
                where
                (
                    name = 'CommercialOOBE_ESPProgress_Category_Started'
                    or name like 'BootstrapStatus: Starting category %'
                )
                and phase = 'DevicePreparation'
            ),
            min(ts_utc) filter (
                where (
                    name like 'CommercialOOBE\_ESP%' escape '\'
                    or name like 'BootstrapStatus: %'
                )
            ),
            min(ts_utc)
        ) as started_at,
        max(ts_utc) as last_event_at,
        bool_or(
            phase = 'DeviceSetup' and outcome = 'succeeded'
        ) as has_device_setup_success,
        -- the technician flow and the ESP's White Glove mode; not the
        -- DeviceEnrollment_WhiteGlove*Error names, which self-deploying mode
        -- writes too (formats.md §3.3.3)
        bool_or(
            name_key like 'commercialoobe\_whiteglove\_%' escape '\'
            or name_key like 'bootstrapstatus: exiting page due to white %'
            or name_key like 'bootstrapstatus: white glove flow = true%'
            or name_key in (
                'commercialoobe_espprogress_whiteglovemode_true',
                'commercialoobe_espprogress_whiteglove_success',
                'commercialoobe_espprogress_whiteglove_failed',
                'commercialoobe_espdevicepreparation_whiteglove_started'
            )
        ) as has_preprovisioning,
        bool_or(marker = 'continue_anyway') as continued_anyway,
        bool_or(
            name = 'CommercialOOBE_ESPProgress_Page_Exiting'
            or (area = 'ESPProgress' and subcategory = 'Page')
        ) as has_page_exiting,
        bool_or(
            name = 'CommercialOOBE_ESPProgress_Category_Started'
            or name like 'BootstrapStatus: Starting category %'
        ) as has_category_start,
        count(*) filter (where outcome = 'reboot_required')
            as n_reboot_required,
        count(*) filter (
            where outcome = 'cancelled' or error_code = 2147943623
        ) as n_cancelled,
        count(*) filter (
            where (
                name like 'CommercialOOBE\_ESP%' escape '\'
                or name like 'BootstrapStatus: %'
            )
        ) as n_esp_page_events,
        count(*) as n_esp_events
    from runs
    group by bundle_id, esp_run
),

final as (
    select
        -- ids
        bundles.bundle_id,
        bundles.device_key,
        coalesce(per_run.esp_run, 1)::integer as esp_run,
        bundles.serial_number,
        bundles.device_name,
        bundles.source_uri,
        bundles.site,
        -- timestamps
        per_run.started_at,
        first_failure.failed_at,
        per_run.last_event_at,
        -- facts
        first_failure.failure_record_id,
        first_failure.failure_name,
        first_failure.esp_phase,
        first_failure.failure_subcategory,
        first_failure.failure_outcome,
        first_failure.esp_error_code,
        first_failure.failure_message,
        coalesce(per_run.has_device_setup_success, false)
            as has_device_setup_success,
        coalesce(per_run.has_preprovisioning, false) as has_preprovisioning,
        coalesce(per_run.continued_anyway, false) as continued_anyway,
        coalesce(per_run.has_page_exiting, false) as has_page_exiting,
        coalesce(per_run.has_category_start, false) as has_category_start,
        coalesce(per_run.n_reboot_required, 0) as n_reboot_required,
        coalesce(per_run.n_cancelled, 0) as n_cancelled,
        coalesce(per_run.n_esp_events, 0) as n_esp_events,
        -- runs of an ESP page (not only the OOBE names logged before it)
        (
            count(per_run.esp_run) filter (
                where per_run.n_esp_page_events > 0
            ) over (partition by bundles.bundle_id)
        )::integer as n_esp_runs
    from bundles
    left join per_run using (bundle_id)
    left join first_failure using (bundle_id, esp_run)
)

select * from final
