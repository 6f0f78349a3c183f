-- one row per period kind (night, week) x device with an attempt in the
-- latest period of that kind or in the one before: how its latest attempt
-- there went, with both periods' starts (what rate_deltas and
-- fleet_rate_changes compare)
with

nights as (
    select
        'night' as period,
        day as period_start,
        device_key,
        failed,
        failed_phase,
        error_code
    from device_days
),

weeks as (
    select
        'week' as period,
        week as period_start,
        device_key,
        failed,
        failed_phase,
        error_code
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

final as (
    select
        periods.period,
        periods.period_start,
        periods.period_start = bounds.current_start as is_current,
        bounds.current_start,
        bounds.previous_start,
        periods.device_key,
        periods.failed,
        periods.failed_phase,
        periods.error_code
    from periods
    inner join bounds
        on
            periods.period = bounds.period
            and periods.period_start
            in (bounds.current_start, bounds.previous_start)
)

select * from final
