-- is_failure(outcome): whether a device_outcomes.outcome counts as a failure in
-- the fleet reports. Listed are the outcomes that do not; any other value,
-- including outcomes a later diagnosis adds, counts as one.
create or replace macro is_failure(outcome) as
outcome not in (
    'succeeded', 'succeeded_on_retry', 'unknown', 'in_progress', 'not_attempted'
)
