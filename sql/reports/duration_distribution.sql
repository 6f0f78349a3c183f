-- one row per component x tenth of the ESP timeout: how many attempts it
-- took that share of their device's timeout to finish (the histogram)
with

durations as (
    select * from durations_vs_timeout
    where share_of_timeout is not null
),

binned as (
    select
        component,
        least(floor(share_of_timeout * 10), 15)::integer as tenth,
        finished,
        over_timeout
    from durations
),

final as (
    select
        component,
        tenth / 10 as share_from,
        (tenth + 1) / 10 as share_to,
        count(*) as attempts,
        count(*) filter (where finished) as finished,
        count(*) filter (where over_timeout) as over_timeout
    from binned
    group by component, tenth
)

select * from final
