-- one row per decoded ESP tracking state, snapshot, FirstSync, Autopilot
-- profile, OS build or client-version setting
select
    *,
    lower(item) as item_key,
    lower(setting) as setting_key
from latest_rows('esp_tracking')
