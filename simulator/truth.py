"""The simulator's contract: ground_truth.csv and record_times.csv (docs/scenarios.md).

`ground_truth.csv` holds one row per bundle: what the attempt was and what the
diagnosis must find. `record_times.csv` holds the true UTC of every record of
the bundles with a clock case (`clocks.CASES`), by member and record key
(EventRecordID, record_no or line_no), so a test can check that the warehouse
stores the true instant of each one.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from . import clocks, scenarios
from .scenarios import Plan

COLUMNS = (
    "bundle_path",
    "serial_number",
    "device_name",
    "attempt",
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
    order: dict[str, list[Plan]] = {}
    for p in plans:
        if p.damage != "truncated_cab":
            order.setdefault(p.serial, []).append(p)
    attempt: dict[int, int] = {}
    for group in order.values():
        for n, p in enumerate(sorted(group, key=lambda q: q.started_at), 1):
            attempt[id(p)] = n
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
        else:
            row.update(scenarios.ground_truth(p))
            row.update(
                scenario=p.scenario,
                expected_status="ingested",
                attempt=str(attempt[id(p)]),
            )
            if p.layout == "lone_cab":
                row.update(failing_step="")  # no smsts.log: the CAB cannot name it
        rows.append(row)
    return rows


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
