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
--
-- The file is chosen per bundle from (bundle, file) pairs, a few thousand,
-- and the rows are then kept by a join on them: a window over every row
-- (tens of millions of registry values at a thousand real bundles) held the
-- whole table in memory and ran out of it. The table is read twice, through
-- file_rows() (a CTE read twice is slower: see file_rows.sql). The file is
-- an ordered aggregate, not a window, which reserves memory of its own in
-- every view that reads the macro (a query over all of them ran out of it).
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

    files as (
        select
            bundle_id,
            filename,
            max(ingest_run_id) as ingest_run_id
        from file_rows(table_name)
        group by bundle_id, filename
    ),

    chosen as (
        select
            files.bundle_id,
            first(
                files.filename
                order by files.ingest_run_id desc, files.filename asc
            ) as filename
        from files
        semi join committed
            on
                regexp_replace(
                    parse_filename(files.filename, true), '[.]part[0-9]+$', ''
                ) = committed.batch_file
        group by files.bundle_id
    )

    select data.* exclude (filename)  -- noqa: RF02
    from file_rows(table_name) as data  -- noqa: RF02
    semi join chosen
        on data.bundle_id = chosen.bundle_id and data.filename = chosen.filename
