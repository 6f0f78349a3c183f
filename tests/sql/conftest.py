"""SQL tests: the staging layer replaced by given rows, the views above it real."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from espfleet.parsers.schema import warehouse_schema
from espfleet.warehouse import create_views, sql_views

STAGING = {
    "stg_ingest__bundles": "bundles",
    "stg_ingest__members": "members",
    "stg_cmtrace__entries": "cm_log_entries",
    "stg_events__events": "events",
    "stg_registry__values": "registry_values",
    "stg_esp__events": "esp_events",
    "stg_esp__tracking": "esp_tracking",
    "stg_ccmsetup__runs": "ccmsetup_runs",
    "stg_smsts__steps": "ts_steps",
    "stg_smsts__runs": "ts_runs",
}


@pytest.fixture
def duck():
    """In-memory DuckDB with empty staging tables and every view above them."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for view, table in STAGING.items():
        schema = warehouse_schema(table).append(pa.field("ingest_date", pa.date32()))
        empty = schema.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f'create table "{view}" as select * from empty')
    create_views(con, [(n, s) for n, s in sql_views() if not n.startswith("stg_")])
    yield con
    con.close()


def given(con: duckdb.DuckDBPyConnection, view: str, rows: list[dict]) -> None:
    """Insert `rows` (missing columns null) into a staging table."""
    schema = warehouse_schema(STAGING[view]).append(
        pa.field("ingest_date", pa.date32())
    )
    full = [
        {f.name: r.get(f.name) for f in schema} | {"ingest_run_id": "r1"} for r in rows
    ]
    for r in full:
        r.setdefault("member", "m")
        if r["member"] is None:
            r["member"] = "m"
    rows_table = pa.Table.from_pylist(full, schema=schema)  # noqa: F841
    con.execute(f'insert into "{view}" select * from rows_table')
