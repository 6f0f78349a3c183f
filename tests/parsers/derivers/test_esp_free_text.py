"""Free-text ESP names: builds whose ESP page logs progress through
``sessionUtilities.logInfoEvent("BootstrapStatus: ...")`` put the text in the 62407
Name, and internalLogEvent writes the Value ``{"message":"","errorCode":0}``
(docs/formats.md §3.3.10). The texts below are the emitters' string literals
(``autopilotespprogress-vm.js``, ``mdmbootstrapsessionutilities.js``), with their
substitutions filled in."""

from __future__ import annotations

import json

from espfleet.parsers.derivers import esp_events
from tests.parsers.derivers.test_esp_events import events

EMPTY = json.dumps({"message": "", "errorCode": 0})


def derive(pairs):
    return esp_events.derive_esp_events(events(pairs)).to_pylist()


def fields(rows, *keys):
    return [tuple(r[k] for k in keys) for r in rows]


def test_a_free_text_run_splits_like_the_commercial_names():
    rows = derive(
        [
            ("BootstrapStatus: Applying the ESP Timeout value: 60 minutes.", EMPTY),
            ("BootstrapStatus: Starting category DevicePreparationCategory...", EMPTY),
            ("BootstrapStatus: Category DevicePreparationCategory succeeded.", EMPTY),
            ("BootstrapStatus: Starting category DeviceSetupCategory...", EMPTY),
            (
                "BootstrapStatus: Monitoring apps from management server failed."
                " Expected 5 items provisioned, but got only 3.",
                EMPTY,
            ),
            ("BootstrapStatus: Category DeviceSetupCategory failed.", EMPTY),
            ("BootstrapStatus: Try Again button selected", EMPTY),
            ("BootstrapStatus: The page is resuming after a reboot.", EMPTY),
            ("BootstrapStatus: Exiting page normally.", EMPTY),
        ]
    )
    assert fields(rows, "area", "phase", "subcategory", "outcome") == [
        ("ESPProgress", None, "ESPTimeOutValue", "started"),
        ("ESPProgress", "DevicePreparation", None, "started"),
        ("ESPProgress", "DevicePreparation", None, "succeeded"),
        ("ESPProgress", "DeviceSetup", None, "started"),
        ("ESPDeviceSetup", "DeviceSetup", "ApplicationsInstallation", "failed"),
        ("ESPProgress", "DeviceSetup", None, "failed"),
        ("ESPProgress", None, "TryAgain", "started"),
        ("ESPProgress", None, "Initialization", "page_loaded"),
        ("ESPProgress", None, "Page", "exiting"),
    ]
    assert rows[4]["message"].startswith("BootstrapStatus: Monitoring apps")
    assert not any(r["is_known_name"] for r in rows)


def test_a_monitor_error_takes_its_code_from_the_text():
    (row,) = derive(
        [
            (
                "BootstrapStatus: An error occured during app installation."
                " Error = 0x80070643",
                EMPTY,
            )
        ]
    )
    assert (row["outcome"], row["subcategory"], row["error_code"]) == (
        "failed",
        "ApplicationsInstallation",
        0x80070643,
    )


def test_the_subcategory_state_decides_in_free_text_too():
    (row,) = derive(
        [
            (
                "BootstrapStatus: Subcategory ID = DeviceSetup.RebootCoalescing;"
                " state = rebootRequiredAndTryAgain.",
                EMPTY,
            )
        ]
    )
    assert fields([row], "phase", "subcategory", "outcome") == [
        ("DeviceSetup", "RebootCoalescing", "reboot_required")
    ]


def test_a_white_glove_failure_takes_the_phase_the_run_last_named():
    rows = derive(
        [
            ("BootstrapStatus: White Glove flow = true).", EMPTY),
            ("BootstrapStatus: Starting category DeviceSetupCategory...", EMPTY),
            ("BootstrapStatus: Exiting page due to White Glove failure.", EMPTY),
            (
                "CommercialOOBE_ESPProgress_WhiteGlove_Failed",
                json.dumps({"message": "", "errorCode": 0}),
            ),
        ]
    )
    assert fields(rows[2:], "phase", "subcategory", "outcome") == [
        ("DeviceSetup", "WhiteGlove", "failed"),
        ("DeviceSetup", "WhiteGlove", "failed"),
    ]
    assert rows[0]["outcome"] == "info"


def test_a_white_glove_success_gets_no_phase():
    rows = derive(
        [
            ("BootstrapStatus: Starting category DeviceSetupCategory...", EMPTY),
            ("BootstrapStatus: Exiting page due to White Glove success.", EMPTY),
        ]
    )
    assert fields(rows[1:], "phase", "outcome") == [(None, "succeeded")]


def test_other_free_text_is_information():
    (row,) = derive([("BootstrapStatus: Blocking value bitmask = 0x00000007).", EMPTY)])
    assert (row["area"], row["outcome"], row["error_code"]) == (
        "BootstrapStatus",
        "info",
        None,
    )
