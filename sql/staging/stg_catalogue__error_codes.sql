-- one row per error code of the catalogue espfleet ships
select * from reference_rows('error_codes')
