-- one row per ingested bundle: which evidence families it holds, so that an
-- attempt with no result can say what was missing and a bundle with no
-- Autopilot deployment can say why it is not_attempted (docs/scenarios.md)
with

bundles as (
    select * from stg_ingest__bundles
    where status = 'ingested'
),

events as (
    select * from stg_events__events
),

tracking as (
    select * from stg_esp__tracking
),

ime as (
    select * from stg_cmtrace__entries
),

per_events as (
    select
        bundle_id,
        count(*) filter (
            where channel_key = 'microsoft-windows-shell-core/operational'
        ) as n_shell_core,
        count(*) filter (where event_id = 62407) as n_62407,
        count(*) filter (
            where event_id = 62407
            and name like 'CommercialOOBE\_ESP%' escape '\'
        ) as n_esp,
        count(*) filter (
            where
            event_id = 62407
            and name like 'UnifiedEnrollment\_%' escape '\'
        ) as n_oobe_enrollment,
        count(*) filter (
            where
            channel_key like 'microsoft-windows-moderndeployment-%/autopilot'
        ) as n_autopilot,
        count(*) filter (
            where
            channel_key like 'microsoft-windows-moderndeployment-%/autopilot'
            and event_id = 100
        ) as n_policy_not_found,
        count(*) filter (
            where
            channel_key like 'microsoft-windows-moderndeployment-%/autopilot'
            and event_id in (111, 153, 161, 163)
        ) as n_profile_events,
        count(*) filter (
            where channel_key = 'microsoft-windows-aad/operational'
            and level <= 2
        ) as n_aad_errors
    from events
    group by bundle_id
),

per_tracking as (
    select
        bundle_id,
        count(*) filter (
            where kind in ('policy_provider', 'setup_app', 'snapshot')
        ) as n_tracking,
        bool_or(
            kind = 'autopilot_profile'
            and setting_key in (
                'deploymentprofilename', 'cloudassignedtenantid'
            )
            and nullif(trim(value_text), '') is not null
        ) as has_profile_values
    from tracking
    group by bundle_id
),

per_ime as (
    select
        bundle_id,
        count(*) as n_ime_entries
    from ime
    where
        lower(member) like '%intunemanagementextension%'
        or lower(member) like '%appworkload%'
    group by bundle_id
),

final as (
    select
        bundles.bundle_id,
        coalesce(per_events.n_shell_core, 0) as n_shell_core,
        coalesce(per_events.n_62407, 0) as n_62407,
        coalesce(per_events.n_esp, 0) as n_esp,
        coalesce(per_events.n_oobe_enrollment, 0) as n_oobe_enrollment,
        coalesce(per_events.n_autopilot, 0) as n_autopilot,
        coalesce(per_events.n_policy_not_found, 0) as n_policy_not_found,
        coalesce(per_events.n_profile_events, 0) > 0
        or coalesce(per_tracking.has_profile_values, false) as has_profile,
        coalesce(per_events.n_aad_errors, 0) as n_aad_errors,
        coalesce(per_tracking.n_tracking, 0) as n_tracking,
        coalesce(per_ime.n_ime_entries, 0) as n_ime_entries
    from bundles
    left join per_events using (bundle_id)
    left join per_tracking using (bundle_id)
    left join per_ime using (bundle_id)
)

select * from final
