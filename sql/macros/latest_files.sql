-- latest_batches_of(manifest): for each bundle, the batch that last ingested
-- it (or quarantined it), as the warehouse's folder `manifest` says (always
-- 'manifest': a macro with no parameter is bound when it is created, which
-- fails where no manifest exists yet). Columns: bundle_id, batch_file
-- (<run>-<batch>, the manifest file's name without folder or extension).
-- latest_files_of(table_name): for each bundle with rows in one warehouse
-- table, the file its rows are read from: the file of that batch. Columns:
-- bundle_id, file (the file's name without folder or extension).
--
-- The manifest decides, for every table at once: a batch writes its
-- manifest/<run>-<batch>.parquet last, with a row per bundle it saw, so only
-- committed batches count, and what a killed or failed batch left is never
-- seen, before or after the next run sweeps it (espfleet.runs.sweep). Of the
-- batches that ingested a bundle (or quarantined it), the latest run's wins;
-- two batches of one run (two copies of a bundle on a share, in parallel
-- batches) go by batch name. A table the winning batch wrote no rows to has
-- none of the bundle's: a bundle ingested again (`--reprocess`) by a parser
-- that no longer finds rows there keeps none of the earlier run's. The batch's
-- file is <run>-<batch>.parquet, or one of its parts
-- <run>-<batch>.partNNN.parquet (espfleet.runids.part_name; a bundle's rows
-- are in one part).
--
-- `espfleet refresh` (espfleet/database.py, `choose_latest_files`) keeps
-- latest_batches_of('manifest') in the table latest_batches, once, then
-- latest_files_of() for each table in the table latest_files (of_table,
-- bundle_id, file), which latest_rows() reads. It reads the (bundle, file)
-- pairs, not a window over every row, which held the whole table in memory
-- and ran out of it.
create or replace macro latest_batches_of(manifest) as table
    select
        bundle_id,
        first(
            parse_filename(filename, true)
            order by ingest_run_id desc, parse_filename(filename, true) asc
        ) as batch_file
    from
        read_parquet(
            warehouse_root() || '/' || manifest || '/*.parquet',  -- noqa: RF02
            filename = true,
            union_by_name = true
        )
    where status in ('ingested', 'quarantined')
    group by bundle_id;

create or replace macro latest_files_of(table_name) as table
    with
    files as (
        select distinct
            bundle_id,
            parse_filename(filename, true) as file
        from file_rows(table_name)
    )

    select
        files.bundle_id,
        min(files.file) as file
    from files
    inner join latest_batches as latest
        on
            files.bundle_id = latest.bundle_id
            and regexp_replace(files.file, '[.]part[0-9]+$', '')
            = latest.batch_file
    group by files.bundle_id
