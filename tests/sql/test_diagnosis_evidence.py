"""Given staging rows, device_outcomes reads the MSI app installs of the MDM
(DeviceManagement-Enterprise-Diagnostics-Provider/Admin 1905-1924, with the
ESPTrackingInfo MSI states) and the automatic device registration events of User
Device Registration/Admin (304/305/306/307).

Messages and IDs are the message tables' (docs/formats.md §3.5, §3.6): 1924 is
"EnterpriseDesktopAppManagement CSP: An application install has failed. Examine the
MSI log (%1) for more details. Install command: (%2), MSI ProductCode: %3, User SID:
(%4), Result: (%5)."; 1922 "An application install has succeeded."; 304 "Automatic
registration failed at join phase."; 306 "Automatic registration Succeeded."."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.sql.conftest import given
from tests.sql.test_device_outcomes import T0, bundle, esp, start, state
from tests.sql.test_diagnosis_stages import DMEDP, SUB, UDR, event, row

PRODUCT = "{01A1A484-A75B-456A-BE98-D98D0609CDAA}"
DEVICE_SID = "S-0-0-00-0000000000-0000000000-000000000-000"
APPS_FAILED = (
    "BootstrapStatus: Subcategory ID = DeviceSetup.AppsSubcategory; state = failed."
)


def msi_event(bundle_id, minutes, event_id, code=None, product=PRODUCT):
    """A DMEDP Admin MSI event as the evtx reader stores it: the template's
    generic data names (Message1.., HexInt1), the product code among them."""
    data = {
        "Message1": r"C:\Windows\Temp\MDMAppInstaller.log",
        "Message2": f"/quiet /i {product}",
        "Message3": product,
        "Message4": DEVICE_SID,
        "HexInt1": f"0x{code or 0:08x}",
    }
    return event(bundle_id, minutes, DMEDP, event_id, code=code) | {
        "event_data": json.dumps(data)
    }


def apps_failed_in_device_setup(bundle_id):
    return [
        start(bundle_id),
        esp(bundle_id, 40, SUB + "Failed", "DeviceSetup", "failed", None, APPS_FAILED),
    ]


def device_setup_failed(duck, bundle_id, ts_app_running=False):
    """A bundle whose ESP failed in Device setup on its apps; with
    `ts_app_running`, its tracking shows the task-sequence app in progress."""
    given(duck, "stg_ingest__bundles", [bundle(bundle_id)])
    given(duck, "stg_esp__events", apps_failed_in_device_setup(bundle_id))
    if ts_app_running:
        given(
            duck,
            "stg_esp__tracking",
            [state(bundle_id, "setup_app", "Provisioning_TS", 3)],
        )


def msi_tracking(bundle_id, status, minutes=45):
    """An ESPTrackingInfo\\Diagnostics\\ExpectedMSIAppPackages snapshot value."""
    names = {60: "enforcement_failed", 70: "success", 30: "download_failed"}
    return {
        "bundle_id": bundle_id,
        "kind": "snapshot",
        "item": "ExpectedMSIAppPackages",
        "setting": "./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/"
        "%7B01A1A484-A75B-456A-BE98-D98D0609CDAA%7D/DownloadInstall",
        "value_int": status,
        "state": names[status],
        "scale": "msi_0_70",
        "snapshot_at": T0 + timedelta(minutes=minutes),
    }


def outcome_row(duck, bundle_id):
    return duck.execute(
        "select diagnosis, blocked_item, root_error_code, contradiction,"
        " evidence->>'msi_record_id'"
        " from device_outcomes where bundle_id = ?",
        [bundle_id],
    ).fetchone()


def test_an_msi_app_that_failed_in_device_setup_is_the_blocked_item(duck):
    device_setup_failed(duck, "b1", ts_app_running=True)
    given(
        duck,
        "stg_events__events",
        [msi_event("b1", 30, 1920), msi_event("b1", 35, 1924, 0x80070643)],
    )
    assert row(duck, "b1") == (
        "failed",
        "DeviceSetup",
        "DeviceSetup",
        "0x80070643",
        "msi_app_failed",
    )
    assert outcome_row(duck, "b1") == (
        f"MSI app {PRODUCT} failed (DMEDP Admin 1924) with 0x80070643",
        PRODUCT,
        "0x80070643",
        None,
        "351",
    )


def test_the_product_code_is_the_data_item_not_a_guid_inside_the_log_path(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1"), bundle("b2", "S2")])
    given(duck, "stg_esp__events", apps_failed_in_device_setup("b1"))
    given(duck, "stg_esp__events", apps_failed_in_device_setup("b2"))
    other = "{11111111-2222-3333-4444-555555555555}"
    in_path = msi_event("b1", 35, 1924, 0x80070643)
    data = json.loads(in_path["event_data"])
    data["Message1"] = f"C:\\Windows\\Temp\\{other}\\MDMAppInstaller.log"
    in_path["event_data"] = json.dumps(data)
    # a wevtutil text rendering: no EventData names, the message says it
    rendered = event("b2", 35, DMEDP, 1924, code=0x80070643) | {
        "message": "EnterpriseDesktopAppManagement CSP: An application install has"
        " failed. Examine the MSI log (C:\\Windows\\Temp\\x.log) for more details."
        f"  Install command: (/quiet /i {other}), MSI ProductCode: {PRODUCT}, User SID:"
        f" ({DEVICE_SID}), Result: (0x80070643)."
    }
    given(duck, "stg_events__events", [in_path, rendered])
    blocked = duck.execute(
        "select bundle_id, blocked_item from device_outcomes order by bundle_id"
    ).fetchall()
    assert blocked == [("b1", PRODUCT), ("b2", PRODUCT)]


def test_an_msi_app_installed_by_a_later_retry_is_not_the_cause(duck):
    device_setup_failed(duck, "b1", ts_app_running=True)
    given(
        duck,
        "stg_events__events",
        [msi_event("b1", 20, 1924, 0x80070652), msi_event("b1", 30, 1922)],
    )
    assert row(duck, "b1")[4] == "unexplained"


def test_the_first_app_to_fail_decides_between_msi_and_win32(duck):
    device_setup_failed(duck, "b1", ts_app_running=True)
    given(duck, "stg_events__events", [msi_event("b1", 36, 1924, 0x80070643)])
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
                "exit_code": 1618,
                "enforcement_state": 5000,
                "enforcement_status": "error",
            }
        ],
    )
    assert row(duck, "b1")[3:] == ("0x80070652", "win32_app_failed")


def test_a_tracking_snapshot_alone_names_the_failed_msi_app(duck):
    device_setup_failed(duck, "b1")
    given(
        duck,
        "stg_esp__tracking",
        [state("b1", "setup_app", "Provisioning_TS", 3), msi_tracking("b1", 60)],
    )
    assert row(duck, "b1")[4] == "msi_app_failed"
    assert outcome_row(duck, "b1")[:2] == (
        f"MSI app {PRODUCT} failed (ESPTrackingInfo enforcement_failed)",
        PRODUCT,
    )


def test_an_msi_failure_the_tracking_calls_success_is_a_contradiction(duck):
    device_setup_failed(duck, "b1")
    given(
        duck,
        "stg_esp__tracking",
        [state("b1", "setup_app", "Provisioning_TS", 3), msi_tracking("b1", 70)],
    )
    given(duck, "stg_events__events", [msi_event("b1", 35, 1924, 0x80070643)])
    assert outcome_row(duck, "b1")[3] == (
        "DMEDP Admin 1924 says the MSI app failed, ESPTrackingInfo says success"
    )


def test_automatic_registration_failures_are_the_entra_join_stage(duck):
    given(duck, "stg_ingest__bundles", [bundle(b, b) for b in ("b1", "b2", "b3")])
    given(
        duck,
        "stg_events__events",
        [
            event("b1", 1, UDR, 304, code=0x801C001D),
            event("b2", 1, UDR, 305, code=0x80070005),
            event("b3", 1, UDR, 307, code=0x801C001D),
        ],
    )
    assert row(duck, "b1") == (
        "failed",
        "EntraJoin",
        None,
        "0x801C001D",
        "entra_join_failed",
    )
    assert row(duck, "b2")[1:4] == ("EntraJoin", None, "0x80070005")
    assert row(duck, "b3")[1:4] == ("EntraJoin", None, "0x801C001D")


def test_a_registration_that_later_succeeded_is_not_a_failure(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_events__events",
        [event("b1", 1, UDR, 304, code=0x801C001D), event("b1", 9, UDR, 306)],
    )
    assert row(duck, "b1")[1] is None


def free(bundle_id, minutes, text, area, phase=None, subcategory=None, outcome="info"):
    """An esp_events row as the deriver writes a free-text Name (formats.md
    §3.3.10): the text is the Name and the message."""
    return esp(bundle_id, minutes, text, phase, outcome, None, text) | {
        "area": area,
        "subcategory": subcategory,
    }


def test_a_failed_pre_provisioning_run_is_unsupported_in_its_phase(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_esp__events",
        [
            free(
                "b1", 0, "BootstrapStatus: White Glove flow = true).", "BootstrapStatus"
            ),
            free(
                "b1",
                1,
                "BootstrapStatus: Starting category DevicePreparationCategory...",
                "ESPProgress",
                "DevicePreparation",
                outcome="started",
            ),
            free(
                "b1",
                20,
                "BootstrapStatus: Category DevicePreparationCategory succeeded.",
                "ESPProgress",
                "DevicePreparation",
                outcome="succeeded",
            ),
            free(
                "b1",
                70,
                "BootstrapStatus: Exiting page due to White Glove failure.",
                "ESPProgress",
                "DeviceSetup",
                "WhiteGlove",
                "failed",
            ),
        ],
    )
    assert row(duck, "b1") == (
        "unsupported",
        "DeviceSetup",
        "DeviceSetup",
        None,
        "unsupported_preprovisioning",
    )
    assert outcome_row(duck, "b1")[0] == (
        "unsupported: pre-provisioning with ConfigMgr co-management (DeviceSetup"
        " failed: BootstrapStatus: Exiting page due to White Glove failure.)"
    )


def test_free_text_try_again_opens_a_new_attempt(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    category = "BootstrapStatus: Starting category DevicePreparationCategory..."
    given(
        duck,
        "stg_esp__events",
        [
            free(
                "b1", 0, category, "ESPProgress", "DevicePreparation", None, "started"
            ),
            free(
                "b1",
                60,
                "BootstrapStatus: Category DevicePreparationCategory failed.",
                "ESPProgress",
                "DevicePreparation",
                outcome="failed",
            ),
            free(
                "b1",
                62,
                "BootstrapStatus: Try Again button selected",
                "ESPProgress",
                subcategory="TryAgain",
                outcome="started",
            ),
            free(
                "b1", 63, category, "ESPProgress", "DevicePreparation", None, "started"
            ),
            free(
                "b1",
                90,
                "BootstrapStatus: Category DeviceSetupCategory succeeded.",
                "ESPProgress",
                "DeviceSetup",
                outcome="succeeded",
            ),
        ],
    )
    assert row(duck, "b1", 1)[0:2] == ("failed", "DevicePreparation")
    assert row(duck, "b1", 2) == ("succeeded_on_retry", None, None, None, "ok")
