-- one row per cohort (OS build, model, manufacturer, ConfigMgr client
-- version, Autopilot profile, site) x value: devices and how many fail
with

fleet as (
    select * from fleet_status
),

params as (
    select
        coalesce(
            getvariable('espfleet_min_devices'), 3
        )::integer as min_devices
),

cohorts as (
    unpivot (
        select
            device_key,
            failed,
            coalesce(os_build, '(unknown)') as os_build,
            coalesce(model, '(unknown)') as model,
            coalesce(manufacturer, '(unknown)') as manufacturer,
            coalesce(client_version, '(unknown)') as client_version,
            coalesce(deployment_profile, '(unknown)') as autopilot_profile,
            coalesce(site, '(unknown)') as site
        from fleet
    )
    on os_build, model, manufacturer, client_version, autopilot_profile, site
    into name cohort value cohort_value
),

grouped as (
    select
        cohort,
        cohort_value,
        count(*) as devices,
        count(*) filter (where failed) as failed_devices
    from cohorts
    group by cohort, cohort_value
),

final as (
    select
        grouped.cohort,
        grouped.cohort_value,
        grouped.devices,
        grouped.failed_devices,
        grouped.failed_devices / grouped.devices as failure_rate,
        grouped.devices / sum(grouped.devices) over (
            partition by grouped.cohort
        ) as share_of_fleet,
        grouped.devices < params.min_devices as small
    from grouped
    cross join params
)

select * from final
