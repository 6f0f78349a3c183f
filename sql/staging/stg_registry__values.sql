-- one row per registry value (or empty key) of a .reg export or registry dump
select
    *,
    lower(key_path) as key_path_key,
    lower(value_name) as value_name_key
from latest_rows('registry_values')
