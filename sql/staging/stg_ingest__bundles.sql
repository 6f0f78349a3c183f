-- one row per bundle, from its latest ingest run
select
    *,
    coalesce(serial_number, device_name, bundle_id) as device_key
from latest_rows('bundles')
