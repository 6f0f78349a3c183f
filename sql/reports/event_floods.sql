-- one row per burst of one event kind in one bundle: at least 50 events of
-- the same channel and event id, each within 10 s of the previous (a real
-- ModernDeployment channel logged 1,666 x event 1005 in 5 s). The bursts are
-- found on the narrow columns (the windows sort every event: carrying the
-- payloads through them made this view a minute's work at 6 million events);
-- the payloads are read back for the few events inside a burst.
with

times as (
    select
        bundle_id,
        channel,
        event_id,
        ts_utc
    from stg_events__events
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
    from times
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

spans as (
    select
        bundle_id,
        channel,
        event_id,
        min(ts_utc) as first_ts_utc,
        max(ts_utc) as last_ts_utc,
        count(*) as events
    from numbered
    group by bundle_id, channel, event_id, burst_no
    having count(*) >= 50
),

-- bursts of one kind never overlap (a burst ends only on a gap over 10 s), so
-- an event of that kind between a burst's first and last is one of its events
final as (
    select
        spans.bundle_id,
        spans.channel,
        spans.event_id,
        spans.first_ts_utc,
        spans.last_ts_utc,
        spans.events,
        count(distinct coalesce(e.event_data, e.message)) as variants,
        arg_min(coalesce(e.event_data, e.message), e.ts_utc) as sample,
        any_value(e.meaning) as meaning
    from spans
    inner join stg_events__events as e
        on
            spans.bundle_id = e.bundle_id
            and spans.channel = e.channel
            and spans.event_id = e.event_id
            and e.ts_utc between spans.first_ts_utc and spans.last_ts_utc
    group by
        spans.bundle_id,
        spans.channel,
        spans.event_id,
        spans.first_ts_utc,
        spans.last_ts_utc,
        spans.events
)

select * from final
