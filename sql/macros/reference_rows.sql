-- reference_rows(table_name): a table espfleet ships and writes at each
-- refresh under <warehouse>/reference/ (the error-code catalogue), whole.
create or replace macro reference_rows(table_name) as table
    select *
    from
        read_parquet(
            warehouse_root() || '/reference/' || table_name || '.parquet'
        )
