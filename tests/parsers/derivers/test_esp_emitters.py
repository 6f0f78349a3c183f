"""esp_events on event sequences written from Windows' CloudExperienceHost
emitters (docs/formats.md §3.3.1-§3.3.6; builds named in each test).

Each fixture is the Name / Value pair the cited JavaScript writes: Value is
``{"message": <the template, substituted>, "errorCode": <n>}`` as
``commercialDiagnosticsUtilities.logInfoEvent`` / ``logErrorEvent`` build it.
"""

from __future__ import annotations

import json

from espfleet.parsers.derivers import esp_events
from tests.parsers.derivers.test_esp_events import events

P = "CommercialOOBE_"
SUB = P + "BootstrapStatusCategory_SubcategoryProcessing_"


def value(message: str, code: int = 0) -> str:
    return json.dumps({"message": message, "errorCode": code}, separators=(",", ":"))


def derive(pairs):
    return [
        (r["outcome"], r["phase"], r["subcategory"], r["error_code"])
        for r in esp_events.derive_esp_events(events(pairs)).to_pylist()
    ]


def test_subcategory_failed_with_reboot_state_is_not_a_failure():
    # bootstrapstatuscategoryview.js updateSubcategoryTextFromActionResultsAsync:
    # the name is _Failed for every state but "succeeded" ([CXH-02d0b71e],
    # [CXH-28000], [CXH-26052]); the state text decides
    reboot = "DeviceSetup.RebootCoalescing"
    got = derive(
        [
            (
                P + "ESPDeviceSetup_RebootCoalescing_Required",
                value("BootstrapStatus: Coalesced reboot required."),
            ),
            (
                SUB + "Failed",
                value(
                    f"BootstrapStatus: Subcategory ID = {reboot}; state = rebootRequiredAndTryAgain."
                ),
            ),
            (
                SUB + "Failed",
                value(
                    "BootstrapStatus: Subcategory ID = DeviceSetup.AppsSubcategory; state = failed."
                ),
            ),
        ]
    )
    assert got == [
        ("required", "DeviceSetup", "RebootCoalescing", None),
        ("reboot_required", "DeviceSetup", "RebootCoalescing", None),
        ("failed", "DeviceSetup", "AppsSubcategory", None),
    ]


def test_policy_provider_complete_is_a_returned_wait_and_the_next_event_decides():
    # devicepreparationcategoryviewmodel.js waitForEspPolicyProviders
    # ([CXH-27898], [CXH-26052]): _Complete, then _Succeeded / _TimedOut / _Failed
    pp = P + "ESPDevicePreparation_PolicyProvidersInstallation_"
    got = derive(
        [
            (
                pp + "Complete",
                value(
                    "BootstrapStatus: waitForPolicyProviderInstallationToComplete returned, processing results..."
                ),
            ),
            (
                pp + "TimedOut",
                value(
                    "BootstrapStatus: Timed out waiting for all policy providers to provide a list of policies.",
                    2147943860,
                ),
            ),
        ]
    )
    assert got == [
        ("info", "DevicePreparation", "PolicyProvidersInstallation", None),
        ("timed_out", "DevicePreparation", "PolicyProvidersInstallation", 0x800705B4),
    ]


def test_device_enrollment_complete_is_info():
    # startDeviceAadjAndEnrollmentHelperAsync ([CXH-27898]): written before the
    # result is read, and again with the disposition
    got = derive(
        [
            (
                P + "ESPDevicePreparation_DeviceEnrollment_Complete",
                value(
                    "BootstrapStatus: Device enrollment call completed. Processing results..."
                ),
            ),
            (
                P + "ESPDevicePreparation_DeviceEnrollment_Complete",
                value("BootstrapStatus: Device enrollment results: 7, 0x00000000"),
            ),
        ]
    )
    assert [g[0] for g in got] == ["info", "info"]


def test_incomplete_is_a_failure_logged_with_error_code_zero():
    # mdmbootstrapsessionutilities.js monitorGenericSettingsAsync, expected -1
    # ([CXH-27898], [CXH-26052]): logInfoEvent(getProvisioningIncompleteEventId)
    message = (
        "BootstrapStatus: Monitoring apps from management server failed. "
        "Expected -1 items provisioned, but got only 2."
    )
    got = derive(
        [(P + "ESPDeviceSetup_ApplicationsInstallation_Incomplete", value(message))]
    )
    assert got == [("incomplete", "DeviceSetup", "ApplicationsInstallation", None)]


def test_page_exiting_and_page_loads():
    # autopilotespprogress-vm.js exitPage() and page initialisation ([CXH-27898])
    got = derive(
        [
            (
                P + "ESPProgress_Initialization_ResumingAfterReboot",
                value("BootstrapStatus: The page is resuming after a reboot."),
            ),
            (
                P + "ESPProgress_Page_Exiting",
                value("BootstrapStatus: Exiting page normally."),
            ),
        ]
    )
    assert [g[0] for g in got] == ["page_loaded", "exiting"]


def test_aad_registration_task_complete_carries_the_task_hresult():
    # accountsetupcategoryviewmodel.js waitForAadRegistrationAsync ([CXH-27982]):
    # errorCode 0 = registered, anything else is the failure
    name = P + "ESPAccountSetup_AadRegistrationTask_Complete"
    got = derive([(name, value("done", 0)), (name, value("done", 0x801C03F3))])
    assert got == [
        ("info", "AccountSetup", "AadRegistrationTask", None),
        ("failed", "AccountSetup", "AadRegistrationTask", 0x801C03F3),
    ]


def test_a_cancelled_name_keeps_its_code_for_the_build_flag():
    # bootstrapstatuscategoryview.js startActionsAsync oncancel (unreachable in
    # the builds read, §3.3.2): kept as cancelled, never as a failure
    name = P + "BootstrapStatusCategory_StartActions_Cancelled"
    got = derive([(name, value("startActionsAsync is cancelled.", 2147943623))])
    assert got == [("cancelled", None, "StartActions", 0x800704C7)]
