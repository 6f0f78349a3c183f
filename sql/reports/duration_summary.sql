-- one row per component (ccmsetup, task sequence): how close its finish
-- comes to the ESP timeout across the fleet
with

durations as (
    select * from durations_vs_timeout
),

final as (
    select
        component,
        count(*) as attempts,
        count(*) filter (where finished) as finished,
        quantile_cont(minutes_after_esp_start, 0.5) filter (where finished)
            as p50_min,
        quantile_cont(minutes_after_esp_start, 0.9) filter (where finished)
            as p90_min,
        max(minutes_after_esp_start) filter (where finished) as max_min,
        quantile_cont(share_of_timeout, 0.9) filter (where finished)
            as p90_share_of_timeout,
        count(*) filter (
            where finished and share_of_timeout between 0.8 and 1
        ) as within_20pct_of_timeout,
        count(*) filter (where over_timeout) as over_timeout
    from durations
    group by component
)

select * from final
