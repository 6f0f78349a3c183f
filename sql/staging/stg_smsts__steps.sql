-- one row per executed task-sequence step
select * from latest_rows('ts_steps')
