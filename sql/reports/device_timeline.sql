-- one row per notable thing that happened to a device attempt, in corrected
-- UTC beside the raw time: ESP events, ccmsetup runs, task-sequence steps,
-- warnings and errors of every log, setup log and event channel, zone
-- changes, and one row where each era of the bundle's clock begins
with

esp as (
    select
        bundle_id,
        ts_utc,
        null::timestamp as ts_local,
        clock_offset_s,
        clock_era,
        ts_confidence,
        'esp' as source,
        record_id as seq,
        concat_ws(' / ', coalesce(phase, area), subcategory) as what,
        outcome,
        name || coalesce(': ' || message, '') as detail
    from stg_esp__events
),

ccmsetup as (
    select
        bundle_id,
        started_at as ts_utc,
        started_local as ts_local,
        clock_offset_s,
        clock_era,
        ts_confidence,
        'ccmsetup' as source,
        run_no as seq,
        'ccmsetup run ' || run_no as what,
        coalesce(return_meaning, 'no exit line') as outcome,
        concat_ws(
            ' ',
            'exit ' || return_code,
            error_code_hex,
            'client ' || client_version,
            'ended ' || strftime(ended_at at time zone 'UTC', '%H:%M:%S')
        ) as detail
    from stg_ccmsetup__runs
),

steps as (
    select
        bundle_id,
        started_at as ts_utc,
        null::timestamp as ts_local,
        clock_offset_s,
        clock_era,
        null as ts_confidence,
        'smsts' as source,
        step_no as seq,
        coalesce(group_name || ' / ', '') || name as what,
        outcome,
        concat_ws(' ', 'exit ' || exit_code, error_code_hex) as detail
    from stg_smsts__steps
),

log_problems as (
    select
        bundle_id,
        ts_utc,
        ts_local,
        clock_offset_s,
        clock_era,
        ts_confidence,
        'log:' || coalesce(log_file, member) as source,
        record_no as seq,
        component as what,
        case severity when 3 then 'error' else 'warning' end as outcome,
        left(message, 200) as detail
    from stg_cmtrace__entries
    where severity >= 2
),

setup_lines as (
    select
        bundle_id,
        ts_utc,
        ts_local,
        clock_offset_s,
        clock_era,
        ts_confidence,
        'setup:' || regexp_extract(member, '[^/]*$') as source,
        line_no as seq,
        coalesce(process, component, '') as what,
        case
            when zone_set is not null then 'zone set'
            else lower(level)
        end as outcome,
        left(message, 200) as detail
    from stg_setup__entries
    where level != 'Info' or zone_set is not null
),

event_problems as (
    select
        bundle_id,
        ts_utc,
        null::timestamp as ts_local,
        clock_offset_s,
        clock_era,
        ts_confidence,
        'event:' || channel as source,
        record_id as seq,
        'event ' || event_id as what,
        case level when 1 then 'critical' when 2 then 'error' else 'warning' end
            as outcome,
        left(coalesce(meaning, event_data), 200) as detail
    from stg_events__events
    where level between 1 and 3
),

records as (
    select * from esp
    union all
    select * from ccmsetup
    union all
    select * from steps
    union all
    select * from log_problems
    union all
    select * from setup_lines
    union all
    select * from event_problems
),

first_record as (
    select
        bundle_id,
        min(ts_utc) as first_at
    from records
    group by bundle_id
),

eras as (
    select
        stg_clock__eras.bundle_id,
        coalesce(stg_clock__eras.started_at, first_record.first_at) as ts_utc,
        null::timestamp as ts_local,
        stg_clock__eras.clock_offset_s,
        stg_clock__eras.era_no as clock_era,
        null as ts_confidence,
        'clock' as source,
        stg_clock__eras.era_no as seq,
        'era ' || stg_clock__eras.era_no as what,
        stg_clock__eras.opened_by as outcome,
        stg_clock__eras.evidence as detail
    from stg_clock__eras
    left join first_record using (bundle_id)
    -- a bundle with one era and no correction has nothing to mark
    where
        stg_clock__eras.era_no > 0
        or exists (
            select 1 from stg_clock__eras as later
            where
                later.bundle_id = stg_clock__eras.bundle_id
                and later.era_no > 0
        )
),

attempts as (
    select
        bundle_id,
        started_at
    from fct_esp_attempts
),

final as (
    select
        all_rows.bundle_id,
        all_rows.ts_utc,
        all_rows.ts_utc - to_microseconds(
            (coalesce(all_rows.clock_offset_s, 0) * 1e6)::bigint
        ) as ts_device_utc,
        all_rows.ts_local,
        all_rows.clock_offset_s,
        all_rows.clock_era,
        all_rows.ts_confidence,
        (epoch(all_rows.ts_utc) - epoch(attempts.started_at)) / 60
            as minutes_since_start,
        all_rows.source,
        all_rows.seq,
        all_rows.what,
        all_rows.outcome,
        all_rows.detail
    from (
        select * from records
        union all
        select * from eras
    ) as all_rows
    left join attempts using (bundle_id)
)

select * from final
