"""Given staging rows, the fleet report views count what their .yml says."""

from __future__ import annotations

from datetime import timedelta

from tests.sql.conftest import given
from tests.sql.test_device_outcomes import (
    T0,
    ccmsetup_run,
    esp,
    start,
    state,
    timed_out,
)

SUCCESS = "CommercialOOBE_ESPProgress_Category_Success"


def bundle(bundle_id, serial, site="US-NYC", day=0):
    return {
        "bundle_id": bundle_id,
        "status": "ingested",
        "serial_number": serial,
        "device_name": "PC-" + serial,
        "source_uri": f"/share/{site}/{bundle_id}",
        "site": site,
    }


def attempt(bundle_id, day, failed):
    """ESP events of one attempt started `day` days after T0."""
    base = day * 24 * 60
    events = [start(bundle_id, base)]
    if failed:
        events.append(timed_out(bundle_id, base + 60))
    else:
        events.append(esp(bundle_id, base + 30, SUCCESS, "DeviceSetup", "succeeded"))
    return events


def fleet(duck, plan):
    """plan: (bundle, serial, site, day, failed) per attempt."""
    given(
        duck, "stg_ingest__bundles", [bundle(b, s, site) for b, s, site, _, _ in plan]
    )
    given(
        duck,
        "stg_esp__events",
        [e for b, _, _, day, failed in plan for e in attempt(b, day, failed)],
    )


def rows(duck, sql):
    return duck.execute(sql).fetchall()


def test_night_over_night_flags_a_rise_past_the_threshold_on_enough_devices(duck):
    # Day 0: 1 of 4 devices fails; day 1: 3 of 4 fail (a rise of 50 points).
    plan = [(f"a{i}", f"S{i}", "US-NYC", 0, i == 0) for i in range(4)]
    plan += [(f"b{i}", f"S{i}", "US-NYC", 1, i < 3) for i in range(4)]
    fleet(duck, plan)
    night = "select current_start::varchar, previous_start::varchar, current_devices,"
    night += " current_failures, current_rate, previous_rate, rate_change, flagged"
    night += " from rate_deltas where period = 'night'"
    assert rows(duck, night) == [
        ("2026-11-21", "2026-11-20", 4, 3, 0.75, 0.25, 0.5, True)
    ]
    duck.execute("set variable espfleet_min_devices = 4")
    assert rows(duck, "select flagged from rate_deltas where period = 'night'") == [
        (False,)
    ]
    duck.execute("set variable espfleet_min_devices = 3")
    duck.execute("set variable espfleet_delta_threshold = 0.6")
    assert rows(duck, "select flagged from rate_deltas where period = 'night'") == [
        (False,)
    ]
    # The newly failing devices: S1 and S2 (S0 failed the night before too).
    assert rows(
        duck,
        "select device_key, day::varchar, previous_outcome"
        " from newly_failing_devices order by 1",
    ) == [("S1", "2026-11-21", "succeeded"), ("S2", "2026-11-21", "succeeded")]


def test_a_first_night_has_no_baseline_and_no_flag(duck):
    fleet(duck, [(f"a{i}", f"S{i}", "US-NYC", 0, True) for i in range(5)])
    assert rows(
        duck,
        "select period, current_failures, previous_devices, rate_change, flagged"
        " from rate_deltas order by period",
    ) == [("night", 5, 0, None, False), ("week", 5, 0, None, False)]
    assert rows(duck, "select count(*) from newly_failing_devices") == [(5,)]


def test_cohorts_count_each_device_once_by_its_latest_attempt(duck):
    plan = [
        ("a1", "S1", "US-NYC", 0, True),
        ("a2", "S1", "US-NYC", 1, False),  # S1 retried and succeeded
        ("a3", "S2", "US-NYC", 0, True),
        ("a4", "S3", "DE-FRA", 0, False),
        ("a5", "S4", "DE-FRA", 0, False),
        ("a6", "S5", "DE-FRA", 0, True),
    ]
    fleet(duck, plan)
    assert rows(
        duck,
        "select cohort_value, devices, failed_devices, failure_rate, small"
        " from cohort_failure_rates where cohort = 'site' order by 1",
    ) == [("DE-FRA", 3, 1, 1 / 3, False), ("US-NYC", 2, 1, 0.5, True)]
    # Cohorts the evidence says nothing about are one (unknown) cohort.
    assert rows(
        duck,
        "select cohort_value, devices from cohort_failure_rates where cohort = 'model'",
    ) == [("(unknown)", 5)]


def test_top_error_codes_carry_the_catalogue_meaning(duck):
    fleet(duck, [("a1", "S1", "US-NYC", 0, True), ("a2", "S2", "US-NYC", 0, True)])
    given(
        duck,
        "stg_catalogue__error_codes",
        [
            {
                "code": "0x800705B4",
                "code_u32": 0x800705B4,
                "domain": "hresult",
                "symbol": "HRESULT_FROM_WIN32(ERROR_TIMEOUT)",
                "meaning": "A wait ran out of time.",
            }
        ],
    )
    assert rows(
        duck,
        "select error_code, symbol, meaning, failed_devices, share_of_failures,"
        " failed_attempts from top_error_codes",
    ) == [
        (
            "0x800705B4",
            "HRESULT_FROM_WIN32(ERROR_TIMEOUT)",
            "A wait ran out of time.",
            2,
            1.0,
            2,
        )
    ]


