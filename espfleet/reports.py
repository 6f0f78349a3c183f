"""The fleet reports as the CLI, the flow and the dashboard ask for them.

Each report is one view of sql/reports/ read in one order; this module is the
only place those queries are written, so `espfleet report NAME`, the nightly
flow's artifacts and the end-of-run summary always show the same rows. The
thresholds of the deltas reach the views as DuckDB variables
(``espfleet_delta_threshold``, ``espfleet_min_devices``), which analysts can set
in their own sessions too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .database import quote_identifier

DEFAULT_DELTA_THRESHOLD = 0.05
DEFAULT_MIN_DEVICES = 3


@dataclass(frozen=True)
class Report:
    """One report: a view, the order its rows are shown in, how --since applies.

    Attributes:
        view: the view it reads (sql/reports/<view>.sql).
        title: what the table is called when printed.
        order_by: the columns it is sorted by (our own constant SQL).
        since: the date column ``--since`` filters on (None: not by date).
        weekly: `since` holds weeks (Mondays): ``--since`` is moved to its week.
        latest_night: without ``--since``, only the latest day with attempts.
        columns: the columns shown (our own constant SQL; ``*`` for all).
    """

    view: str
    title: str
    order_by: str
    since: str | None = None
    weekly: bool = False
    latest_night: bool = False
    columns: str = "*"


REPORTS: dict[str, Report] = {
    r.view: r
    for r in (
        Report(
            "failure_rates",
            "ESP failure rates (day x phase x error code; each device once a day)",
            "day, failures desc, phase, error_code",
            since="day",
        ),
        Report(
            "failure_rates_by_attempt",
            "ESP failure rates per attempt (day x phase x error code)",
            "day, failures desc, phase, error_code",
            since="day",
        ),
        Report(
            "failure_rates_weekly",
            "ESP failure rates by ISO week (each device once a week)",
            "week, failures desc, phase, error_code",
            since="week",
            weekly=True,
        ),
        Report(
            "failure_causes",
            "Why they failed",
            "failures desc, phase, error_code, cause",
            since="last_day",
            columns="phase, error_code, cause, failures, devices, "
            "share_of_attempts as share",
        ),
        Report(
            "top_error_codes",
            "Top error codes of the failing devices",
            "failed_devices desc, error_code",
            since="last_day",
        ),
        Report(
            "cohort_failure_rates",
            "Failure rate by cohort (each device by its latest attempt)",
            "cohort, failure_rate desc, devices desc, cohort_value",
        ),
        Report(
            "rate_deltas",
            "Night-over-night and week-over-week changes",
            "period, flagged desc, rate_change desc nulls last, phase, error_code",
        ),
        Report(
            "newly_failing_devices",
            "Newly failing devices",
            "day desc, site, device_name, device_key",
            since="day",
            latest_night=True,
        ),
        Report(
            "ts_step_stats",
            "Task-sequence steps",
            "failures desc, running_at_esp_timeout desc, step_name",
        ),
        Report(
            "duration_summary",
            "ccmsetup and task-sequence durations against the ESP timeout",
            "component",
        ),
        Report(
            "esp_blockers",
            "Apps, policies and providers the ESP was waiting for when it failed",
            "failed_attempts desc, kind, item, state",
        ),
        Report(
            "fleet_status",
            "Fleet status (each device by its latest attempt)",
            "failed desc, day desc, device_key",
            since="day",
        ),
        Report(
            "daily_totals",
            "Attempts, devices and failures per UTC day",
            "day",
            since="day",
        ),
        Report(
            "fleet_rate_changes",
            "The fleet's failure rate, night over night and week over week",
            "period",
        ),
        Report(
            "phase_failure_rates",
            "ESP failure rates by phase (day x phase; each device once a day)",
            "day, phase",
            since="day",
        ),
        Report(
            "phase_error_matrix",
            "Failing devices by phase and error code (each by its latest attempt)",
            "failed_devices desc, phase, error_code",
        ),
        Report(
            "devices_to_chase",
            "Devices to chase, worst first (latest attempt failed)",
            "rank",
            since="day",
        ),
        Report(
            "duration_distribution",
            "How much of the ESP timeout ccmsetup and the task sequence took",
            "component, share_from",
        ),
        Report(
            "parse_warnings",
            "Members read with warnings or skipped records, by parser",
            "members desc, parser",
        ),
        Report(
            "unread_members",
            "Members no parser read, by reason and kind of file",
            "members desc, reason, file_kind",
        ),
        Report(
            "quarantined_bundles",
            "Bundles quarantined, the latest first, and why",
            "ingested_at desc, bundle_id",
        ),
    )
}


class UnknownReport(KeyError):
    """A report name that is not in REPORTS."""

    def __str__(self) -> str:
        return f"no report {self.args[0]!r}; reports: {', '.join(REPORTS)}"


def set_thresholds(
    con: duckdb.DuckDBPyConnection,
    threshold: float = DEFAULT_DELTA_THRESHOLD,
    min_devices: int = DEFAULT_MIN_DEVICES,
) -> None:
    """Set the variables the delta and cohort views read."""
    con.execute(
        "set variable espfleet_delta_threshold = ?", [float(threshold)]
    ).fetchall()
    con.execute("set variable espfleet_min_devices = ?", [int(min_devices)]).fetchall()


def query(report: Report, since: date | None) -> tuple[str, list]:
    """The select of `report` from `since` on, and its parameters."""
    sql = f"select {report.columns} from {quote_identifier(report.view)}"
    params: list = []
    if report.since and since is not None:
        if report.weekly:
            since = since - timedelta(days=since.weekday())
        sql += f" where {quote_identifier(report.since)} >= ?"
        params.append(since)
    elif report.latest_night:
        sql += " where day = (select max(day) from device_days)"
    return sql + f" order by {report.order_by}", params


def run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    since: date | None = None,
    threshold: float = DEFAULT_DELTA_THRESHOLD,
    min_devices: int = DEFAULT_MIN_DEVICES,
) -> pa.Table:
    """The rows of report `name` (see REPORTS), from `since` on.

    Raises:
        UnknownReport: `name` is not a report.
    """
    if name not in REPORTS:
        raise UnknownReport(name)
    set_thresholds(con, threshold, min_devices)
    sql, params = query(REPORTS[name], since)
    return con.sql(sql, params=params).to_arrow_table()


def failure_rates(
    con: duckdb.DuckDBPyConnection, since: date | None = None
) -> pa.Table:
    """The `failure_rates` view (day x phase x error code), from `since` on."""
    return run(con, "failure_rates", since)


def failure_causes(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The `failure_causes` view, most frequent first."""
    return run(con, "failure_causes")


