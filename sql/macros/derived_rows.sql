-- derived_rows(view_name): a view espfleet computes once per refresh and keeps
-- under <warehouse>/derived/ (device_outcomes, device_days, device_weeks,
-- fleet_status).
create or replace macro derived_rows(view_name) as table
    select *
    from
        read_parquet(
            warehouse_root() || '/derived/' || view_name || '.parquet'
        )
