-- latest_rows(table_name): every row of one warehouse table that the latest
-- run ingesting each bundle wrote, from one file of that run (two copies of a
-- bundle on a share can be ingested by two batches of one run). Every staging
-- view reads its table through it. Paths start at warehouse_root(), the
-- warehouse folder espfleet/database.py records (or the espfleet_root
-- variable), so the views answer from any working directory.
--
-- Only committed batches are read: a data file <run>-<batch>.parquet (or its
-- part <run>-<batch>.partNNN.parquet: espfleet.runids.part_name) counts
-- once manifest/<run>-<batch>.parquet exists (a batch writes its manifest
-- last), so what a killed or failed batch left is never seen, before or after
-- the next run sweeps it (espfleet.runs.sweep).
create or replace macro latest_rows(table_name) as table
    with
    committed as (
        select parse_filename(filename, true) as batch_file
        from
            read_parquet(
                warehouse_root() || '/manifest/*.parquet',
                filename = true,
                union_by_name = true
            )
        group by all
    ),

    rows_of_committed as (
        select data.*
        from
            read_parquet(
                warehouse_root() || '/parquet/' || table_name || '/*/*.parquet',  -- noqa: RF02,LT05
                hive_partitioning = true,
                union_by_name = true,
                filename = true
            ) as data
        semi join committed
            on
                regexp_replace(
                    parse_filename(data.filename, true), '[.]part[0-9]+$', ''
                ) = committed.batch_file
    )

    select * exclude (filename)
    from rows_of_committed
    qualify
        filename = first_value(filename) over (
            partition by bundle_id order by ingest_run_id desc, filename asc
        )
