-- one row per ccmsetup run
with

source as (
    select *
    from read_parquet(
        'parquet/ccmsetup_runs/*/*.parquet',
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
        pid,
        started_at,
        ended_at,
        started_local,
        ts_confidence,
        return_code,
        return_meaning,
        error_code,
        error_code_hex,
        client_version,
        mp_host,
        used_cmg,
        provisionts,
        command_line,
        properties,
        last_msi_action,
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
