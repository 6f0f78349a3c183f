-- one row per task-sequence run
select * from latest_rows('ts_runs')
