"""parsers/derivers/esp_tracking.py: ESP facts decoded with the scale of their key."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from espfleet.parsers import regfile, schema
from espfleet.parsers.derivers.esp_tracking import derive_esp_tracking, snapshot_time
from tests.conftest import corpus_file

DATA = Path(__file__).parents[2] / "data" / "registry"


@pytest.fixture(
    scope="module", params=["esp_keys_regedit5_utf16.reg", "esp_keys_regedit4_ansi.reg"]
)
def esp(request) -> list[dict]:
    table = regfile.parse((DATA / request.param).read_bytes()).table
    out = derive_esp_tracking(table)
    assert out.schema == schema.ESP_TRACKING
    return out.to_pylist()


def pick(rows: list[dict], kind: str, setting: str, item: str | None = None) -> dict:
    hits = [
        r
        for r in rows
        if r["kind"] == kind
        and r["setting"] == setting
        and (item is None or r["item"] == item)
    ]
    assert len(hits) == 1, (kind, setting, item, hits)
    return hits[0]


def test_policy_provider_state_1_is_not_installed(esp):
    row = pick(esp, "policy_provider", "InstallationState", "ConfigMgr")
    assert (row["value_int"], row["state"], row["scale"]) == (
        1,
        "not_installed",
        "policy_provider_1_4",
    )


def test_same_number_means_in_progress_under_setup_apps(esp):
    row = pick(esp, "setup_app", "InstallationState", "Provisioning_TS")
    assert (row["value_int"], row["state"], row["scale"]) == (
        2,
        "in_progress",
        "setup_app_1_4",
    )
    win32 = [
        r for r in esp if r["kind"] == "setup_app" and r["item"].startswith("Win32App_")
    ]
    assert [r["state"] for r in win32] == ["error"]


def test_snapshots_form_a_timeline_with_per_class_scales(esp):
    snaps = [
        (r["snapshot_at"], r["item"], r["state"], r["scale"])
        for r in esp
        if r["kind"] == "snapshot"
    ]
    assert snaps == [
        (
            datetime(2026, 11, 20, 8, 1, 12, tzinfo=UTC),
            "ExpectedPolicies",
            "processed",
            "processed_0_1",
        ),
        (
            datetime(2026, 11, 20, 8, 3, tzinfo=UTC),
            "ExpectedMSIAppPackages",
            "enforcement_failed",
            "msi_0_70",
        ),
        (
            datetime(2026, 11, 20, 8, 5, tzinfo=UTC),
            "Win32App_6b1e1f5a-0c0d-4e4f-9a9b-1c2d3e4f5a6b_1",
            "in_progress",
            "win32_1_4",
        ),
    ]


def test_first_sync_settings_decoded(esp):
    states = {r["setting"]: r["state"] for r in esp if r["kind"] == "first_sync"}
    assert states == {
        "SkipDeviceStatusPage": "shown",
        "SkipUserStatusPage": "skipped",
        "SyncFailureTimeout": "60 min",
        "BlockInStatusPage": "allow_try_again|allow_continue_anyway",
    }


def test_autopilot_profile(esp):
    assert (
        pick(esp, "autopilot_profile", "CloudAssignedDomainJoinMethod")["state"]
        == "hybrid_joined"
    )
    assert (
        pick(esp, "autopilot_profile", "CloudAssignedTenantDomain")["value_text"]
        == "contoso.onmicrosoft.com"
    )
    assert (
        pick(esp, "autopilot_profile", "IsAutopilotDisabled")["state"]
        == "autopilot_enabled"
    )
    oobe = pick(esp, "autopilot_profile", "CloudAssignedOobeConfig")["state"]
    assert (
        oobe == "SkipExpressSettings|SkipOemRegistration|SkipEula|SkipWindowsUpgradeUx"
    )


def test_os_build_and_full_build(esp):
    assert pick(esp, "os_build", "UBR")["value_int"] == 4130
    assert pick(esp, "os_build", "FullBuild")["value_text"] == "22631.4130"


def test_configmgr_client_version(esp):
    assert (
        pick(esp, "configmgr_client", "ProductVersion")["value_text"]
        == "5.00.9128.1000"
    )
    assert pick(esp, "configmgr_client", "LastValidMP")["item"] == "CCMSetup"


def test_lower_case_key_paths_match():
    reg = (
        b"[HKEY_LOCAL_MACHINE\\software\\microsoft\\windows\\autopilot\\enrollmentstatustracking"
        b"\\device\\devicepreparation\\policyproviders\\configmgr]\r\n"
        b'    "InstallationState"=DWORD:00000004\r\n'
    )
    rows = derive_esp_tracking(regfile.parse(reg).table).to_pylist()
    assert [(r["kind"], r["item"], r["state"]) for r in rows] == [
        ("policy_provider", "configmgr", "error")
    ]


@pytest.mark.parametrize("text", ["2\u00b2631", "9" * 30])
def test_a_snapshot_number_that_is_no_int64_stays_text(text):
    # Found by the fuzzer (make soak): "²" passes str.isdigit() and int() raised.
    reg = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\Autopilot\\"
        "EnrollmentStatusTracking\\ESPTrackingInfo\\Diagnostics\\Sidecar\\"
        "2026-11-20T08:05:00Z]\r\n"
        f'"CurrentBuild"="{text}"\r\n'
    ).encode("utf-16")
    (row,) = derive_esp_tracking(regfile.parse(reg).table).to_pylist()
    assert (row["kind"], row["value_int"], row["value_text"]) == (
        "snapshot",
        None,
        text,
    )


def test_snapshot_time_spellings():
    assert snapshot_time("2026-11-20T08:01:12.5Z") == datetime(
        2026, 11, 20, 8, 1, 12, 500000, tzinfo=UTC
    )
    assert snapshot_time("11/20/2026 08:01:12") == datetime(
        2026, 11, 20, 8, 1, 12, tzinfo=UTC
    )
    assert snapshot_time("LastLoggedState") is None


def test_empty_registry_gives_empty_table():
    out = derive_esp_tracking(schema.empty(schema.REGISTRY_VALUES))
    assert out.num_rows == 0 and out.schema == schema.ESP_TRACKING


def test_real_dump_first_sync_and_profile(corpus):
    raw = gzip.decompress(
        corpus_file(
            corpus, "reg/MdmDiagReport_RegistryDump_itziktdk-MyRes_2024.reg.gz"
        ).read_bytes()
    )
    rows = derive_esp_tracking(regfile.parse(raw).table).to_pylist()
    device = [r for r in rows if r["kind"] == "first_sync" and "\\" not in r["item"]]
    assert {r["setting"]: r["state"] for r in device if r["state"]} == {
        "SyncFailureTimeout": "60 min",
        "BlockInStatusPage": "allow_try_again|allow_continue_anyway",
        "SkipDeviceStatusPage": "shown",
        "SkipUserStatusPage": "skipped",
    }
    forced = pick(rows, "autopilot_profile", "CloudAssignedForcedEnrollment")
    assert (
        forced["state"] == "unknown(3000141296)"
    )  # DWORD:b2d285f0 garbage stays visible
    cache = pick(rows, "autopilot_profile", "AutopilotCreationDate", "PolicyJsonCache")
    assert cache["value_text"] == "2024-04-03T07:45:12Z"
