"""The simulator's contract: ground_truth.csv and record_times.csv (docs/scenarios.md).

`ground_truth.csv` holds one row per attempt (one per bundle, two for a bundle
whose log shows Try again): what the attempt was and what the diagnosis must
find. `record_times.csv` holds the true UTC of every record of
the bundles with a clock case (`clocks.CASES`), by member and record key
(EventRecordID, record_no or line_no), so a test can check that the warehouse
stores the true instant of each one.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from . import clocks
from .scenarios import TIMEOUT, Plan

COLUMNS = (
    "bundle_path",
    "serial_number",
    "device_name",
    "attempt",
    "attempt_in_bundle",
    "started_at",
    "day",
    "scenario",
    "expected_status",
    "outcome",
    "failed_phase",
    "error_code",
    "root_error_code",
    "cause",
    "failing_step",
    "tz_name",
    "tz_bias_min",
    "os_build",
    "model",
    "client_version",
    "layout",
    "zone_source",
    "clock_case",
    "clock_skew_s",
    "clock_fixed_at",
    "zone_before",
    "zone_changed_at",
)
TIMES_COLUMNS = ("bundle_path", "member", "key", "true_utc")


def truth_rows(plans: list[Plan], paths: list[str]) -> list[dict[str, str]]:
    """Ground-truth rows; attempts numbered per serial by started_at (ingested only)."""
    rows = []
    for p, path in zip(plans, paths, strict=True):
        row = dict.fromkeys(COLUMNS, "")
        row.update(
            bundle_path=path,
            serial_number=p.serial,
            device_name=p.device_name,
            tz_name=p.tz_name,
            os_build=f"{p.build}.{p.ubr}",
            model=p.model,
            client_version=p.client_version,
            layout=p.layout,
            zone_source="cab_member_times"
            if p.clock.case == "no_zone_source"
            else "DiagnosticsFrameworkData.json",
            **clocks.truth(p.clock),
        )
        if p.damage == "truncated_cab":
            row.update(
                scenario="truncated_cab", expected_status="quarantined", zone_source=""
            )
            rows.append(row)
            continue
        for attempt in ground_truth(p):
            one = (
                row | attempt | {"scenario": p.scenario, "expected_status": "ingested"}
            )
            if p.layout == "lone_cab":
                one.update(failing_step="")  # no smsts.log: the CAB cannot name it
            rows.append(one)
    _number_attempts(rows)
    return rows


def _number_attempts(rows: list[dict[str, str]]) -> None:
    """attempt = 1, 2, ... per serial number in order of started_at."""
    by_serial: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["expected_status"] == "ingested":
            by_serial.setdefault(r["serial_number"], []).append(r)
    for group in by_serial.values():
        ordered = sorted(group, key=lambda r: (r["started_at"], r["attempt_in_bundle"]))
        for n, r in enumerate(ordered, 1):
            r["attempt"] = str(n)


_CAUSE = {  # scenario -> the cause the diagnosis names, where they differ
    "continue_anyway": "win32_app_failed",
    "try_again_ok": "retried_in_bundle",
}


def _iso_ms(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _outcome(plan: Plan) -> str:
    sc = plan.scenario
    if plan.failure_at is None:
        return "succeeded"
    if sc.startswith("unsupported"):
        return "unsupported"
    if plan.continued_at is not None:
        return "continued_past_failure"
    if plan.failure_name.endswith("_TimedOut") or sc == "ts_still_running":
        return "timed_out"
    return "failed"


def ground_truth(plan: Plan) -> list[dict[str, str]]:
    """The ground-truth rows of an ingested plan, one per attempt inside the
    bundle (docs/scenarios.md rules)."""
    sc = plan.scenario
    failed = plan.failure_at is not None
    code = plan.failure_code or (plan.root_code or 0)
    if failed and not code:
        code = TIMEOUT  # a timeout logged with errorCode 0 (docs/scenarios.md)
    text = str(code) if plan.ztd_error else f"0x{code:08X}"
    row = {
        "attempt_in_bundle": "1",
        "started_at": _iso_ms(plan.started_at),
        "day": plan.started_at.date().isoformat(),
        "outcome": _outcome(plan),
        "failed_phase": plan.failure_phase if failed else "",
        "error_code": text if failed else "",
        "root_error_code": f"0x{plan.root_code:08X}" if plan.root_code else "",
        "cause": _CAUSE.get(sc, sc),
        "failing_step": plan.failing_step,
        "tz_bias_min": str(plan.bias(plan.started_at)),
    }
    if plan.retry_start is None:
        return [row]
    retry = row | {
        "attempt_in_bundle": "2",
        "started_at": _iso_ms(plan.retry_start),
        "day": plan.retry_start.date().isoformat(),
        "outcome": "succeeded_on_retry",
        "failed_phase": "",
        "error_code": "",
        "cause": "ok",
        "tz_bias_min": str(plan.bias(plan.retry_start)),
    }
    return [row, retry]


def times_rows(plans: list[Plan], paths: list[str]) -> list[dict[str, str]]:
    """The true UTC of every record of the bundles with a clock case."""
    rows = []
    for p, path in zip(plans, paths, strict=True):
        for member, key, at in p.clock.times:
            rows.append(
                {
                    "bundle_path": path,
                    "member": f"{p.cab_name}/{member}",
                    "key": str(key),
                    "true_utc": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            )
    return rows


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
