"""The warehouse on disk: Parquet tables, manifest, quarantine and the DuckDB file.

Layout (docs/architecture.md)::

    <warehouse>/parquet/<table>/ingest_date=YYYY-MM-DD/<run>-<batch>.parquet
    <warehouse>/manifest/<run>-<batch>.parquet      what was seen and ingested
    <warehouse>/quarantine/<bundle_id>.json          why a bundle was refused
    <warehouse>/espfleet.duckdb                      views over the Parquet

Every file is written to a temporary name in the same folder and renamed into
place, so a reader never sees a partial file. Views use paths relative to the
warehouse, so the folder can move; `connect()` sets DuckDB's file_search_path.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from espfleet.parsers.schema import (
    PARSER_TABLES,
    UTC_TS,
    column,
    stored_schema,
    table_schema,
)

DB_NAME = "espfleet.duckdb"
# sql/macros/ holds the table macros the views read through; then the view layers.
SQL_LAYERS = ("staging", "facts", "reports")

# -- the warehouse's own tables ----------------------------------------------------

# Prepended to every parser table: where each row came from.
PROVENANCE = (
    column(
        "bundle_id",
        pa.string(),
        "SHA-256 of the bundle's content: its identity across runs and moves",
        nullable=False,
    ),
    column(
        "member",
        pa.string(),
        "path of the member inside the bundle (archive/inner name)",
        nullable=False,
    ),
    column(
        "ingest_run_id",
        pa.string(),
        "the nightly run that wrote the row (views keep each bundle's latest)",
        nullable=False,
    ),
)
_BUNDLE_ID, _MEMBER, _RUN_ID = PROVENANCE

BUNDLES = table_schema(
    "One row per bundle, from its latest ingest run.",
    _BUNDLE_ID,
    _RUN_ID,
    column("source_uri", pa.string(), "where the bundle was found on the share"),
    column("layout", pa.string(), "folder | archive"),
    column("size_bytes", pa.int64(), "bytes of the bundle's files on the share"),
    column("ingested_at", UTC_TS, "when the run read it"),
    column("status", pa.string(), "ingested | quarantined"),
    column("reason", pa.string(), "why it was quarantined, or a damage summary"),
    column("serial_number", pa.string(), "the device's serial number"),
    column("device_name", pa.string(), "the device's name"),
    column("device_zone", pa.string(), "IANA zone of the device, when declared"),
    column(
        "device_zone_source",
        pa.string(),
        "which evidence declared the zone (DiagnosticsFrameworkData.json, "
        "registry TimeZoneKeyName, registry ConfigureTimeZone, setupact.log), or "
        "cab_member_times when only the UTC offset is known",
    ),
    column(
        "utc_offset_min",
        pa.int16(),
        "UTC offset at collection (ISO sign, minutes) measured from CAB member "
        "times against the collection time; used when no zone is named",
    ),
    column("collected_at", UTC_TS, "when the diagnostics were collected"),
    column("n_members", pa.int32(), "members in the bundle (archives opened)"),
    column("n_warnings", pa.int32(), "parser warnings over all members"),
)

MEMBERS = table_schema(
    "One row per member of a bundle (latest ingest run).",
    _BUNDLE_ID,
    _RUN_ID,
    _MEMBER,
    column("size_bytes", pa.int64(), "bytes unpacked"),
    column("sha256", pa.string(), "SHA-256 of the member"),
    column("parser", pa.string(), "name of the parser that read it; null if none"),
    column(
        "reason",
        pa.string(),
        "why no parser read it: no parser for this format | empty file",
    ),
    column("rows", pa.int64(), "rows the parser gave"),
    column("warnings", pa.int32(), "warnings the parser gave"),
    column("skipped", pa.int32(), "records or fragments that could not be read"),
    column("first_warning", pa.string(), "the first warning, with its line"),
)

MANIFEST = table_schema(
    "One row per bundle a run saw on the share.",
    column("source_uri", pa.string(), "where it was found"),
    column("fingerprint", pa.string(), "cheap identity: paths, sizes, mtimes"),
    column("bundle_id", pa.string(), "SHA-256 of its content"),
    column("status", pa.string(), "ingested | quarantined | duplicate"),
    column("ingest_run_id", pa.string(), "the run"),
    column("seen_at", UTC_TS, "when the run saw it"),
)

# Tables the flow writes itself (no provenance prefix: they are the provenance).
FLOW_TABLES: dict[str, pa.Schema] = {"bundles": BUNDLES, "members": MEMBERS}
ALL_TABLES = tuple(FLOW_TABLES) + tuple(PARSER_TABLES)


def warehouse_schema(name: str) -> pa.Schema:
    """The schema `name` has in the warehouse (provenance first for parser tables)."""
    if name in FLOW_TABLES:
        return FLOW_TABLES[name]
    parsed = stored_schema(name)
    return pa.schema(list(PROVENANCE) + list(parsed), metadata=parsed.metadata)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique: ``20261126T204512Z-1a2b3c4d``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` atomically (zstd; pyarrow and fastparquet read it)."""
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def with_provenance(
    name: str, table: pa.Table, *, bundle_id: str, member: str, run_id: str
) -> pa.Table:
    """A parser table as the warehouse stores it: provenance first, schema enforced."""
    schema = warehouse_schema(name)
    n = table.num_rows
    given = {"bundle_id": bundle_id, "member": member, "ingest_run_id": run_id}
    arrays = []
    for f in schema:
        if f.name in given:
            arrays.append(pa.array([given[f.name]] * n, f.type))
        elif f.name in table.column_names:
            arrays.append(table.column(f.name).cast(f.type))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class Warehouse:
    """A warehouse folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def table_dir(self, table: str) -> Path:
        return self.root / "parquet" / table

    def write_table(
        self, table: str, data: pa.Table, run_id: str, batch: str, day: date
    ) -> Path | None:
        """Write one batch of `table` rows; nothing is written for zero rows."""
        if data.num_rows == 0:
            return None
        path = (
            self.table_dir(table)
            / f"ingest_date={day:%Y-%m-%d}"
            / f"{run_id}-{batch}.parquet"
        )
        write_parquet(data.cast(warehouse_schema(table)), path)
        return path

    def ensure_tables(self, run_id: str, day: date) -> None:
        """Give every table at least one (possibly empty) file so its view resolves."""
        for table in ALL_TABLES:
            folder = self.table_dir(table)
            if not any(folder.glob("*/*.parquet")):
                path = (
                    folder / f"ingest_date={day:%Y-%m-%d}" / f"{run_id}-empty.parquet"
                )
                write_parquet(warehouse_schema(table).empty_table(), path)

    def quarantine(
        self, bundle_id: str, source_uri: str, reason: str, run_id: str
    ) -> Path:
        """Record why a bundle was refused (the bundle itself stays on the share)."""
        path = self.root / "quarantine" / f"{bundle_id}.json"
        record = {
            "bundle_id": bundle_id,
            "source_uri": source_uri,
            "reason": reason,
            "ingest_run_id": run_id,
        }
        text = json.dumps(record, indent=2)
        _atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return path

    def write_manifest(self, rows: list[dict], run_id: str, batch: str) -> None:
        if rows:
            table = pa.Table.from_pylist(rows, schema=MANIFEST)
            write_parquet(table, self.root / "manifest" / f"{run_id}-{batch}.parquet")

    def manifest(self) -> pa.Table:
        """Everything seen so far (empty table on a new warehouse)."""
        files = sorted((self.root / "manifest").glob("*.parquet"))
        if not files:
            return MANIFEST.empty_table()
        return pa.concat_tables([pq.read_table(f, schema=MANIFEST) for f in files])

    def known(self) -> tuple[set[str], set[str]]:
        """(fingerprints, bundle ids) already ingested or quarantined."""
        m = self.manifest()
        done = [
            s in ("ingested", "quarantined", "duplicate")
            for s in m.column("status").to_pylist()
        ]
        fps = {
            f
            for f, ok in zip(m.column("fingerprint").to_pylist(), done, strict=True)
            if ok
        }
        ids = {
            b
            for b, ok in zip(m.column("bundle_id").to_pylist(), done, strict=True)
            if ok and b
        }
        return fps, ids

    def refresh(self) -> None:
        """Rebuild espfleet.duckdb from sql/ (macros, then views) atomically."""
        self.root.mkdir(parents=True, exist_ok=True)

        def build(tmp: Path) -> None:
            con = duckdb.connect(str(tmp))
            try:
                set_search_path(con, self.root)
                create_macros(con)
                create_views(con, list(sql_views()))
            finally:
                con.close()

        _atomic_write(self.db_path, build)

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection on the warehouse, paths resolved against it."""
        con = duckdb.connect(str(self.db_path), read_only=read_only)
        try:
            set_search_path(con, self.root)
            yield con
        finally:
            con.close()


