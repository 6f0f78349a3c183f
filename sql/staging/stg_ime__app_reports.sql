-- one row per Win32 app result the IME reported
select * from latest_rows('ime_app_reports')
