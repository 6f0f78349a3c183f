-- one row per executed task-sequence step
with

source as (
    select *
    from read_parquet(
        'parquet/ts_steps/*/*.parquet',
        hive_partitioning = true,
        union_by_name = true,
        filename = true
    )
),

final as (
    select
        bundle_id,
        member,
        ingest_run_id,
        step_no,
        name,
        group_name,
        instruction_pointer,
        action_type,
        started_at,
        ended_at,
        exit_code,
        error_code,
        error_code_hex,
        outcome,
        reboots,
        first_record_no,
        last_record_no,
        ingest_date
    from source
    -- a bundle's rows from its latest run, and from one file of it (two copies
    -- of a bundle in different batches of one run are ingested twice)
    qualify
        filename = first_value(filename) over (
            partition by bundle_id order by ingest_run_id desc, filename asc
        )
)

select * from final
