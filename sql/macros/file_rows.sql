-- file_rows(table_name): every row of every data file of one warehouse table,
-- committed or not, with its file's name (`filename`) and the Hive partition
-- (`ingest_date`). latest_files_of() reads it to choose each bundle's file
-- (when `espfleet refresh` builds the DuckDB file), latest_rows() to read the
-- rows of the chosen files: a table macro is expanded where it is named, so
-- each read is a scan of its own.
create or replace macro file_rows(table_name) as table
    select *
    from
        read_parquet(
            warehouse_root() || '/parquet/' || table_name || '/*/*.parquet',  -- noqa: RF02,LT05
            hive_partitioning = true,
            union_by_name = true,
            filename = true
        )
