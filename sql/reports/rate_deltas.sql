-- one row per period kind (night, week) x failed ESP phase x error code seen
-- in the latest period or the one before: both rates, the change, and a flag
-- when the rate rose by at least the threshold on at least the minimum devices
with

params as (
    select
        coalesce(
            getvariable('espfleet_delta_threshold'), 0.05
        )::double as threshold,
        coalesce(
            getvariable('espfleet_min_devices'), 3
        )::integer as min_devices
),

scoped as (
    select * from device_periods
),

population as (
    select
        period,
        count(*) filter (where is_current) as current_devices,
        count(*) filter (where not is_current) as previous_devices
    from scoped
    group by period
),

failures as (
    select
        period,
        failed_phase as phase,
        error_code,
        any_value(current_start) as current_start,
        any_value(previous_start) as previous_start,
        count(*) filter (where is_current) as current_failures,
        count(*) filter (where not is_current) as previous_failures
    from scoped
    where failed
    group by period, failed_phase, error_code
),

rates as (
    select
        failures.*,
        population.current_devices,
        population.previous_devices,
        failures.current_failures
        / nullif(population.current_devices, 0) as current_rate,
        failures.previous_failures
        / nullif(population.previous_devices, 0) as previous_rate
    from failures
    inner join population using (period)
),

final as (
    select
        rates.period,
        rates.current_start,
        rates.previous_start,
        rates.phase,
        rates.error_code,
        rates.current_devices,
        rates.current_failures,
        coalesce(rates.current_rate, 0) as current_rate,
        rates.previous_devices,
        rates.previous_failures,
        rates.previous_rate,
        coalesce(rates.current_rate, 0) - rates.previous_rate as rate_change,
        coalesce(
            coalesce(rates.current_rate, 0) - rates.previous_rate
            >= params.threshold
            and rates.current_failures >= params.min_devices,
            false
        ) as flagged
    from rates
    cross join params
)

select * from final
