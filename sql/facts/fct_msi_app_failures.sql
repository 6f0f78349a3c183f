-- one row per bundle in which an MSI app (EnterpriseDesktopAppManagement, the
-- MDM's own MSI installer) failed and was not installed by a later retry: the
-- first such app, its product code and result (docs/formats.md §3.5, §4.3).
-- Evidence: DeviceManagement-Enterprise-Diagnostics-Provider/Admin 1924
-- (install failed), 1907 (download failed), 1908 (download could not start);
-- else an ESPTrackingInfo snapshot of ExpectedMSIAppPackages whose last
-- state is enforcement_failed or download_failed
with

events as (
    select * from stg_events__events
    where
        channel_key like 'microsoft-windows-devicemanagement-enterprise-%/admin'
        and event_id in (1907, 1908, 1922, 1924)
),

tracking as (
    select * from stg_esp__tracking
    where kind = 'snapshot' and scale = 'msi_0_70'
),

guids as (
    select
        *,
        '\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-'
        || '[0-9A-Fa-f]{12}\}' as guid
    from events
),

-- the product code: the first data item that is a braced GUID and nothing
-- else (the ProductCode parameter; a log path or command only contains one),
-- else the GUID after "MSI ProductCode: " in a rendered message
msi_events as (
    select
        bundle_id,
        ts_utc,
        record_id,
        event_id,
        error_code,
        upper(
            coalesce(
                nullif(
                    regexp_extract(
                        event_data, '":\s*"(' || guid || ')"', 1
                    ),
                    ''
                ),
                regexp_extract(message, 'ProductCode: (' || guid || ')', 1)
            )
        ) as product_code
    from guids
),

-- the ESP tracking URI names the product code url-encoded (%7B...%7D)
msi_states as (
    select
        bundle_id,
        upper(
            replace(
                replace(
                    regexp_extract(
                        setting, '/MSI/([^/]+)', 1
                    ),
                    '%7B', '{'
                ),
                '%7D', '}'
            )
        ) as product_code,
        arg_max(state, snapshot_at) as tracking_state,
        max(snapshot_at) as tracked_at
    from tracking
    where regexp_matches(setting, '/MSI/[^/]+')
    group by all
),

installed as (
    select
        bundle_id,
        product_code,
        max(ts_utc) as installed_at
    from msi_events
    where event_id = 1922
    group by all
),

event_failures as (
    select
        msi_events.bundle_id,
        msi_events.ts_utc as msi_failed_at,
        msi_events.product_code as msi_product_code,
        msi_events.error_code as msi_error_code,
        'DMEDP Admin ' || msi_events.event_id as msi_source,
        msi_events.record_id as msi_record_id
    from msi_events
    left join installed
        on
            msi_events.bundle_id = installed.bundle_id
            and msi_events.product_code = installed.product_code
    where
        msi_events.event_id in (1907, 1908, 1924)
        and coalesce(msi_events.product_code, '') <> ''
        and (
            installed.installed_at is null
            or installed.installed_at < msi_events.ts_utc
        )
),

tracking_failures as (
    select
        bundle_id,
        tracked_at as msi_failed_at,
        product_code as msi_product_code,
        null::uinteger as msi_error_code,
        'ESPTrackingInfo ' || tracking_state as msi_source,
        null::bigint as msi_record_id
    from msi_states
    where
        tracking_state in ('enforcement_failed', 'download_failed')
        and bundle_id not in (
            select event_failures.bundle_id from event_failures
        )
),

stacked as (
    select * from event_failures
    union all
    select * from tracking_failures
),

final as (
    select
        stacked.bundle_id,
        stacked.msi_failed_at,
        stacked.msi_product_code,
        stacked.msi_error_code,
        stacked.msi_source,
        stacked.msi_record_id,
        msi_states.tracking_state as msi_tracking_state,
        count(*) over (partition by stacked.bundle_id) as n_msi_failures
    from stacked
    left join msi_states
        on
            stacked.bundle_id = msi_states.bundle_id
            and stacked.msi_product_code = msi_states.product_code
    qualify
        row_number() over (
            partition by stacked.bundle_id
            order by stacked.msi_failed_at nulls last, stacked.msi_record_id
        ) = 1
)

select * from final
