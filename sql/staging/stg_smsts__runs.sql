-- one row per task-sequence run
with

source as (
    select *
    from read_parquet(
        'parquet/ts_runs/*/*.parquet',
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
        run_no,
        package_id,
        started_at,
        ended_at,
        duration_s,
        outcome,
        engine_code,
        failed_step,
        error_code,
        error_code_hex,
        esp_timeout_min,
        ran_past_esp_timeout,
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
