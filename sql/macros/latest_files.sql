-- latest_files_of(table_name): for each bundle with rows in one warehouse
-- table, the file its rows are read from: of the committed files holding
-- it, the one of the latest run (two copies of a bundle on a share can be
-- ingested by two batches of one run: then the first file by name). Columns:
-- bundle_id, file (the file's name without folder or extension).
--
-- Only committed batches count: a data file <run>-<batch>.parquet (or its
-- part <run>-<batch>.partNNN.parquet: espfleet.runids.part_name) counts
-- once manifest/<run>-<batch>.parquet exists (a batch writes its manifest
-- last), so what a killed or failed batch left is never seen, before or after
-- the next run sweeps it (espfleet.runs.sweep).
--
-- `espfleet refresh` (espfleet/database.py, `build`) runs it once per table
-- and keeps the answer in the table latest_files (of_table, bundle_id, file),
-- which latest_rows() reads. The file is an ordered aggregate over (bundle,
-- file) pairs, not a window over every row, which held the whole table in
-- memory and ran out of it.
create or replace macro latest_files_of(table_name) as table
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
    )

    select
        files.bundle_id,
        parse_filename(
            first(
                files.filename
                order by files.ingest_run_id desc, files.filename asc
            ),
            true
        ) as file
    from files
    semi join committed
        on
            regexp_replace(
                parse_filename(files.filename, true), '[.]part[0-9]+$', ''
            ) = committed.batch_file
    group by files.bundle_id
