-- one row per member of a bundle (latest ingest run)
select * from latest_rows('members')
