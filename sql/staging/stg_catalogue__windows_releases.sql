-- one row per Windows build of the release table espfleet ships
select * from reference_rows('windows_releases')
