-- one row per failed phase x error code among the failing devices (each by
-- its latest attempt): the heat map of where and how the fleet fails
with

fleet as (
    select * from fleet_status
    where failed
),

cells as (
    select
        coalesce(failed_phase, '(no phase)') as phase,
        error_code,
        count(*) as failed_devices
    from fleet
    group by all
),

final as (
    select
        phase,
        error_code,
        failed_devices,
        failed_devices / sum(failed_devices) over () as share_of_failures
    from cells
)

select * from final
