-- one row per failure event on the Autopilot path before the ESP
-- (docs/scenarios.md "Stages"): each evidence family read on its own, then
-- stacked. The stage vocabulary: AutopilotProfile, Network, EntraJoin,
-- MdmEnrollment, TpmAttestation.
with

events as (
    select * from stg_events__events
),

esp as (
    select * from stg_esp__events
),

tracking as (
    select * from stg_esp__tracking
),

-- Shell-Core 62407 names outside CommercialOOBE_ (formats.md §3.3.8)
shell_core as (
    select
        bundle_id,
        ts_utc,
        record_id,
        case
            when
                name like 'UnifiedEnrollment\_%' escape '\'
                then 'MdmEnrollment'
            when
                name = 'CDJUIError' or name like 'CDJUI%Failure'
                then 'EntraJoin'
            when
                name like 'AadRegistration%'
                and regexp_matches(name, '(Failed|Failure|Error)$')
                then 'EntraJoin'
            when
                name = 'OobeNetworkLogging_NullConnectionProfile'
                then 'Network'
        end as stage,
        'Shell-Core 62407' as source,
        name as evidence_name,
        error_code
    from events
    where
        event_id = 62407
        and channel_key = 'microsoft-windows-shell-core/operational'
        and (
            (
                name like 'UnifiedEnrollment\_%' escape '\'
                and regexp_matches(name, '_(Failed|Failure|Error)$')
            )
            or name = 'CDJUIError'
            or name like 'CDJUI%Failure'
            or (
                name like 'AadRegistration%'
                and regexp_matches(name, '(Failed|Failure|Error)$')
            )
            or name = 'OobeNetworkLogging_NullConnectionProfile'
        )
),

-- CommercialOOBE_ names written before the ESP page (phase null)
oobe as (
    select
        bundle_id,
        ts_utc,
        record_id,
        case
            when name like '%NoNetwork' then 'Network'
            when name like '%TPMAttestation%' then 'TpmAttestation'
            else 'AutopilotProfile'
        end as stage,
        'Shell-Core 62407' as source,
        name as evidence_name,
        error_code
    from esp
    where
        phase is null
        and name in (
            'CommercialOOBE_Autopilot_Profile_Unavailable',
            'CommercialOOBE_AutopilotPreFetch_PolicyCache_Failed',
            'CommercialOOBE_AutopilotPreFetch_PolicyCache_TimedOut'
        )
        or (
            phase is null
            and name like 'CommercialOOBE_WhiteGlove_%_FailedDueTo%'
        )
),

-- ModernDeployment-Diagnostics-Provider/Autopilot (formats.md §3.4)
autopilot as (
    select
        bundle_id,
        ts_utc,
        record_id,
        case
            when event_id = 171 then 'TpmAttestation'
            else 'AutopilotProfile'
        end as stage,
        'ModernDeployment Autopilot ' || event_id as source,
        'event ' || event_id as evidence_name,
        error_code
    from events
    where
        channel_key like 'microsoft-windows-moderndeployment-%/autopilot'
        and event_id in (171, 172, 807, 809, 815, 908)
),

-- DeviceManagement-Enterprise-Diagnostics-Provider/Admin 71 / 76 (§3.5)
enrollment as (
    select
        bundle_id,
        ts_utc,
        record_id,
        'MdmEnrollment' as stage,
        'DMEDP Admin ' || event_id as source,
        'event ' || event_id as evidence_name,
        error_code
    from events
    where
        channel_key like 'microsoft-windows-devicemanagement-enterprise-%/admin'
        and event_id in (71, 76)
),

-- User Device Registration/Admin (formats.md §3.6): automatic (hybrid) device
-- registration failed at the join phase (304), at the authentication phase
-- (305) or looking up the service in Active Directory (307); a later 306
-- ("Automatic registration Succeeded") means the task's retry joined
registration_success as (
    select
        bundle_id,
        max(ts_utc) as registered_at
    from events
    where
        channel_key = 'microsoft-windows-user device registration/admin'
        and event_id = 306
    group by bundle_id
),

registration as (
    select
        events.bundle_id,
        events.ts_utc,
        events.record_id,
        'EntraJoin' as stage,
        'User Device Registration ' || events.event_id as source,
        'event ' || events.event_id as evidence_name,
        events.error_code
    from events
    left join registration_success
        on events.bundle_id = registration_success.bundle_id
    where
        events.channel_key = 'microsoft-windows-user device registration/admin'
        and events.event_id in (304, 305, 307)
        and (
            registration_success.registered_at is null
            or registration_success.registered_at < events.ts_utc
        )
),

-- AutopilotDDSZTDFile.json ErrorCode (§6.6): a ZTD registration error
ztd_file as (
    select
        bundle_id,
        snapshot_at as ts_utc,
        null::bigint as record_id,
        'AutopilotProfile' as stage,
        'AutopilotDDSZTDFile.json' as source,
        'ErrorCode '
        || value_int
        || coalesce(' ' || state, '') as evidence_name,
        value_int::uinteger as error_code
    from tracking
    where
        kind = 'autopilot_profile'
        and item = 'AutopilotDDSZTDFile'
        and setting_key = 'errorcode'
        and coalesce(value_int, 0) <> 0
),

stacked as (
    select * from shell_core
    union all
    select * from oobe
    union all
    select * from autopilot
    union all
    select * from enrollment
    union all
    select * from registration
    union all
    select * from ztd_file
),

final as (
    select
        bundle_id,
        ts_utc,
        record_id,
        stage,
        source,
        evidence_name,
        error_code,
        case
            when source = 'AutopilotDDSZTDFile.json' then error_code::varchar
            else printf('0x%08X', error_code)
        end as error_code_text
    from stacked
)

select * from final
