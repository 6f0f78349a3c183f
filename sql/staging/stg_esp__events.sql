-- one row per Shell-Core 62407 CommercialOOBE_* event (or free-text
-- 'BootstrapStatus: ...' Name), split into area, phase, subcategory and outcome
select
    *,
    lower(name) as name_key
from latest_rows('esp_events')
