"""IME (Intune Management Extension) Win32 app results -> `ime_app_reports`.

Works on the `cm_log_entries` rows of one ``IntuneManagementExtension*.log`` or
``AppWorkload*.log`` (the IME moved Win32 app processing to AppWorkload.log in
2024). The IME reports each app's result to the service in one record,
``[Win32App][ReportingCacheManager] Sending reports for user with id: <id>.
Reports: [<JSON array>]`` (also ``[Win32App] Sending results to service.
session RequestPayload: [<JSON array>]``); each element carries ``AppId``,
``ApplicationName``, ``ExitCode``, ``EnforcementStateMessage``
(``{"EnforcementState": N, "ErrorCode": n}``) and an ``Info`` JSON text with
``EspPhase`` (docs/formats.md §9.1.1). One row per element: the app the ESP
waited for, its exit code and the HRESULT the IME reported. Pure: no I/O.

Where each column comes from (`schema.IME_APP_REPORTS` declares what it means):
    record_no, ts_utc: the record the report was logged in.
    app_id, app_name: ``AppId``, ``ApplicationName``.
    exit_code: ``ExitCode`` (the installer's process exit code).
    enforcement_state: ``EnforcementStateMessage.EnforcementState``;
        enforcement_status its band: 1000s succeeded, 2000s in_progress,
        3000s not_applicable, 4000s unknown, 5000s error (community).
    error_code, error_code_hex: ``EnforcementStateMessage.ErrorCode`` as u32.
    esp_phase: ``EspPhase`` of the ``Info`` text, as written (0 outside the ESP).
"""

from __future__ import annotations

import json
import math
import re

import pyarrow as pa
import pyarrow.compute as pc

from .. import errorcodes, schema
from ..columns import fits

_REPORTS_HEAD = (  # also an RE2 pattern: `derive_reports` picks records by it
    r"^\[Win32App\](?:\[ReportingCacheManager\] Sending reports for user with id: "
    r"[^.]*\. Reports: | Sending results to service\. session RequestPayload: )"
)
_REPORTS = re.compile(_REPORTS_HEAD + r"(\[.*\])\s*$", re.DOTALL)
STATUS_BANDS = {
    1: "succeeded",
    2: "in_progress",
    3: "not_applicable",
    4: "unknown",
    5: "error",
}

TABLES = ("ime_app_reports",)


def _as_object(value: object) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _int(value: object, type_: pa.DataType) -> int | None:
    """A JSON number as its column holds it; None for text, NaN, infinities or
    a number the column cannot hold (JSON numbers have no size limit)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return fits(int(value), type_)


def report_rows(message: str) -> list[dict]:
    """The app reports of one record's message (empty when it holds none)."""
    m = _REPORTS.match(message or "")
    if not m:
        return []
    try:
        items = json.loads(m.group(1))
    except ValueError:
        return []
    rows = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        enforcement = _as_object(item.get("EnforcementStateMessage"))
        state = _int(enforcement.get("EnforcementState"), pa.int32())
        code = _int(enforcement.get("ErrorCode"), pa.int64())
        code_u32 = code & 0xFFFFFFFF if code else None
        band = state // 1000 if state is not None and state > 0 else None
        rows.append(
            {
                "app_id": item.get("AppId"),
                "app_name": item.get("ApplicationName"),
                "exit_code": _int(item.get("ExitCode"), pa.int64()),
                "enforcement_state": state,
                "enforcement_status": STATUS_BANDS.get(band) if band else None,
                "error_code": code_u32,
                "error_code_hex": errorcodes.to_hex(code_u32),
                "esp_phase": _int(
                    _as_object(item.get("Info")).get("EspPhase"), pa.int32()
                ),
            }
        )
    return rows


def derive_reports(entries: pa.Table) -> pa.Table:
    """`ime_app_reports` rows from one IME log's `cm_log_entries`."""
    cols: dict[str, list] = {f.name: [] for f in schema.IME_APP_REPORTS}
    # Only the records that start as a report are read further, picked in
    # Arrow: a log's every message and time as Python objects cost 50 ms on a
    # real CAB's 15,593 IME records (6,622 of them [Win32App] lines).
    reports = entries.select(["record_no", "ts_utc", "message"]).filter(
        pc.match_substring_regex(entries.column("message"), _REPORTS_HEAD)
    )
    for rec, ts, message in zip(
        reports.column("record_no").to_pylist(),
        reports.column("ts_utc").to_pylist(),
        reports.column("message").to_pylist(),
        strict=True,
    ):
        for row in report_rows(message):
            row.update(record_no=rec, ts_utc=ts)
            for key, col in cols.items():
                col.append(row[key])
    return pa.table(
        [pa.array(cols[f.name], f.type) for f in schema.IME_APP_REPORTS],
        schema=schema.IME_APP_REPORTS,
    )


def derive(entries: pa.Table) -> dict[str, pa.Table]:
    """The `Derivation` entry point: one IME log's records -> its app reports."""
    return {"ime_app_reports": derive_reports(entries)}
