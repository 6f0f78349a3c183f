"""parsers/derivers/ime_apps.py: Win32 app results from IME log records.

The report record's layout is the real one (IntuneManagementExtension.log of
the MyRes CAB, docs/formats.md §9.1.1): one JSON array of app results after
``Reports: ``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from espfleet.parsers import cmtrace
from espfleet.parsers.base import ParseContext
from espfleet.parsers.derivers import ime_apps
from espfleet.unpack import unpack
from tests.conftest import corpus_file
from tests.parsers.derivers.cm_log import entries_from_text, record

APP = "5b6d7c1e-0a44-4f0e-9a51-1b2c3d4e5f60"


def report(app: str, state: int, code: int | None, exit_code: int | None) -> dict:
    return {
        "AppId": app,
        "InternalVersion": 1,
        "ExitCode": exit_code,
        "ComplianceStateMessage": {"ComplianceState": 4, "ErrorCode": None},
        "EnforcementStateMessage": {
            "EnforcementState": state,
            "ErrorCode": code,
            "TargetingMethod": 0,
        },
        "Info": json.dumps({"EspPhase": 2, "EspAppInstallState": 0}),
        "ApplicationName": "Contoso VPN Client",
    }


def log(*messages: str) -> str:
    return "".join(
        record(m, f"10:0{i}:00.0000000", "11-20-2026", "AppWorkload")
        for i, m in enumerate(messages)
    )


def test_error_report_gives_the_app_its_exit_code_and_hresult():
    payload = json.dumps([report(APP, 5000, -2147023293, 1603)], separators=(",", ":"))
    entries = entries_from_text(
        log(
            "[Win32App] ESP checking for Win32 apps is enabled",
            "[Win32App][ReportingCacheManager] Sending reports for user with id: "
            f"00000000-0000-0000-0000-000000000000. Reports: {payload}",
        ),
        "AppWorkload.log",
    )
    (row,) = ime_apps.derive(entries)["ime_app_reports"].to_pylist()
    assert (
        row["record_no"],
        row["app_id"],
        row["app_name"],
        row["exit_code"],
        row["enforcement_state"],
        row["enforcement_status"],
        row["error_code_hex"],
        row["esp_phase"],
    ) == (2, APP, "Contoso VPN Client", 1603, 5000, "error", "0x80070643", 2)


def test_session_payload_and_success_band():
    payload = json.dumps([report(APP, 1000, None, 0)])
    rows = ime_apps.report_rows(
        f"[Win32App] Sending results to service. session RequestPayload: {payload}"
    )
    assert [(r["enforcement_status"], r["error_code"]) for r in rows] == [
        ("succeeded", None)
    ]


def test_a_damaged_payload_gives_no_row():
    assert (
        ime_apps.report_rows(
            '[Win32App] Sending results to service. session RequestPayload: [{"AppId": '
        )
        == []
    )


def test_real_ime_log_reports(corpus):
    cab = corpus_file(corpus, "cab/MDMDiagReport_itziktdk-MyRes_2024.cab")
    members = unpack({cab.name: cab.read_bytes()})
    (name,) = [n for n in members if n.endswith("/IntuneManagementExtension.log")]
    entries = cmtrace.parse(members[name], ParseContext(name, "UTC")).table
    rows = ime_apps.derive(entries)["ime_app_reports"].to_pylist()
    assert [
        (r["app_id"], r["enforcement_state"], r["enforcement_status"], r["esp_phase"])
        for r in rows
    ] == [("4a92b9f2-0da7-4a3f-a621-c9370d5647e5", -1, None, 0)] * 2
    assert rows[0]["ts_utc"].tzinfo is not None and rows[0]["ts_utc"] > datetime(
        2024, 4, 1, tzinfo=UTC
    )


def test_numbers_json_allows_but_no_column_holds_are_null():
    # Python's JSON reader takes NaN, Infinity and 20-digit integers: each used
    # to raise (ValueError, OverflowError) and lose the IME log's reports.
    message = (
        "[Win32App] Sending results to service. session RequestPayload: "
        '[{"AppId":"a","ExitCode":99999999999999999999,'
        '"EnforcementStateMessage":"{\\"EnforcementState\\":1e300,\\"ErrorCode\\":NaN}",'
        '"Info":{"EspPhase":Infinity}}]'
    )
    (row,) = ime_apps.report_rows(message)
    assert (row["app_id"], row["exit_code"], row["enforcement_state"]) == (
        "a",
        None,
        None,
    )
    assert (row["error_code"], row["esp_phase"]) == (None, None)
