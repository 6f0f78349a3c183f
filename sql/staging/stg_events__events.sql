-- one row per event record of any channel (.evtx, exported XML or text)
select
    *,
    lower(channel) as channel_key,
    lower(provider) as provider_key
from latest_rows('events')
