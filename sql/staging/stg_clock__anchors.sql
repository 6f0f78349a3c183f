-- one row per piece of time evidence in a bundle: clock corrections, zone
-- names and offsets, and what was concluded from each
select * from latest_rows('clock_anchors')
