"""Everything the dashboard shows, read from the report views (espfleet.reports).

No SQL here: each panel is a report of `reports.REPORTS` or one of the named
queries beside them. With ``mask``, every string is passed through the
warehouse's `Masker` before anything else sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa

from espfleet import reports
from espfleet.masking import Masker, bundle_names

# The daily chart's window when no --since is given.
DEFAULT_DAYS = 30
# Devices listed to chase, each with its timeline in the page.
CHASE_LIMIT = 100
# Timeline rows kept per chased device (`espfleet device` prints them all).
TIMELINE_ROWS = 150


@dataclass
class DashboardData:
    """The rows of every panel, as lists of dicts (masked when asked).

    Attributes:
        generated_at: when this export started (UTC).
        info: the `warehouse_info` row.
        first_day, last_day: the UTC days with attempts (None: no data yet).
        since: the first day of the daily charts' window.
        chase_since: the --since day the devices to chase were cut at
            (None: every device whose latest attempt failed).
        masked: identities were replaced by pseudonyms.
        chase_total: failing devices in all (the list keeps CHASE_LIMIT).
        timelines: bundle id -> its timeline rows (chased devices only).
        timeline_total: bundle id -> its timeline rows before the cut.
    """

    generated_at: datetime
    info: dict
    first_day: date | None
    last_day: date | None
    since: date | None
    masked: bool
    settings: dict = field(default_factory=dict)
    chase_since: date | None = None
    days: list[dict] = field(default_factory=list)
    phase_rates: list[dict] = field(default_factory=list)
    rate_changes: list[dict] = field(default_factory=list)
    top_codes: list[dict] = field(default_factory=list)
    matrix: list[dict] = field(default_factory=list)
    ts_steps: list[dict] = field(default_factory=list)
    blockers: list[dict] = field(default_factory=list)
    durations: list[dict] = field(default_factory=list)
    duration_summary: list[dict] = field(default_factory=list)
    cohorts: list[dict] = field(default_factory=list)
    deltas: list[dict] = field(default_factory=list)
    chase: list[dict] = field(default_factory=list)
    chase_total: int = 0
    unread_members: list[dict] = field(default_factory=list)
    parse_warnings: list[dict] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    timelines: dict[str, list[dict]] = field(default_factory=dict)
    timeline_total: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """No device attempt in the warehouse yet."""
        return self.last_day is None


def _masker(con: duckdb.DuckDBPyConnection, key: bytes) -> Masker:
    identities = reports.identities(con)
    for row in reports.quarantined(con).to_pylist():
        identities += [
            ("bundle", name) for name in bundle_names(row["source_uri"], row["site"])
        ]
    return Masker(key, identities)


def load(
    con: duckdb.DuckDBPyConnection,
    since: date | None = None,
    mask_key: bytes | None = None,
    threshold: float = reports.DEFAULT_DELTA_THRESHOLD,
    min_devices: int = reports.DEFAULT_MIN_DEVICES,
    now: datetime | None = None,
) -> DashboardData:
    """Read every panel's rows from the warehouse.

    Args:
        con: a connection on the warehouse.
        since: first UTC day of the daily charts and the devices to chase;
            default: DEFAULT_DAYS days up to the latest night.
        mask_key: the warehouse's masking key; None shows identities as they are.
        threshold, min_devices: the rate-flag rule (RunSettings).
        now: the generation time (default: now, UTC).
    """
    masker = _masker(con, mask_key) if mask_key is not None else None

    def read(name: str, start: date | None = None) -> list[dict]:
        table: pa.Table = reports.run(con, name, start, threshold, min_devices)
        if masker is not None:
            table = masker.table(table)
        return table.to_pylist()

    days = read("daily_totals")
    data = DashboardData(
        generated_at=now or datetime.now(UTC),
        info=reports.warehouse_info(con),
        first_day=days[0]["day"] if days else None,
        last_day=days[-1]["day"] if days else None,
        since=None,
        masked=masker is not None,
        settings={"threshold": threshold, "min_devices": min_devices},
    )
    data.quarantined = read("quarantined_bundles")
    data.unread_members = read("unread_members")
    data.parse_warnings = read("parse_warnings")
    if data.empty:
        return data
    assert data.last_day is not None
    data.since = since or data.last_day - timedelta(days=DEFAULT_DAYS - 1)
    data.days = [d for d in days if d["day"] >= data.since]
    data.phase_rates = read("phase_failure_rates", data.since)
    data.rate_changes = read("fleet_rate_changes")
    data.top_codes = read("top_error_codes")
    data.matrix = read("phase_error_matrix")
    data.ts_steps = read("ts_step_stats")
    data.blockers = read("esp_blockers")
    data.durations = read("duration_distribution")
    data.duration_summary = read("duration_summary")
    data.cohorts = read("cohort_failure_rates")
    data.deltas = read("rate_deltas")
    data.chase_since = since
    chase = read("devices_to_chase", since)
    data.chase_total = len(chase)
    data.chase = chase[:CHASE_LIMIT]
    _add_timelines(con, data, masker)
    return data


def _add_timelines(
    con: duckdb.DuckDBPyConnection, data: DashboardData, masker: Masker | None
) -> None:
    ids = [row["bundle_id"] for row in data.chase]
    table = reports.timelines(con, ids)
    if masker is not None:
        table = masker.table(table)
    for row in table.to_pylist():
        rows = data.timelines.setdefault(row["bundle_id"], [])
        data.timeline_total[row["bundle_id"]] = (
            data.timeline_total.get(row["bundle_id"], 0) + 1
        )
        if len(rows) < TIMELINE_ROWS:
            rows.append(row)
