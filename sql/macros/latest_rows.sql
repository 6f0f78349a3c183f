-- latest_rows(table_name): every row of one warehouse table that the latest
-- run ingesting each bundle wrote, from one file of that run (two copies of a
-- bundle on a share can be ingested by two batches of one run). Every staging
-- view reads its table through it. Paths start at warehouse_root(), the
-- warehouse folder espfleet/database.py records (or the espfleet_root
-- variable), so the views answer from any working directory.
create or replace macro latest_rows(table_name) as table
    select * exclude (filename)
    from
        read_parquet(
            warehouse_root() || '/parquet/' || table_name || '/*/*.parquet',
            hive_partitioning = true,
            union_by_name = true,
            filename = true
        )
    qualify
        filename = first_value(filename) over (
            partition by bundle_id order by ingest_run_id desc, filename asc
        )
