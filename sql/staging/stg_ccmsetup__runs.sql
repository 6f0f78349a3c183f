-- one row per ccmsetup run (segmented by its start banner)
select * from latest_rows('ccmsetup_runs')
