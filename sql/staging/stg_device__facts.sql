-- one row per statement an identity file of a bundle makes about its device
select * from latest_rows('device_facts')