def rate_flags(
    con: duckdb.DuckDBPyConnection,
    threshold: float = DEFAULT_DELTA_THRESHOLD,
    min_devices: int = DEFAULT_MIN_DEVICES,
) -> pa.Table:
    """The flagged rows of `rate_deltas`: rates that rose past the threshold."""
    table = run(con, "rate_deltas", None, threshold, min_devices)
    return table.filter(pc.field("flagged"))


# -- what the dashboard and --mask read beyond REPORTS (espfleet.dashboards) ------

TIMELINES_SQL = """
select bundle_id, ts_utc, source, what, outcome, detail
from device_timeline
where bundle_id in (select unnest(?::varchar[]))
order by bundle_id, ts_utc nulls last, source, seq
"""


def quarantined(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The quarantined bundles, latest first, with their reasons."""
    return run(con, "quarantined_bundles")


def timelines(con: duckdb.DuckDBPyConnection, bundle_ids: list[str]) -> pa.Table:
    """`device_timeline` rows of `bundle_ids`, each bundle's in time order."""
    return con.sql(TIMELINES_SQL, params=[bundle_ids]).to_arrow_table()


def warehouse_info(con: duckdb.DuckDBPyConnection) -> dict:
    """The `warehouse_info` row: which espfleet built the file, and when."""
    rows = con.sql("select * from warehouse_info").to_arrow_table().to_pylist()
    return rows[0] if rows else {}


def identities(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(kind, value) of every device name, serial, user and tenant the data holds.

    Kinds: ``device``, ``serial``, ``user``, ``tenant`` (the `identities` view);
    what ``--mask`` hides. Devices and serials come first, so a value that is
    both a name and a tenant's is masked as the device it names.
    """
    rows = con.sql(
        "select kind, value from identities order by"
        " case kind when 'device' then 0 when 'serial' then 1 else 2 end, value"
    ).fetchall()
    return [(kind, value) for kind, value in rows]
