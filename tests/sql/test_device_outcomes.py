"""Given staging rows, device_outcomes and failure_rates follow docs/scenarios.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.sql.conftest import given

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TIMEOUT = 0x800705B4


def esp(bundle, minutes, name, phase=None, outcome=None, code=None, message="", rid=0):
    return {
        "bundle_id": bundle,
        "ts_utc": T0 + timedelta(minutes=minutes),
        "record_id": rid or int(minutes * 10) + 1,
        "name": name,
        "phase": phase,
        "outcome": outcome,
        "error_code": code,
        "message": message,
    }


def start(bundle, minutes=0):
    return esp(
        bundle,
        minutes,
        "CommercialOOBE_ESPProgress_Category_Started",
        "DevicePreparation",
        "started",
        message="BootstrapStatus: Starting category DevicePreparationCategory...",
    )


def timed_out(bundle, minutes=60):
    return esp(
        bundle,
        minutes,
        "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_TimedOut",
        "DevicePreparation",
        "timed_out",
        TIMEOUT,
    )


# InstallationState as the esp_tracking deriver decodes it (docs/formats.md §4.3).
STATES = {
    "policy_provider": {
        1: "not_installed",
        2: "not_required",
        3: "complete",
        4: "error",
    },
    "setup_app": {1: "not_installed", 2: "in_progress", 3: "complete", 4: "error"},
}


def state(bundle, kind, item, value):
    return {
        "bundle_id": bundle,
        "kind": kind,
        "item": item,
        "setting": "InstallationState",
        "value_int": value,
        "state": STATES[kind][value],
    }


def ccmsetup_run(bundle_id, return_code, started_min, ended_min, error_code=None):
    return {
        "bundle_id": bundle_id,
        "run_no": 1,
        "return_code": return_code,
        "error_code": error_code,
        "started_at": T0 + timedelta(minutes=started_min),
        "ended_at": T0 + timedelta(minutes=ended_min),
    }


def bundle(bundle_id, serial="S1"):
    return {
        "bundle_id": bundle_id,
        "status": "ingested",
        "serial_number": serial,
        "device_name": "PC-" + serial,
        "source_uri": "/share/" + bundle_id,
    }


def outcome(duck, bundle_id):
    return duck.execute(
        "select outcome, failed_phase, error_code, root_error_code, cause, attempt"
        " from device_outcomes where bundle_id = ?",
        [bundle_id],
    ).fetchone()


def test_success_needs_a_device_setup_success(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1"), bundle("b2", "S2")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp(
                "b1",
                30,
                "CommercialOOBE_ESPProgress_Category_Success",
                "DeviceSetup",
                "succeeded",
            ),
            start("b2"),
            esp("b2", 5, "CommercialOOBE_ESPProgress_Page_Exiting", None, "exiting"),
        ],
    )
    assert outcome(duck, "b1") == ("succeeded", None, None, None, "ok", 1)
    assert outcome(duck, "b2")[0] == "unknown"


def test_timeout_with_provider_not_installed_and_no_ccmsetup_means_never_ran(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(duck, "stg_esp__events", [start("b1"), timed_out("b1")])
    given(duck, "stg_esp__tracking", [state("b1", "policy_provider", "ConfigMgr", 1)])
    assert outcome(duck, "b1") == (
        "timed_out",
        "DevicePreparation",
        "0x800705B4",
        None,
        "ccmsetup_never_ran",
        1,
    )


def test_timeout_with_failed_ccmsetup_keeps_the_root_code(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(duck, "stg_esp__events", [start("b1"), timed_out("b1")])
    given(duck, "stg_esp__tracking", [state("b1", "policy_provider", "ConfigMgr", 4)])
    given(duck, "stg_ccmsetup__runs", [ccmsetup_run("b1", 6, 0, 9, 0x80004005)])
    assert outcome(duck, "b1") == (
        "timed_out",
        "DevicePreparation",
        "0x800705B4",
        "0x80004005",
        "ccmsetup_failed",
        1,
    )


def test_ccmsetup_finishing_after_the_timeout_is_too_late(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(duck, "stg_esp__events", [start("b1"), timed_out("b1")])
    given(duck, "stg_esp__tracking", [state("b1", "policy_provider", "ConfigMgr", 3)])
    given(duck, "stg_ccmsetup__runs", [ccmsetup_run("b1", 0, 40, 75)])
    assert outcome(duck, "b1")[4] == "ccmsetup_too_late"


def test_device_setup_failure_with_zero_esp_code_takes_the_step_code(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp(
                "b1",
                50,
                "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed",
                "DeviceSetup",
                "failed",
                None,
                "BootstrapStatus: Subcategory ID = DeviceSetup.AppsSubcategory; state = failed.",
            ),
        ],
    )
    given(duck, "stg_esp__tracking", [state("b1", "setup_app", "Provisioning_TS", 4)])
    given(
        duck,
        "stg_smsts__steps",
        [
            {
                "bundle_id": "b1",
                "step_no": 3,
                "name": "Install Company Portal",
                "outcome": "failed",
                "error_code": 0x80070002,
            },
        ],
    )
    got = duck.execute(
        "select error_code, cause, failing_step, diagnosis from device_outcomes"
    ).fetchone()
    assert got == (
        "0x80070002",
        "ts_step_failed",
        "Install Company Portal",
        "PROVISIONTS task sequence failed at step 'Install Company Portal' with 0x80070002",
    )


def test_task_sequence_still_running_at_timeout(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp(
                "b1",
                90,
                "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed",
                "DeviceSetup",
                "failed",
                None,  # the emitter logs the expired monitor with errorCode 0
            ),
        ],
    )
    given(duck, "stg_esp__tracking", [state("b1", "setup_app", "Provisioning_TS", 2)])
    # formats.md §3.3.2: a timeout, shown only by the TS's tracking state
    assert outcome(duck, "b1")[:3] == ("timed_out", "DeviceSetup", "0x800705B4")
    assert outcome(duck, "b1")[4] == "ts_still_running"


def test_hybrid_join_is_unsupported_before_any_ccmsetup_rule(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(duck, "stg_esp__events", [start("b1"), timed_out("b1")])
    given(
        duck,
        "stg_esp__tracking",
        [
            state("b1", "policy_provider", "ConfigMgr", 1),
            {
                "bundle_id": "b1",
                "kind": "autopilot_profile",
                "setting": "CloudAssignedDomainJoinMethod",
                "value_int": 1,
                "state": "hybrid_joined",
            },
        ],
    )
    assert outcome(duck, "b1")[0::4] == ("unsupported", "unsupported_hybrid_join")


def test_retries_are_numbered_per_serial_and_rates_count_per_day(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1"), bundle("b2"), bundle("b3", "S3")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1", 0),
            timed_out("b1", 60),
            start("b2", 300),
            esp(
                "b2",
                330,
                "CommercialOOBE_ESPProgress_Category_Success",
                "DeviceSetup",
                "succeeded",
            ),
            start("b3", 10),
            esp(
                "b3",
                40,
                "CommercialOOBE_ESPProgress_Category_Success",
                "DeviceSetup",
                "succeeded",
            ),
        ],
    )
    assert [outcome(duck, b)[5] for b in ("b1", "b2", "b3")] == [2 - 1, 2, 1]
    per_attempt = duck.execute(
        "select day::varchar, phase, error_code, attempts, devices, failures, rate"
        " from failure_rates_by_attempt"
    ).fetchall()
    assert per_attempt == [
        ("2026-11-20", "DevicePreparation", "0x800705B4", 3, 2, 1, 1 / 3)
    ]
    # Each device once a day by its latest attempt: the retry succeeded, so the
    # day has two devices and no failure.
    assert duck.execute(
        "select device_key, attempts_that_day, outcome from device_days order by 1"
    ).fetchall() == [("S1", 2, "succeeded"), ("S3", 1, "succeeded")]
    assert duck.execute("select count(*) from failure_rates").fetchone() == (0,)


def test_first_failure_event_decides_the_phase(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            timed_out("b1", 60),
            esp(
                "b1",
                60,
                "CommercialOOBE_ESPProgress_Category_Failed",
                "DevicePreparation",
                "failed",
                None,
                rid=9999,
            ),
            esp(
                "b1",
                61,
                "CommercialOOBE_ESPProgress_Category_Failed",
                "DeviceSetup",
                "failed",
            ),
        ],
    )
    assert outcome(duck, "b1")[1:3] == ("DevicePreparation", "0x800705B4")


def first_sync_timeout(bundle_id, item, minutes):
    return {
        "bundle_id": bundle_id,
        "kind": "first_sync",
        "item": item,
        "setting": "SyncFailureTimeout",
        "value_int": minutes,
        "state": f"{minutes} min",
    }


def test_esp_timeout_is_the_devices_policy_else_60_minutes(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1"), bundle("b2", "S2")])
    given(duck, "stg_esp__events", [start("b1"), start("b2")])
    given(
        duck,
        "stg_esp__tracking",
        [
            first_sync_timeout("b1", "{6E3D8E5C-0001}", 90),
            # a user's FirstSync twin does not set the device's timeout
            first_sync_timeout("b1", "{6E3D8E5C-0001}\\S-1-12-1-1", 30),
            first_sync_timeout("b2", "{6E3D8E5C-0002}\\S-1-12-1-1", 45),
        ],
    )
    timeouts = duck.execute(
        "select bundle_id, esp_timeout_min from device_outcomes order by bundle_id"
    ).fetchall()
    assert timeouts == [("b1", 90), ("b2", 60)]
