-- one row per line of a Windows setup log (setupact.log, setuperr.log)
select
    *,
    lower(component) as component_key,
    lower(process) as process_key
from latest_rows('setup_log_entries')
