-- one row per era of a bundle's timeline: a span with one clock correction
-- and one time zone
select * from latest_rows('clock_eras')
