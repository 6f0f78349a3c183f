-- latest_rows(table_name): every row of one warehouse table that the latest
-- run ingesting each bundle wrote, from one file of that run: the file
-- latest_files names for the bundle (latest_files.sql says which, and that
-- only committed batches count). Every staging view reads its table through
-- it. Paths start at warehouse_root(), the warehouse folder
-- espfleet/database.py records (or the espfleet_root variable), and files
-- are matched by name, so the views answer from any working directory and
-- from a copy of the folder.
--
-- latest_files is a table of the DuckDB file, made by `espfleet refresh`:
-- the views read the batches committed when the file was last built, as the
-- derived files do (a night ends with a refresh). Before it was a table, the
-- choice was made again inside every query, from the (bundle, file) pairs of
-- a scan of the whole table: DuckDB guessed that aggregate as large as the
-- table, and with a filter on the rows (a view's where clause) it built its
-- join's hash table from the rows instead. At 10,250 real-size bundles
-- (58 million events, 560 million registry values) that ran out of its
-- 1 GB; from a table, it knows the pairs are a few thousand.
create or replace macro latest_rows(table_name) as table
    select data.* exclude (filename)  -- noqa: RF02
    from file_rows(table_name) as data  -- noqa: RF02
    semi join latest_files as chosen
        on
            chosen.of_table = table_name  -- noqa: RF02
            and data.bundle_id = chosen.bundle_id
            and parse_filename(data.filename, true) = chosen.file
