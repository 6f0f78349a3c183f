-- one row per burst of one event kind in one bundle: at least 50 events of
-- the same channel and event id, each within 10 s of the previous (a real
-- ModernDeployment channel logged 1,666 x event 1005 in 5 s). The bursts are
-- found in one sort of every event by its kind's number and its time: the
-- first and last event of each run of events within 10 s of each other are
-- marked, and each first is paired with the next last. Two windows over
-- every event on the bundle, channel and event id themselves (a gap, then a
-- running count of bursts) spilled DuckDB's 1 GB at 58 million events: 153 s
-- of the checks at 10,250 real-size bundles, where this search takes 33 s.
-- The payloads are read back for the few events inside a burst.
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

distinct_kinds as (
    select distinct
        bundle_id,
        channel,
        event_id
    from times
),

-- the join on these drops an event whose channel or event id is null, as the
-- payloads' read-back (final) always did
kinds as (
    select
        bundle_id,
        channel,
        event_id,
        row_number() over () as kind
    from distinct_kinds
),

marks as (
    select
        kinds.kind,
        times.ts_utc,
        row_number() over by_time as n,
        coalesce(
            times.ts_utc - lag(times.ts_utc) over by_time
            <= interval 10 second,
            false
        ) as joins_previous,
        coalesce(
            lead(times.ts_utc) over by_time - times.ts_utc
            <= interval 10 second,
            false
        ) as joins_next
    from times
    inner join kinds using (bundle_id, channel, event_id)
    window by_time as (partition by kinds.kind order by times.ts_utc)
),

-- the first (joins_next only) and last (joins_previous only) of every run
edges as (
    select * from marks
    where joins_previous != joins_next
),

paired as (
    select
        kind,
        joins_next as starts,
        ts_utc as first_ts_utc,
        lead(ts_utc) over by_order as last_ts_utc,
        lead(n) over by_order - n + 1 as events
    from edges
    window by_order as (partition by kind order by n)
),

spans as (
    select
        kinds.bundle_id,
        kinds.channel,
        kinds.event_id,
        paired.first_ts_utc,
        paired.last_ts_utc,
        paired.events
    from paired
    inner join kinds using (kind)
    where paired.starts and paired.events >= 50
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
