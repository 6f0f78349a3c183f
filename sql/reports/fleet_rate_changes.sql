-- one row per period kind (night, week): the whole fleet's failure rate in
-- the latest period and the one before, each device once per period
with

nights as (
    select
        'night' as period,
        day as period_start,
        failed
    from device_days
),

weeks as (
    select
        'week' as period,
        week as period_start,
        failed
    from device_weeks
),

periods as (
    select * from nights
    union all
    select * from weeks
),

bounds as (
    select
        period,
        max(period_start) as current_start,
        (
            max(period_start)
            - case period when 'night' then 1 else 7 end
        ) as previous_start
    from periods
    group by period
),

counted as (
    select
        bounds.period,
        bounds.current_start,
        bounds.previous_start,
        count(*) filter (
            where periods.period_start = bounds.current_start
        ) as current_devices,
        count(*) filter (
            where
            periods.period_start = bounds.current_start
            and periods.failed
        ) as current_failures,
        count(*) filter (
            where periods.period_start = bounds.previous_start
        ) as previous_devices,
        count(*) filter (
            where
            periods.period_start = bounds.previous_start
            and periods.failed
        ) as previous_failures
    from bounds
    inner join periods on bounds.period = periods.period
    group by bounds.period, bounds.current_start, bounds.previous_start
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
