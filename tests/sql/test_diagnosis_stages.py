"""Given staging rows, device_outcomes names the stage, outcome and attempt
(docs/scenarios.md "Stages", "Outcomes", "Attempts inside a bundle").

Event names and messages are the emitters' (docs/formats.md §3.3.1-§3.3.9)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.sql.conftest import given
from tests.sql.test_device_outcomes import T0, bundle, esp, start, state, timed_out

SHELL_CORE = "Microsoft-Windows-Shell-Core/Operational"
AUTOPILOT = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot"
DMEDP = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
UDR = "Microsoft-Windows-User Device Registration/Admin"
CAT = "CommercialOOBE_ESPProgress_Category_"
SUB = "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_"


def event(bundle_id, minutes, channel, event_id, name=None, code=None, rid=0):
    return {
        "bundle_id": bundle_id,
        "ts_utc": T0 + timedelta(minutes=minutes),
        "record_id": rid or int(minutes * 10) + 1,
        "channel": channel,
        "event_id": event_id,
        "name": name,
        "error_code": code,
    }


def shell(bundle_id, minutes, name, code=None):
    return event(bundle_id, minutes, SHELL_CORE, 62407, name, code)


def row(duck, bundle_id, attempt_in_bundle=1):
    return duck.execute(
        "select outcome, failed_phase, esp_phase, error_code, cause"
        " from device_outcomes where bundle_id = ? and attempt_in_bundle = ?",
        [bundle_id, attempt_in_bundle],
    ).fetchone()


def diagnosis(duck, bundle_id):
    return duck.execute(
        "select diagnosis from device_outcomes where bundle_id = ?", [bundle_id]
    ).fetchone()[0]


@pytest.mark.parametrize(
    ("channel", "event_id", "name", "code", "stage", "cause"),
    [
        (
            SHELL_CORE,
            62407,
            "UnifiedEnrollment_AddMdm_Discovery_FindDiscoveryService_Failed",
            0x80192EE7,
            "MdmEnrollment",
            "mdm_enrollment_failed",
        ),
        (DMEDP, 71, None, 0x80180014, "MdmEnrollment", "mdm_enrollment_failed"),
        (DMEDP, 76, None, 0x8018002B, "MdmEnrollment", "mdm_enrollment_failed"),
        (SHELL_CORE, 62407, "CDJUIError", 0x801C0003, "EntraJoin", "entra_join_failed"),
        (UDR, 304, None, 0x801C03F3, "EntraJoin", "entra_join_failed"),
        (
            SHELL_CORE,
            62407,
            "OobeNetworkLogging_NullConnectionProfile",
            None,
            "Network",
            "no_network",
        ),
        (AUTOPILOT, 908, None, None, "AutopilotProfile", "autopilot_profile_failed"),
        (AUTOPILOT, 171, None, 0x80090016, "TpmAttestation", "tpm_attestation_failed"),
    ],
)
def test_a_failure_before_the_esp_names_its_stage(
    duck, channel, event_id, name, code, stage, cause
):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(duck, "stg_events__events", [event("b1", 1, channel, event_id, name, code)])
    expected_code = None if code is None else f"0x{code:08X}"
    assert row(duck, "b1") == ("failed", stage, None, expected_code, cause)


def test_the_first_failure_before_the_esp_decides(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_events__events",
        [
            shell(
                "b1",
                2,
                "UnifiedEnrollment_AddMdm_Discovery_DiscoverEndpoints_Failed",
                0x80190194,
            ),
            shell(
                "b1",
                1,
                "UnifiedEnrollment_AddMdm_Discovery_FindDiscoveryService_Failed",
                0x80192EE7,
            ),
        ],
    )
    assert row(duck, "b1")[3] == "0x80192EE7"


def test_a_failure_before_the_esp_is_superseded_by_an_esp_run(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(duck, "stg_events__events", [shell("b1", -20, "CDJUIError", 0x801C0003)])
    given(
        duck,
        "stg_esp__events",
        [start("b1"), esp("b1", 30, CAT + "Success", "DeviceSetup", "succeeded")],
    )
    assert row(duck, "b1") == ("succeeded", None, None, None, "ok")


def test_ztd_file_error_code_is_the_profile_stage_with_its_published_code(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__tracking",
        [
            {
                "bundle_id": "b1",
                "kind": "autopilot_profile",
                "item": "AutopilotDDSZTDFile",
                "setting": "ErrorCode",
                "value_int": 908,
                "state": "HardwareMarkerMismatch",
                "snapshot_at": T0,
            }
        ],
    )
    assert row(duck, "b1") == (
        "failed",
        "AutopilotProfile",
        None,
        "908",
        "autopilot_profile_failed",
    )
    assert diagnosis(duck, "b1") == (
        "no Autopilot profile: ErrorCode 908 HardwareMarkerMismatch"
    )


@pytest.mark.parametrize(
    ("name", "subcategory", "outcome", "stage"),
    [
        (
            "CommercialOOBE_ESPDevicePreparation_TPMAttestation_Failed",
            "TPMAttestation",
            "failed",
            "TpmAttestation",
        ),
        (
            "CommercialOOBE_ESPDevicePreparation_TPMAttestation_TimedOut",
            "TPMAttestation",
            "timed_out",
            "TpmAttestation",
        ),
        (
            "CommercialOOBE_ESPDevicePreparation_DeviceEnrollment_WhiteGloveAadJoinError",
            "DeviceEnrollment_WhiteGloveAadJoin",
            "failed",
            "EntraJoin",
        ),
        (
            "CommercialOOBE_ESPDevicePreparation_DeviceEnrollment_WhiteGloveMdmEnrollmentError",
            "DeviceEnrollment_WhiteGloveMdmEnrollment",
            "failed",
            "MdmEnrollment",
        ),
        (
            "CommercialOOBE_ESPAccountSetup_AadRegistration_TimedOut",
            "AadRegistration",
            "timed_out",
            "EntraJoin",
        ),
    ],
)
def test_device_preparation_subcategories_map_to_their_stage(
    duck, name, subcategory, outcome, stage
):
    # formats.md §3.3.9: TPM, Entra and MDM subcategories of the ESP
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    phase = "AccountSetup" if "AccountSetup" in name else "DevicePreparation"
    failure = esp("b1", 5, name, phase, outcome, 0x80180014)
    failure["subcategory"] = subcategory
    given(duck, "stg_esp__events", [start("b1"), failure])
    got = row(duck, "b1")
    assert got[:3] == (outcome, stage, phase)
    # the self-deploying ..WhiteGlove*Error names are not pre-provisioning
    assert got[4] != "unsupported_preprovisioning"


def try_again_bundle(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            timed_out("b1", 60),
            esp("b1", 60.1, SUB + "Failed", "DevicePreparation", "failed", 0x800705B4),
            esp("b1", 60.2, CAT + "Failed", "DevicePreparation", "failed", 0x800705B4),
            esp(
                "b1",
                61,
                "CommercialOOBE_ESPProgress_ErrorButtons_Displayed",
                None,
                "error_shown",
            ),
            esp(
                "b1", 65, "CommercialOOBE_ESPProgress_TryAgain_Started", None, "started"
            ),
            esp(
                "b1",
                65.1,
                "CommercialOOBE_ESPProgress_ESPTimeOutValue_Applied",
                None,
                "info",
            ),
            start("b1", 65.2),
            esp("b1", 90, CAT + "Success", "DeviceSetup", "succeeded"),
        ],
    )
    given(duck, "stg_esp__tracking", [state("b1", "policy_provider", "ConfigMgr", 3)])


def test_try_again_then_success_is_two_attempts_and_the_latest_decides(duck):
    try_again_bundle(duck)
    assert row(duck, "b1", 1) == (
        "timed_out",
        "DevicePreparation",
        "DevicePreparation",
        "0x800705B4",
        "retried_in_bundle",
    )
    assert row(duck, "b1", 2) == ("succeeded_on_retry", None, None, None, "ok")
    attempts = duck.execute(
        "select attempt, started_at from device_outcomes order by attempt"
    ).fetchall()
    assert attempts == [(1, T0), (2, T0 + timedelta(minutes=65.2))]
    # the device's fleet status is its latest attempt: no failure that day
    assert duck.execute("select outcome, failed from device_days").fetchall() == [
        ("succeeded_on_retry", False)
    ]
    assert duck.execute("select count(*) from failure_rates").fetchone() == (0,)
    assert duck.execute(
        "select phase, error_code, attempts, failures from failure_rates_by_attempt"
    ).fetchall() == [("DevicePreparation", "0x800705B4", 2, 1)]


def test_continue_anyway_is_continued_past_failure_in_one_attempt(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    apps = (
        "BootstrapStatus: Subcategory ID = DeviceSetup.AppsSubcategory; state = failed."
    )
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp("b1", 40, SUB + "Failed", "DeviceSetup", "failed", None, apps),
            esp("b1", 41, CAT + "Failed", "DeviceSetup", "failed"),
            esp(
                "b1",
                45,
                "CommercialOOBE_ESPProgress_ContinueAnyway_Started",
                None,
                "started",
            ),
            # the user ESP page loads after the hand-off: not a new attempt
            esp(
                "b1",
                48,
                "CommercialOOBE_ESPProgress_Initialization_ResumingAfterReboot",
                None,
                "page_loaded",
            ),
            esp(
                "b1",
                48.1,
                "CommercialOOBE_ESPProgress_ESPTimeOutValue_Applied",
                None,
                "info",
            ),
            esp("b1", 48.2, CAT + "Started", "AccountSetup", "started"),
        ],
    )
    given(duck, "stg_esp__tracking", [state("b1", "setup_app", "Provisioning_TS", 4)])
    assert duck.execute("select count(*) from device_outcomes").fetchone() == (1,)
    assert row(duck, "b1") == (
        "continued_past_failure",
        "DeviceSetup",
        "DeviceSetup",
        None,
        "ts_step_failed",
    )
    assert diagnosis(duck, "b1").endswith("; the user chose Continue anyway")


def test_a_reboot_subcategory_is_not_a_failure_nor_a_new_attempt(duck):
    # formats.md §3.3.1 and §3.3.6: rebootRequiredAndTryAgain is logged _Failed
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    reboot = "BootstrapStatus: Subcategory ID = DeviceSetup.RebootCoalescing; state = rebootRequiredAndTryAgain."
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp(
                "b1", 20, SUB + "Failed", "DeviceSetup", "reboot_required", None, reboot
            ),
            esp(
                "b1",
                23,
                "CommercialOOBE_ESPProgress_Initialization_ResumingAfterReboot",
                None,
                "page_loaded",
            ),
            esp(
                "b1",
                23.1,
                "CommercialOOBE_ESPProgress_ESPTimeOutValue_Applied",
                None,
                "info",
            ),
            esp("b1", 23.2, CAT + "Started", "DeviceSetup", "started"),
            esp("b1", 40, CAT + "Success", "DeviceSetup", "succeeded"),
        ],
    )
    assert duck.execute("select count(*) from device_outcomes").fetchone() == (1,)
    assert row(duck, "b1") == ("succeeded", None, None, None, "ok")


def test_a_restart_after_a_failure_without_try_again_is_a_new_attempt(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            timed_out("b1", 60),
            esp(
                "b1",
                200,
                "CommercialOOBE_ESPProgress_Initialization_ResumingAfterReboot",
                None,
                "page_loaded",
            ),
            start("b1", 201),
        ],
    )
    assert row(duck, "b1", 1)[:2] == ("timed_out", "DevicePreparation")
    assert row(duck, "b1", 2) == ("in_progress", None, None, None, "no_esp_result")


def test_a_started_esp_with_no_result_is_in_progress(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(duck, "stg_esp__events", [start("b1")])
    assert row(duck, "b1") == ("in_progress", None, None, None, "no_esp_result")


def test_no_usable_evidence_is_unknown_with_what_was_missing(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    assert row(duck, "b1") == ("unknown", None, None, None, "no_esp_result")
    assert diagnosis(duck, "b1") == (
        "no result in the evidence: no Shell-Core Operational events; "
        "no Autopilot profile; no ESP tracking keys"
    )


def test_shell_core_without_any_deployment_is_not_attempted(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_events__events",
        [event("b1", 1, SHELL_CORE, 9707), event("b1", 2, AUTOPILOT, 100)],
    )
    assert row(duck, "b1") == (
        "not_attempted",
        None,
        None,
        None,
        "no_autopilot_deployment",
    )
    assert diagnosis(duck, "b1") == (
        "no Autopilot deployment in the evidence: no Shell-Core 62407 event; "
        "no Autopilot profile (ModernDeployment 100: policy not found); "
        "no ESP tracking keys"
    )


def test_contradicting_evidence_is_reported_not_resolved(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [start("b1"), esp("b1", 30, CAT + "Success", "DeviceSetup", "succeeded")],
    )
    given(duck, "stg_esp__tracking", [state("b1", "setup_app", "Provisioning_TS", 4)])
    assert row(duck, "b1")[0] == "succeeded"
    assert diagnosis(duck, "b1") == (
        "ESP completed; contradicting evidence: Shell-Core says the ESP completed, "
        "the registry tracking says error (ConfigMgr provider ?, Provisioning_TS error)"
    )


def test_account_setup_failure_keeps_the_monitor_code(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp("b1", 30, CAT + "Success", "DeviceSetup", "succeeded"),
            esp(
                "b1",
                50,
                "CommercialOOBE_ESPAccountSetup_ApplicationsInstallation_Failed",
                "AccountSetup",
                "failed",
                0x80070643,
            ),
        ],
    )
    assert row(duck, "b1") == (
        "failed",
        "AccountSetup",
        "AccountSetup",
        "0x80070643",
        "account_setup_failed",
    )


def test_incomplete_is_a_failure_with_no_code(duck):
    # formats.md §3.3.4: _Incomplete is logged with errorCode 0
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp(
                "b1",
                30,
                "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Incomplete",
                "DeviceSetup",
                "incomplete",
            ),
        ],
    )
    assert row(duck, "b1")[:4] == ("failed", "DeviceSetup", "DeviceSetup", None)


def test_a_win32_app_in_error_before_the_apps_failure_is_the_cause(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    apps = (
        "BootstrapStatus: Subcategory ID = DeviceSetup.AppsSubcategory; state = failed."
    )
    given(
        duck,
        "stg_esp__events",
        [
            start("b1"),
            esp("b1", 40, SUB + "Failed", "DeviceSetup", "failed", None, apps),
        ],
    )
    given(duck, "stg_esp__tracking", [state("b1", "setup_app", "Provisioning_TS", 3)])
    given(
        duck,
        "stg_ime__app_reports",
        [
            {
                "bundle_id": "b1",
                "record_no": 7,
                "ts_utc": T0 + timedelta(minutes=35),
                "app_id": "a1",
                "app_name": "Contoso VPN Client",
                "exit_code": 1603,
                "enforcement_state": 5000,
                "enforcement_status": "error",
            }
        ],
    )
    assert row(duck, "b1") == (
        "failed",
        "DeviceSetup",
        "DeviceSetup",
        "0x80070643",
        "win32_app_failed",
    )
    got = duck.execute(
        "select diagnosis, blocked_item, root_error_code from device_outcomes"
    ).fetchone()
    assert got == (
        "Win32 app 'Contoso VPN Client' failed through the IME with exit code 1603",
        "Contoso VPN Client",
        "0x80070643",
    )