def set_search_path(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    con.execute(f"set file_search_path = {quote_literal(str(root.resolve()))}")


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table macros of sql/macros/ (the staging views read through them)."""
    folder = resources.files("espfleet.sql").joinpath("macros")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".sql"):
            con.execute(entry.read_text(encoding="utf-8"))


def create_views(con: duckdb.DuckDBPyConnection, views: list[tuple[str, str]]) -> None:
    """Create views in dependency order: a view missing an input waits a round."""
    pending = views
    while pending:
        failed: list[tuple[str, str]] = []
        errors: list[str] = []
        for name, sql in pending:
            try:
                con.execute(
                    f"create or replace view {quote_identifier(name)} as\n{sql}"
                )
            except duckdb.CatalogException as error:
                failed.append((name, sql))
                errors.append(f"{name}: {error}")
        if len(failed) == len(pending):
            raise RuntimeError("cannot create views:\n" + "\n".join(errors))
        pending = failed


def quote_identifier(name: str) -> str:
    """A DuckDB identifier, double-quoted (never format raw names into SQL)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A DuckDB string literal, for the few statements that take no parameters."""
    return "'" + value.replace("'", "''") + "'"


def sql_views() -> Iterable[tuple[str, str]]:
    """(view name, select statement) for every file in sql/, layer by layer."""
    root = resources.files("espfleet.sql")
    for layer in SQL_LAYERS:
        folder = root.joinpath(layer)
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".sql"):
                text = entry.read_text(encoding="utf-8").strip().rstrip(";")
                yield entry.name[: -len(".sql")], text
