"""SQL tests: the staging layer replaced by given rows, the views above it real."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from espfleet.database import create_macros
from espfleet.quality import staging_tables
from espfleet.warehouse import (
    REFERENCE_TABLES,
    create_views,
    sql_views,
    warehouse_schema,
)

# Staging view -> the table it stages, as the .yml files in sql/staging/ say.
STAGING = staging_tables()


@pytest.fixture
def duck():
    """In-memory DuckDB with the staging views as tables and every view above."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    create_macros(con, Path("."))
    views = dict(sql_views())
    for view, table in STAGING.items():
        schema = raw_schema(table)
        empty = schema.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
        # The staging view's own select, over a table holding the given rows.
        con.execute(f'create table "raw_{table}" as select * from empty')
        body = views[view]
        for macro in ("latest_rows", "reference_rows"):
            body = body.replace(f"{macro}('{table}')", f'"raw_{table}"')
        con.execute(f'create view "{view}" as {body}')
    create_views(con, [(n, s) for n, s in views.items() if not n.startswith("stg_")])
    yield con
    con.close()


def raw_schema(table: str) -> pa.Schema:
    """The table as its staging view reads it (ingested tables are partitioned)."""
    schema = warehouse_schema(table)
    if table in REFERENCE_TABLES:
        return schema
    return schema.append(pa.field("ingest_date", pa.date32()))


def given(con: duckdb.DuckDBPyConnection, view: str, rows: list[dict]) -> None:
    """Insert `rows` (missing columns null) into the table under a staging view."""
    table = STAGING[view]
    schema = raw_schema(table)
    full = [
        {f.name: r.get(f.name) for f in schema} | {"ingest_run_id": "r1"} for r in rows
    ]
    for r in full:
        if r.get("member") is None and "member" in r:
            r["member"] = "m"
    rows_table = pa.Table.from_pylist(full, schema=schema)  # noqa: F841
    con.execute(f'insert into "raw_{table}" select * from rows_table')
