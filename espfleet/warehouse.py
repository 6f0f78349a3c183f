"""The warehouse on disk: Parquet tables, manifest, quarantine and the DuckDB file.

Layout (docs/architecture.md, docs/warehouse.md)::

    <warehouse>/parquet/<table>/ingest_date=YYYY-MM-DD/<run>-<batch>.parquet
    <warehouse>/reference/<table>.parquet            the error-code catalogue
    <warehouse>/manifest/<run>-<batch>.parquet      what was seen and ingested
    <warehouse>/quarantine/<bundle_id>.json          why a bundle was refused
    <warehouse>/espfleet.duckdb                      views over the Parquet
    <warehouse>/.espfleet-warehouse                  marker: this folder is ours
    <warehouse>/.espfleet.lock                       the run lock (espfleet.runs)

Every file is written to a temporary name in the same folder and renamed into
place, so a reader never sees a partial file. Every Parquet file records its
table and that table's schema version in its key-value metadata
(docs/warehouse.md "Schema versions"). A batch commits when its manifest file
appears: the views read only data files a manifest names (the `latest_rows`
macro), and the next run deletes what a killed or failed batch left
(`espfleet.runs.sweep`). The DuckDB file is espfleet/database.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
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

from . import database, storage
from .database import (  # noqa: F401 - the warehouse's names for them
    DB_NAME,
    SQL_LAYERS,
    WarehouseError,
    create_views,
    quote_identifier,
    quote_literal,
    sql_views,
)
from .quality import staging_tables
from .reference import (  # noqa: F401 - the warehouse's names for them
    ERROR_CODES,
    REFERENCE_TABLES,
    WINDOWS_RELEASES,
    reference_tables,
)
from .runids import new_run_id, run_id_time  # noqa: F401 (their home was here)
from .storage import Location

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
    column(
        "site",
        pa.string(),
        "the share folder the bundle was found in (the first folder under the "
        "share root; null for a bundle at the root)",
    ),
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

# -- schema versions (docs/warehouse.md "Schema versions") ---------------------------

SCHEMA_VERSION_KEY = b"espfleet.schema_version"
SCHEMA_FINGERPRINT_KEY = b"espfleet.schema_fingerprint"
TABLE_KEY = b"espfleet.table"
# MAJOR.MINOR per table, with the fingerprint of the columns that version has. A
# minor step adds nullable columns (readers by column name keep working); a major
# step removes, renames or retypes a column or changes what one means. A schema
# change without a new entry here fails tests/core/test_schema_versions.py.
SCHEMA_VERSIONS: dict[str, tuple[str, str]] = {
    "bundles": ("1.1", "0eef701fc80b"),  # 1.1: utc_offset_min (#8)
    "members": ("1.1", "b642b2f4ca43"),  # 1.1: reason (#8)
    "manifest": ("1.0", "b463e957089a"),
    "error_codes": ("1.0", "6de7043fce22"),
    "windows_releases": ("1.0", "ff63b9369a35"),  # #9: the release table
    "cm_log_entries": ("1.1", "2d969eff3183"),  # 1.1: clock columns
    # 2.0: ts_utc is corrected for the device clock, ts_device_utc as written (#8)
    "events": ("2.0", "5e566f22f7d4"),
    "registry_values": ("1.0", "28d1b5d75991"),
    "esp_events": ("1.1", "69e548fc9781"),  # 1.1: clock columns
    "esp_tracking": ("1.0", "5351171e6aba"),
    "ccmsetup_runs": ("1.1", "1e3fb877fd19"),  # 1.1: clock columns
    "ts_steps": ("1.1", "d1ef883c84a1"),  # 1.1: clock columns
    "ts_runs": ("1.1", "da943b61bb49"),  # 1.1: clock columns
    "ime_app_reports": ("1.0", "5c2c97977519"),  # #9: Win32 app results
    # 2.0: the framework file's OSBuild is build_lab; setup logs no longer here (#8)
    "device_facts": ("2.0", "343ddb07616b"),
    "setup_log_entries": ("1.0", "e4a3e2c4a00b"),
    "clock_anchors": ("1.0", "a3959acc2672"),
    "clock_eras": ("1.0", "9ecd110a54e9"),
    # Derived: views kept as Parquet under <root>/derived/ (database.DERIVED).
    # 2.0: one row per attempt inside a bundle (attempt_in_bundle); stages and the
    # outcome vocabulary of #9 (esp_phase, contradiction)
    "device_outcomes": ("2.0", "dde59a6087c9"),
    "device_days": ("1.0", "7d4f59c620c1"),
    "device_weeks": ("1.0", "8bd00a940d71"),
    "fleet_status": ("1.0", "ee1e3f636e40"),
}


def schema_fingerprint(schema: pa.Schema) -> str:
    """12 hex digits over the columns' names, types and nullability, in order."""
    text = "\n".join(f"{f.name}:{f.type}:{f.nullable}" for f in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def derived_version(view: str, schema: pa.Schema) -> tuple[str, str]:
    """(version, fingerprint) of a derived view's file (see SCHEMA_VERSIONS)."""
    return SCHEMA_VERSIONS[view][0], schema_fingerprint(schema)


def schema_version(table: str) -> str:
    """The MAJOR.MINOR schema version of `table` (KeyError for an unknown table)."""
    return SCHEMA_VERSIONS[table][0]


def versioned(table: str, schema: pa.Schema) -> pa.Schema:
    """`schema` with its table name, version and fingerprint in its metadata."""
    return schema.with_metadata(
        (schema.metadata or {})
        | {
            TABLE_KEY: table.encode(),
            SCHEMA_VERSION_KEY: schema_version(table).encode(),
            SCHEMA_FINGERPRINT_KEY: schema_fingerprint(schema).encode(),
        }
    )


@cache
def warehouse_schema(name: str) -> pa.Schema:
    """The schema `name` has in the warehouse (provenance first for parser tables)."""
    if name in FLOW_TABLES:
        return FLOW_TABLES[name]
    if name in REFERENCE_TABLES:
        return REFERENCE_TABLES[name]
    if name == "manifest":
        return MANIFEST
    parsed = stored_schema(name)
    return pa.schema(list(PROVENANCE) + list(parsed), metadata=parsed.metadata)


def _atomic_write(path: Location, write) -> None:
    storage.atomic_write(path, write)


def write_parquet(table: pa.Table, path: Location, name: str | None = None) -> None:
    """Write `table` to `path` atomically (zstd; pyarrow and fastparquet read it).

    Args:
        table: the rows.
        path: the file.
        name: the warehouse table they belong to: its schema is enforced and its
            name, schema version and fingerprint go in the file's metadata.
    """
    if name is not None:
        table = table.cast(versioned(name, warehouse_schema(name)))
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def read_parquet(path: Location, schema: pa.Schema | None = None) -> pa.Table:
    """One Parquet file of the warehouse, from a folder or object storage."""
    if isinstance(path, Path):
        return pq.read_table(path, schema=schema)
    return pq.read_table(pa.BufferReader(path.read_bytes()), schema=schema)


def write_reference_tables(root: Location) -> None:
    """Write <root>/reference/<table>.parquet for every table espfleet ships."""
    for name, table in reference_tables().items():
        write_parquet(table, root / "reference" / f"{name}.parquet", name)


def with_provenance(
    name: str, table: pa.Table, *, bundle_id: str, member: str, run_id: str
) -> pa.Table:
    """A parser table as the warehouse stores it: provenance first, schema enforced.

    A table that has its own ``member`` column (rows about several members,
    such as clock_anchors) keeps it; `member` names the rest.
    """
    schema = warehouse_schema(name)
    n = table.num_rows
    given = {"bundle_id": bundle_id, "member": member, "ingest_run_id": run_id}
    if "member" in table.column_names:
        del given["member"]
    arrays = []
    for f in schema:
        if f.name in given:  # repeated in Arrow: a Python list of n cost 10 ms
            arrays.append(pa.repeat(pa.scalar(given[f.name], f.type), n))
        elif f.name in table.column_names:
            column = table.column(f.name)
            arrays.append(column if column.type == f.type else column.cast(f.type))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class Warehouse:
    """A warehouse folder."""

    def __init__(self, root: Location | str) -> None:
        self.root: Location = storage.location(root)

    @property
    def db_path(self) -> Location:
        return self.root / DB_NAME

    def table_dir(self, table: str) -> Location:
        return self.root / "parquet" / table

    def write_table(
        self, table: str, data: pa.Table, run_id: str, batch: str, day: date
    ) -> Location | None:
        """Write one batch of `table` rows; nothing is written for zero rows."""
        if data.num_rows == 0:
            return None
        path = (
            self.table_dir(table)
            / f"ingest_date={day:%Y-%m-%d}"
            / f"{run_id}-{batch}.parquet"
        )
        write_parquet(data, path, table)
        return path

    def ensure_tables(self, run_id: str, day: date) -> None:
        """Give every table at least one (possibly empty) file so its view resolves.

        The manifest too: `latest_rows` reads it to know which batches committed.
        """
        if not any((self.root / "manifest").glob("*.parquet")):
            empty = self.root / "manifest" / f"{run_id}-empty.parquet"
            write_parquet(MANIFEST.empty_table(), empty)
        for table in ALL_TABLES:
            folder = self.table_dir(table)
            if not any(folder.glob("*/*.parquet")):
                path = (
                    folder / f"ingest_date={day:%Y-%m-%d}" / f"{run_id}-empty.parquet"
                )
                write_parquet(warehouse_schema(table).empty_table(), path, table)

    def quarantine(
        self, bundle_id: str, source_uri: str, reason: str, run_id: str
    ) -> Location:
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
            path = self.root / "manifest" / f"{run_id}-{batch}.parquet"
            write_parquet(table, path, "manifest")

    def manifest(self) -> pa.Table:
        """Everything seen so far (empty table on a new warehouse)."""
        files: list[Location] = sorted(
            (self.root / "manifest").glob("*.parquet"), key=str
        )
        if not files:
            return MANIFEST.empty_table()
        return pa.concat_tables([read_parquet(f, MANIFEST) for f in files])

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
        """Rebuild espfleet.duckdb from sql/ (macros, then views) atomically.

        The reference tables (the error-code catalogue) are written first, so
        their views always match the catalogue this espfleet ships.
        """
        if not storage.is_remote(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
        write_reference_tables(self.root)
        staged = staging_tables()
        _atomic_write(
            self.db_path,
            lambda tmp: database.build(
                self.root, tmp, staged, ALL_TABLES, derived_version
            ),
        )

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection on the warehouse, paths resolved against it.

        Raises:
            WarehouseError: no database here, or one an older espfleet built.
        """
        with database.connect(self.root, read_only) as con:
            yield con
