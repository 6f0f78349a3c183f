-- one row per supportability finding of a bundle: the Requirements and
-- Limitations of Autopilot into co-management (docs/scenarios.md "Lint"),
-- each rule read from its own evidence
with

bundles as (
    select * from stg_ingest__bundles
    where status = 'ingested'
),

attributes as (
    select * from device_attributes
),

releases as (
    select * from stg_catalogue__windows_releases
),

states as (
    select * from fct_esp_provider_states
),

runs as (
    select
        bundle_id,
        bool_or(has_preprovisioning) as has_preprovisioning,
        min(started_at) as started_at
    from fct_esp_attempts
    group by bundle_id
),

ccmsetup as (
    select
        bundle_id,
        count(*) as n_runs,
        bool_or(used_cmg) as used_cmg,
        bool_or(lower(properties) like '%"/usepkicert"%') as uses_pki
    from stg_ccmsetup__runs
    group by bundle_id
),

providers as (
    select
        bundle_id,
        bool_or(item_key = 'configmgr') as has_configmgr_provider,
        bool_or(item_key = 'sidecar') as has_sidecar_provider
    from stg_esp__tracking
    where kind = 'policy_provider'
    group by bundle_id
),

device as (
    select
        bundles.bundle_id,
        bundles.device_key,
        bundles.serial_number,
        bundles.device_name,
        attributes.build_number,
        attributes.ubr,
        attributes.os_build,
        attributes.client_version,
        coalesce(runs.started_at, bundles.collected_at)::date as day,
        coalesce(runs.has_preprovisioning, false) as has_preprovisioning,
        states.domain_join_method,
        coalesce(ccmsetup.n_runs, 0) as n_ccmsetup_runs,
        coalesce(ccmsetup.used_cmg and ccmsetup.uses_pki, false)
            as pki_to_cmg,
        coalesce(providers.has_configmgr_provider, false)
            as has_configmgr_provider,
        coalesce(providers.has_sidecar_provider, false) as has_sidecar_provider,
        releases.version,
        releases.latest_ubr,
        releases.latest_kb,
        releases.latest_released,
        releases.servicing_ends,
        -- 5.00.9068 is version 2111
        case
            when regexp_matches(attributes.client_version, '^5\.0+\.\d+')
                then
                    split_part(attributes.client_version, '.', 3)::int
        end as client_build
    from bundles
    left join attributes on bundles.bundle_id = attributes.bundle_id
    left join runs on bundles.bundle_id = runs.bundle_id
    left join states on bundles.bundle_id = states.bundle_id
    left join ccmsetup on bundles.bundle_id = ccmsetup.bundle_id
    left join providers on bundles.bundle_id = providers.bundle_id
    left join releases on attributes.build_number = releases.build
),

findings as (
    select
        *,
        'windows_10_before_20h2' as rule,
        'error' as severity,
        'Windows 10 build ' || build_number
        || ' is older than 20H2 (19042)' as finding,
        'os_build ' || os_build as evidence
    from device
    where build_number between 10240 and 19041
    union all
    select
        *,
        'no_recent_cumulative_update' as rule,
        'warning' as severity,
        'UBR ' || ubr || ' is older than ' || latest_kb || ' (' || build_number
        || '.' || latest_ubr || ', ' || latest_released || ')' as finding,
        'os_build ' || os_build as evidence
    from device
    where ubr < latest_ubr and latest_released <= day - interval 30 day
    union all
    select
        *,
        'out_of_servicing' as rule,
        'warning' as severity,
        'Windows ' || version || ' servicing ended ' || servicing_ends
            as finding,
        'os_build ' || os_build as evidence
    from device
    where servicing_ends < day
    union all
    select
        *,
        'hybrid_entra_join' as rule,
        'error' as severity,
        'hybrid Entra join is not supported with co-management' as finding,
        'Autopilot profile CloudAssignedDomainJoinMethod = 1' as evidence
    from device
    where domain_join_method = 'hybrid_joined'
    union all
    select
        *,
        'pre_provisioning' as rule,
        'error' as severity,
        'pre-provisioning (White Glove) is not supported with co-management'
            as finding,
        'a CommercialOOBE WhiteGlove technician-flow or mode event' as evidence
    from device
    where has_preprovisioning
    union all
    select
        *,
        'pki_client_auth_to_cmg' as rule,
        'error' as severity,
        'the client authenticates to the CMG with a PKI certificate' as finding,
        'ccmsetup command line: /UsePKICert through a CMG' as evidence
    from device
    where pki_to_cmg
    union all
    select
        *,
        'ime_beside_configmgr_provider' as rule,
        'warning' as severity,
        'the IME (Sidecar) policy provider is tracked beside ConfigMgr'
            as finding,
        'EnrollmentStatusTracking PolicyProviders: ConfigMgr and Sidecar'
            as evidence
    from device
    where has_configmgr_provider and has_sidecar_provider
    union all
    select
        *,
        'windows_11_without_comanagement_policy' as rule,
        'error' as severity,
        'Windows 11 with a ConfigMgr client but no ConfigMgr policy provider: '
        || 'no co-management settings policy, the authority is Intune'
            as finding,
        'build ' || build_number || '; ccmsetup runs ' || n_ccmsetup_runs
        || '; no PolicyProviders\ConfigMgr key' as evidence
    from device
    where
        build_number >= 22000
        and not has_configmgr_provider
        and (n_ccmsetup_runs > 0 or client_version is not null)
    union all
    select
        *,
        'configmgr_before_2111' as rule,
        'error' as severity,
        'ConfigMgr client '
        || client_version
        || ' is older than 2111 (5.00.9068)'
            as finding,
        'client_version ' || client_version as evidence
    from device
    where client_build < 9068
),

final as (
    select
        bundle_id,
        device_key,
        serial_number,
        device_name,
        day,
        rule,
        severity,
        finding,
        evidence
    from findings
)

select * from final
