-- one row per burst of one event kind in one bundle: at least 50 events of
-- the same channel and event id, each within 10 s of the previous (a real
-- ModernDeployment channel logged 1,666 x event 1005 in 5 s)
with

events as (
    select * from stg_events__events
    where ts_utc is not null
),

gaps as (
    select
        *,
        case
            when
                ts_utc - lag(ts_utc) over w <= interval 10 second
                then 0
            else 1
        end as starts_burst
    from events
    window w as (partition by bundle_id, channel, event_id order by ts_utc)
),

numbered as (
    select
        *,
        sum(starts_burst) over (
            partition by bundle_id, channel, event_id order by ts_utc
            rows between unbounded preceding and current row
        ) as burst_no
    from gaps
),

bursts as (
    select
        bundle_id,
        channel,
        event_id,
        burst_no,
        min(ts_utc) as first_ts_utc,
        max(ts_utc) as last_ts_utc,
        count(*) as events,
        count(distinct coalesce(event_data, message)) as variants,
        arg_min(coalesce(event_data, message), ts_utc) as sample,
        any_value(meaning) as meaning
    from numbered
    group by bundle_id, channel, event_id, burst_no
),

final as (
    select * exclude (burst_no) from bursts
    where events >= 50
)

select * from final
