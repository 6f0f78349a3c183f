"""The fleet reports as the CLI, the flow and the dashboard ask for them.

Each report is one view of sql/reports/ read in one order; this module is the
only place that query is written, so `espfleet report`, the nightly flow's
artifact and the end-of-run summary always show the same rows.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

FAILURE_RATES_SQL = """
select * from failure_rates
where ? is null or day >= ?
order by day, failures desc, phase, error_code
"""

FAILURE_CAUSES_SQL = """
select phase, error_code, cause, failures, devices, share_of_attempts as share
from failure_causes
order by failures desc, phase, error_code, cause
"""


def failure_rates(
    con: duckdb.DuckDBPyConnection, since: date | None = None
) -> pa.Table:
    """The `failure_rates` view (day x phase x error code), from `since` on."""
    return con.sql(FAILURE_RATES_SQL, params=[since, since]).to_arrow_table()


def failure_causes(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The `failure_causes` view, most frequent first."""
    return con.sql(FAILURE_CAUSES_SQL).to_arrow_table()
