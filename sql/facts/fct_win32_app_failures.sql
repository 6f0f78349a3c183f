-- one row per bundle whose IME reported a Win32 app in error: the first such
-- app (the one that blocked the ESP's Apps subcategory), its exit code and code
with

reports as (
    select * from stg_ime__app_reports
),

failed as (
    select
        bundle_id,
        ts_utc as app_failed_at,
        coalesce(app_name, app_id) as failed_app,
        exit_code as app_exit_code,
        error_code as app_error_code,
        count(*) over (partition by bundle_id) as n_app_errors
    from reports
    where enforcement_status = 'error'
    qualify
        row_number() over (
            partition by bundle_id order by ts_utc, record_no
        ) = 1
),

final as (
    select * from failed
)

select * from final
