-- one row per notable thing that happened to a device attempt, in UTC:
-- ESP events, ccmsetup runs, task-sequence steps, warnings and errors of
-- every log and event channel
with

esp as (
    select
        bundle_id,
        ts_utc,
        'esp' as source,
        record_id as seq,
        coalesce(phase, area) as what,
        outcome,
        name || coalesce(': ' || message, '') as detail
    from stg_esp__events
),

ccmsetup as (
    select
        bundle_id,
        started_at as ts_utc,
        'ccmsetup' as source,
        run_no as seq,
        'ccmsetup run ' || run_no as what,
        coalesce(return_meaning, 'no exit line') as outcome,
        concat_ws(
            ' ',
            'exit ' || return_code,
            error_code_hex,
            'client ' || client_version,
            'ended ' || ended_at
        ) as detail
    from stg_ccmsetup__runs
),

steps as (
    select
        bundle_id,
        started_at as ts_utc,
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
        'log:' || coalesce(log_file, member) as source,
        record_no as seq,
        component as what,
        case severity when 3 then 'error' else 'warning' end as outcome,
        left(message, 200) as detail
    from stg_cmtrace__entries
    where severity >= 2
),

event_problems as (
    select
        bundle_id,
        ts_utc,
        'event:' || channel as source,
        record_id as seq,
        channel || ' ' || event_id as what,
        case level when 1 then 'critical' when 2 then 'error' else 'warning' end
            as outcome,
        left(coalesce(meaning, event_data), 200) as detail
    from stg_events__events
    where level between 1 and 3
),

final as (
    select * from esp
    union all
    select * from ccmsetup
    union all
    select * from steps
    union all
    select * from log_problems
    union all
    select * from event_problems
)

select * from final
