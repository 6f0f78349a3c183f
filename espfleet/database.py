"""The DuckDB file of a warehouse: built from sql/, opened by espfleet and by analysts.

`build` writes ``espfleet.duckdb`` (views and macros only; the data stays in
Parquet) so that any DuckDB from 1.2 on opens it: the file is written in the
1.2 storage format (``ATTACH ... (STORAGE_VERSION 'v1.2.0')``), which both the
1.x CLI on PyPI and DuckDB 2 read. Every Parquet path goes through one scalar
macro, ``warehouse_root()``: the folder's absolute path as it was at build
time, unless the session sets the ``espfleet_root`` variable. Our own
connections set it, so espfleet keeps working on a moved or copied folder; the
DuckDB CLI, opened from any directory, reads the recorded path, and after a
move ``espfleet refresh --warehouse NEW`` records the new one
(docs/warehouse.md "Moving a warehouse").

`warehouse_info` (a view) says which espfleet built the file and with which
warehouse format; `connect` refuses a file of another format with one line
saying what to run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import duckdb
import pyarrow as pa

from . import errors, storage
from .storage import Location

DB_NAME = "espfleet.duckdb"
# The oldest storage format DuckDB 2 writes that DuckDB 1.2 and later read.
STORAGE_VERSION = "v1.2.0"
# Bump when the file's contract changes (a macro's signature, a view renamed):
# a file of another format is refused until `espfleet refresh` rebuilds it.
WAREHOUSE_FORMAT = 2
ROOT_VARIABLE = "espfleet_root"
# DuckDB takes 80% of RAM by default: the nightly's checks over 10 M rows went
# to 4.5 GB. espfleet's connections stay under this and spill the rest to a
# temporary folder (ESPFLEET_DUCKDB_MEMORY overrides: "4GB", "80%"...).
MEMORY_LIMIT_VARIABLE = "ESPFLEET_DUCKDB_MEMORY"
DEFAULT_MEMORY_LIMIT = "1GB"
# sql/macros/ holds the table macros the views read through; then the view layers.
SQL_LAYERS = ("staging", "facts", "reports")
# Folders of a warehouse the views read (and the only ones analysts' sessions may);
# manifest/ says which batches committed (latest_rows reads only those).
DATA_FOLDERS = ("parquet", "manifest", "reference", "derived")
# Views computed once per refresh and kept as Parquet under <root>/derived/, each
# as soon as it is created (`materialise`): every report reads them, and computing
# device_outcomes from the raw tables takes seconds on a large fleet
# (bench/bench_reports.py). The data only changes when a run ingests, and every
# run refreshes.
DERIVED = ("device_outcomes", "device_days", "device_weeks", "fleet_status")
# (view, its Arrow schema) -> (schema version, fingerprint) for a derived file.
VersionOf = Callable[[str, pa.Schema], tuple[str, str]]


# A warehouse folder that cannot be opened; the message says what to run (a
# UserError: the CLI prints it as one line, exit 2).
WarehouseError = errors.WarehouseError


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


def plain_views(staged: dict[str, str]) -> list[tuple[str, str]]:
    """The analysts' names: one view per staged table, named as the table.

    Args:
        staged: staging view -> the table it stages (the ``table`` of its .yml).
    """
    return [
        (table, f"select * from {quote_identifier(view)}")
        for view, table in sorted(staged.items(), key=lambda kv: kv[1])
    ]


def create_macros(con: duckdb.DuckDBPyConnection, root: Location) -> None:
    """``warehouse_root()``, then the table macros of sql/macros/."""
    recorded = quote_literal(storage.absolute(root))
    con.execute(
        "create or replace macro warehouse_root() as "
        f"coalesce(getvariable('{ROOT_VARIABLE}'), {recorded})"
    )
    folder = resources.files("espfleet.sql").joinpath("macros")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".sql"):
            con.execute(entry.read_text(encoding="utf-8"))


def choose_latest_files(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """The tables latest_batches (each bundle's batch, from the manifest) and
    latest_files (each table's file per bundle, which latest_rows() reads;
    sql/macros/latest_files.sql says which and why a table)."""
    con.execute(
        "create or replace table latest_batches as from latest_batches_of('manifest')"
    )
    con.execute(
        "create or replace table latest_files"
        " (of_table varchar, bundle_id varchar, file varchar)"
    )
    for table in tables:
        name = quote_literal(table)
        con.execute(
            f"insert into latest_files select {name}, bundle_id, file"
            f" from latest_files_of({name})"
        )


def create_views(
    con: duckdb.DuckDBPyConnection,
    views: list[tuple[str, str]],
    created: Callable[[str], None] | None = None,
) -> None:
    """Create views in dependency order: a view missing an input waits a round.

    `created`, when given, is called with each view's name once it exists,
    before any later view is created.
    """
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
                continue
            if created is not None:
                created(name)
        if len(failed) == len(pending):
            raise RuntimeError("cannot create views:\n" + "\n".join(errors))
        pending = failed


def _info_view(con: duckdb.DuckDBPyConnection) -> None:
    try:
        version = metadata.version("espfleet")
    except metadata.PackageNotFoundError:
        version = "unknown"
    built = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    con.execute(
        "create or replace view warehouse_info as select "
        f"{WAREHOUSE_FORMAT} as warehouse_format, "
        f"{quote_literal(version)} as espfleet_version, "
        f"{quote_literal(STORAGE_VERSION)} as storage_version, "
        f"{quote_literal(built)} as built_at, "
        "warehouse_root() as warehouse_root"
    )


def materialise(
    con: duckdb.DuckDBPyConnection, root: Location, version_of: VersionOf, name: str
) -> None:
    """Write the DERIVED view `name` to <root>/derived/<name>.parquet, then
    make the view read it there.

    The file is written to a temporary name and renamed into place, with the
    view's name, schema version and fingerprint in its metadata. `build`
    calls this as soon as the view exists: a view created afterwards binds to
    the file rather than to the SQL over every raw table below it. Binding
    was the cost of creating the reports: 12.8 s for all of them on a
    warehouse of 1,025 real-size bundles when they bound to the derived
    views' SQL, 2.1 s to their files (bench/bench_refresh.py).
    """
    folder = root / "derived"
    view = quote_identifier(name)
    schema = con.sql(f"select * from {view} limit 0").to_arrow_table().schema
    version, fingerprint = version_of(name, schema)
    meta = {
        "espfleet.table": name,
        "espfleet.schema_version": version,
        "espfleet.schema_fingerprint": fingerprint,
    }
    kv = ", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in meta.items())

    def copy(tmp: Path) -> None:
        con.execute(
            f"copy (select * from {view}) to {quote_literal(str(tmp))} "
            f"(format parquet, compression zstd, kv_metadata {{{kv}}})"
        ).fetchall()

    storage.atomic_write(folder / f"{name}.parquet", copy)
    con.execute(
        f"create or replace view {view} as "
        f"select * from derived_rows({quote_literal(name)})"
    ).fetchall()


def duckdb_config() -> dict[str, str | bool | int | float | list[str]]:
    """The settings of every espfleet DuckDB connection (memory bound, spill folder)."""
    spill = Path(tempfile.gettempdir()) / "espfleet-duckdb"
    return {
        "memory_limit": os.environ.get(MEMORY_LIMIT_VARIABLE, DEFAULT_MEMORY_LIMIT),
        "temp_directory": str(spill),
    }


def build(
    root: Location,
    target: Path,
    staged: dict[str, str],
    tables: Iterable[str],
    version_of: VersionOf | None = None,
) -> None:
    """Write the DuckDB file for the warehouse `root` at `target`.

    Args:
        root: the warehouse folder (its absolute path is recorded).
        target: the file to write (a temporary name; the caller renames it).
        staged: staging view -> table, for the analysts' plain names.
        tables: the warehouse's ingested tables (read through latest_rows()).
        version_of: the schema version of a derived view; None leaves the
            DERIVED views computed on every query (no files written).
    """
    con = duckdb.connect(config=duckdb_config())
    try:
        reach(con, root)
        con.execute(
            f"attach ? as wh (storage_version {quote_literal(STORAGE_VERSION)})",
            [str(target)],
        )
        con.execute("use wh")
        create_macros(con, root)
        choose_latest_files(con, sorted(tables))
        views = list(sql_views())
        taken = {name for name, _sql in views}
        clashes = sorted(taken & set(staged.values()))
        if clashes:
            raise RuntimeError(f"views named like a table: {', '.join(clashes)}")
        derive = None
        if version_of is not None:

            def derive(name: str, version_of: VersionOf = version_of) -> None:
                if name in DERIVED:
                    materialise(con, root, version_of, name)

        create_views(con, views + plain_views(staged), derive)
        _info_view(con)
        con.execute("use memory")
        con.execute("detach wh")
    finally:
        con.close()


def _missing(root: Location) -> WarehouseError:
    if (root / "parquet").is_dir():
        return WarehouseError(
            f"{root} has Parquet tables but no {DB_NAME}: "
            f"run `espfleet refresh --warehouse {root}`"
        )
    return WarehouseError(
        f"no warehouse in {root}: run `espfleet ingest SOURCE --warehouse {root}` "
        "(or `espfleet run` for the sample)"
    )


def _check_format(con: duckdb.DuckDBPyConnection, root: Location) -> None:
    try:
        rows = con.execute("select warehouse_format from warehouse_info").fetchall()
    except duckdb.Error:
        rows = []
    found = rows[0][0] if rows else None
    if found != WAREHOUSE_FORMAT:
        raise WarehouseError(
            f"{root / DB_NAME} was built by "
            + ("an older" if found is None or found < WAREHOUSE_FORMAT else "a newer")
            + f" espfleet (format {found or 1}, this one reads {WAREHOUSE_FORMAT}): "
            f"run `espfleet refresh --warehouse {root}`"
        )


def reach(con: duckdb.DuckDBPyConnection, root: Location) -> None:
    """Let `con` read the warehouse `root`: on object storage through its
    fsspec filesystem (DuckDB's httpfs extension is not needed, nor
    downloaded), and with each Parquet file's footer read once per
    connection. Every view binds its table's files through `latest_rows()`
    (all their footers: ``union_by_name``), and a view on views binds them
    again; the cache took the time to create the views of a 1,025-bundle
    warehouse from 28.6 to 17.6 s. The files are never rewritten in place (new
    names, or a rename over a derived file), and DuckDB checks a cached
    footer against the file's modification time."""
    if storage.is_remote(root):
        con.register_filesystem(root.fs)  # type: ignore[union-attr]
    con.execute("set parquet_metadata_cache = true")


def _local_copy(db: Location) -> str:
    """A local path of the database file: itself, or a private copy of the
    object (views only: small), deleted when this process ends."""
    if isinstance(db, Path):
        return str(db)
    import atexit
    import tempfile

    fd, name = tempfile.mkstemp(prefix="espfleet-", suffix=".duckdb")
    os.close(fd)
    atexit.register(lambda: Path(name).unlink(missing_ok=True))
    storage.download(db, Path(name))
    return name


def open_connection(
    root: Location, read_only: bool = True
) -> duckdb.DuckDBPyConnection:
    """A connection on the warehouse, its paths resolved against `root`.

    Raises:
        WarehouseError: no database, or one this espfleet cannot read.
    """
    db = root / DB_NAME
    if not db.is_file():
        raise _missing(root)
    try:
        con = duckdb.connect(
            _local_copy(db), read_only=read_only, config=duckdb_config()
        )
    except duckdb.IOException as error:
        raise WarehouseError(
            f"{db} cannot be opened ({str(error).splitlines()[0]}): "
            f"run `espfleet refresh --warehouse {root}`"
        ) from error
    try:
        reach(con, root)
        con.execute(
            f"set variable {ROOT_VARIABLE} = ?", [storage.absolute(root)]
        ).fetchall()
        _check_format(con, root)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def connect(
    root: Location, read_only: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_connection` as a context manager (the connection is closed after)."""
    con = open_connection(root, read_only)
    try:
        yield con
    finally:
        con.close()


def data_directories(root: Path) -> list[str]:
    """The folders analysts' sessions may read, with a trailing separator."""
    base = root.resolve()
    return [str(base / name) + "/" for name in DATA_FOLDERS]
