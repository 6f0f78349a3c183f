-- one row per period kind (night, week): the whole fleet's failure rate in
-- the latest period and the one before, each device once per period
with

periods as (
    select * from device_periods
),

counted as (
    select
        period,
        current_start,
        previous_start,
        count(*) filter (where is_current) as current_devices,
        count(*) filter (where is_current and failed) as current_failures,
        count(*) filter (where not is_current) as previous_devices,
        count(*) filter (
            where not is_current and failed
        ) as previous_failures
    from periods
    group by period, current_start, previous_start
),

final as (
    select
        period,
        current_start,
        previous_start,
        current_devices,
        current_failures,
        current_failures / current_devices as current_rate,
        previous_devices,
        previous_failures,
        previous_failures / nullif(previous_devices, 0) as previous_rate,
        current_failures / current_devices
        - previous_failures / nullif(previous_devices, 0) as rate_change
    from counted
)

select * from final
