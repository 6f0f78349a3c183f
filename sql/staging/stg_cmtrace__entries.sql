-- one row per CMTrace or SMS-trace log record
select * from latest_rows('cm_log_entries')