def test_weekly_rates_count_each_device_once_a_week(duck):
    # T0 is Friday 2026-11-20: days 0 and 1 share a week, day 3 starts the next.
    plan = [
        ("a1", "S1", "US-NYC", 0, True),
        ("a2", "S1", "US-NYC", 1, True),
        ("a3", "S2", "US-NYC", 1, False),
        ("a4", "S1", "US-NYC", 3, False),
    ]
    fleet(duck, plan)
    assert rows(
        duck,
        "select week::varchar, devices, failures, rate from failure_rates_weekly",
    ) == [("2026-11-16", 2, 1, 0.5)]
    assert rows(
        duck,
        "select day::varchar, attempts, failures from failure_rates_by_attempt"
        " order by 1",
    ) == [("2026-11-20", 1, 1), ("2026-11-21", 2, 1)]


def test_blockers_durations_and_the_step_running_at_the_timeout(duck):
    fleet(duck, [("a1", "S1", "US-NYC", 0, True), ("a2", "S2", "US-NYC", 0, False)])
    given(
        duck,
        "stg_esp__tracking",
        [
            state("a1", "policy_provider", "ConfigMgr", 1),
            state("a1", "setup_app", "Provisioning_TS", 3),
            state("a2", "policy_provider", "ConfigMgr", 3),
        ],
    )
    given(
        duck,
        "stg_ccmsetup__runs",
        [ccmsetup_run("a1", 0, 10, 70), ccmsetup_run("a2", 0, 5, 20)],
    )
    given(
        duck,
        "stg_smsts__steps",
        [
            {
                "bundle_id": "a1",
                "step_no": 1,
                "name": "Install Apps",
                "outcome": "running",
                "started_at": T0 + timedelta(minutes=50),
            },
            {
                "bundle_id": "a2",
                "step_no": 1,
                "name": "Install Apps",
                "outcome": "succeeded",
                "started_at": T0 + timedelta(minutes=21),
                "ended_at": T0 + timedelta(minutes=25),
            },
        ],
    )
    assert rows(
        duck,
        "select kind, item, state, failed_attempts, share_of_failed_attempts"
        " from esp_blockers",
    ) == [("policy_provider", "ConfigMgr", "not_installed", 1, 1.0)]
    assert rows(
        duck,
        "select bundle_id, finished, minutes_after_esp_start, esp_timeout_min,"
        " over_timeout from durations_vs_timeout order by 1",
    ) == [("a1", True, 70.0, 60, True), ("a2", True, 20.0, 60, False)]
    assert rows(
        duck,
        "select component, attempts, finished, over_timeout from duration_summary",
    ) == [("ccmsetup", 2, 2, 1)]
    assert rows(
        duck,
        "select step_name, executions, failures, running_at_esp_timeout, p50_s"
        " from ts_step_stats",
    ) == [("Install Apps", 2, 0, 1, 240.0)]


def test_the_end_of_a_run_says_the_flags_in_words():
    from datetime import date

    from espfleet.api import flag_lines
    from espfleet.settings import RunSettings

    flags = [
        {
            "period": "night",
            "current_start": date(2026, 11, 21),
            "phase": "DevicePreparation",
            "error_code": "0x800705B4",
            "previous_rate": 0.25,
            "current_rate": 0.75,
            "current_failures": 3,
            "current_devices": 4,
        }
    ]
    newly = [
        {
            "device_name": "PC-S1",
            "device_key": "S1",
            "site": "US-NYC",
            "failed_phase": "DevicePreparation",
            "error_code": "0x800705B4",
            "cause": "ccmsetup_never_ran",
        }
    ]
    assert flag_lines(flags, newly, RunSettings(delta_threshold=0.1)) == [
        "rate flags (up 10.0 points or more on 3+ failing devices): 1",
        "  night of 2026-11-21: DevicePreparation 0x800705B4 25.0% -> 75.0% "
        "(3 of 4 devices)",
        "newly failing devices on the latest night: 1",
        "  PC-S1 (US-NYC): DevicePreparation 0x800705B4 ccmsetup_never_ran",
    ]


def test_the_dashboard_views_count_each_device_once_per_day(duck):
    # Day 0: S0 fails, S1 and S2 succeed; day 1: S0 and S1 fail, S2 succeeds.
    plan = [("a0", "S0", "US-NYC", 0, True), ("a1", "S1", "US-NYC", 0, False)]
    plan += [("a2", "S2", "DE-FRA", 0, False), ("b0", "S0", "US-NYC", 1, True)]
    plan += [("b1", "S1", "US-NYC", 1, True), ("b2", "S2", "DE-FRA", 1, False)]
    fleet(duck, plan)
    assert rows(
        duck,
        "select day::varchar, attempts, devices, failed_devices, failure_rate"
        " from daily_totals order by day",
    ) == [("2026-11-20", 3, 3, 1, 1 / 3), ("2026-11-21", 3, 3, 2, 2 / 3)]
    assert rows(
        duck,
        "select day::varchar, phase, devices, failures from phase_failure_rates"
        " order by day",
    ) == [
        ("2026-11-20", "DevicePreparation", 3, 1),
        ("2026-11-21", "DevicePreparation", 3, 2),
    ]
    assert rows(
        duck,
        "select current_devices, current_failures, previous_devices,"
        " previous_failures, round(rate_change, 4) from fleet_rate_changes"
        " where period = 'night'",
    ) == [(3, 2, 3, 1, round(1 / 3, 4))]
    # Worst first: S0 failed twice, S1 once (and newly).
    assert rows(
        duck,
        "select rank, device_key, failed_attempts, newly_failing"
        " from devices_to_chase order by rank",
    ) == [(1, "S0", 2, False), (2, "S1", 1, True)]
    assert rows(
        duck, "select phase, failed_devices, share_of_failures from phase_error_matrix"
    ) == [("DevicePreparation", 2, 1.0)]
