-- one row per device x ISO week it had an attempt: its latest attempt that
-- week (the population of failure_rates_weekly and the week-over-week deltas)
with

days as (
    select * from device_days
),

final as (
    select
        date_trunc('week', day)::date as week,
        device_key,
        bundle_id,
        day,
        failed,
        failed_phase,
        error_code
    from days
    qualify
        row_number() over (
            partition by device_key, date_trunc('week', day)
            order by day desc
        ) = 1
)

select * from final
