-- file_rows(table_name): every row of every data file of one warehouse table,
-- committed or not, with its file's name (`filename`) and the Hive partition
-- (`ingest_date`). Only latest_rows() reads it, twice: a table macro is
-- expanded where it is named, so each read is a scan of its own (a CTE read
-- twice, even NOT MATERIALIZED, made the checks of a 1,000-bundle night
-- 2.6 times slower, 44 against 115 s).
create or replace macro file_rows(table_name) as table
    select *
    from
        read_parquet(
            warehouse_root() || '/parquet/' || table_name || '/*/*.parquet',  -- noqa: RF02,LT05
            hive_partitioning = true,
            union_by_name = true,
            filename = true
        )
