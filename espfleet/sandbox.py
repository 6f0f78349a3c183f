"""`espfleet sql`: analysts' queries on a warehouse that can read it and nothing else.

Two guards, each enough on its own for what it covers:

- the statement: only ``SELECT`` (with SHOW, DESCRIBE, SUMMARIZE, FROM-first and
  WITH forms), ``EXPLAIN`` and ``SET VARIABLE`` run; COPY, ATTACH, INSTALL, LOAD,
  CREATE, PRAGMA, CALL, SET of a setting and the rest are refused before DuckDB
  sees them (`check`);
- DuckDB's own settings: the database opened read-only, external access off
  with the warehouse's data folders as the only allowed directories (so
  ``read_text('/etc/passwd')`` and reads of any other file fail inside DuckDB),
  no extension autoloading, and the configuration locked so no statement can
  loosen any of it (`sandboxed`).

The interactive shell is the DuckDB CLI when one is on PATH, started read-only
with the same settings and its safe mode (no .output, .shell, .read ...), else
`repl`, which applies both guards to every statement.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from .database import ROOT_VARIABLE, data_directories, open_connection, quote_literal

ALLOWED = (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN)


class Refused(Exception):
    """A statement `espfleet sql` does not run; the message says why."""


def _kind(statement: duckdb.Statement) -> str:
    return str(statement.type).rsplit(".", 1)[-1]


def check(query: str) -> None:
    """Refuse `query` unless every statement in it only reads.

    Raises:
        Refused: a statement that writes, attaches, installs or changes settings.
        duckdb.ParserException: the query does not parse.
    """
    statements = duckdb.extract_statements(query)
    if not statements:
        raise Refused("no statement given")
    for statement in statements:
        if statement.type in ALLOWED:
            continue
        text = statement.query.strip()
        if statement.type == duckdb.StatementType.SET and _is_set_variable(text):
            continue
        first = text.split(None, 1)[0].upper() if text else _kind(statement)
        raise Refused(
            f"{first} is not allowed: espfleet sql only reads "
            "(SELECT, EXPLAIN and SET VARIABLE run)"
        )


def _is_set_variable(text: str) -> bool:
    words = text.lower().split(None, 2)
    return len(words) >= 2 and words[0] == "set" and words[1] == "variable"


def lock_down(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Confine `con` to reading the warehouse's data folders, for good."""
    con.execute("set allowed_directories = ?", [data_directories(root)]).fetchall()
    con.execute("set autoinstall_known_extensions = false").fetchall()
    con.execute("set autoload_known_extensions = false").fetchall()
    con.execute("set enable_external_access = false").fetchall()
    con.execute("set lock_configuration = true").fetchall()


@contextmanager
def sandboxed(root: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection on the warehouse, locked down by `lock_down`.

    Raises:
        WarehouseError: no database, or one this espfleet cannot read.
    """
    con = open_connection(root, read_only=True)
    try:
        lock_down(con, root)
        yield con
    finally:
        con.close()


def run_query(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table | None:
    """Check and run `query`; the last statement's rows (None when it has none).

    Raises:
        Refused: see `check`.
        duckdb.Error: the query failed in DuckDB (syntax, permission, ...).
    """
    check(query)
    result: pa.Table | None = None
    for statement in duckdb.extract_statements(query):
        relation = con.sql(statement.query)
        result = relation.to_arrow_table() if relation is not None else None
    return result


def error_line(error: Exception) -> str:
    """One line for a refused statement or a DuckDB error (never a traceback)."""
    if isinstance(error, Refused):
        return f"refused: {error}"
    return str(error).strip().splitlines()[0]


def duckdb_cli() -> str | None:
    """The DuckDB CLI on PATH (or beside this Python, as pip installs it)."""
    beside = Path(sys.executable).parent / "duckdb"
    if beside.is_file():
        return str(beside)
    return shutil.which("duckdb")


def cli_arguments(cli: str, root: Path) -> list[str]:
    """The DuckDB CLI command line for a locked-down, read-only session."""
    dirs = "[" + ", ".join(quote_literal(d) for d in data_directories(root)) + "]"
    return [
        cli,
        "-readonly",
        "-cmd",
        f"set variable {ROOT_VARIABLE} = {quote_literal(str(root.resolve()))}",
        "-cmd",
        f"set allowed_directories = {dirs}",
        "-cmd",
        "set autoinstall_known_extensions = false",
        "-cmd",
        "set autoload_known_extensions = false",
        # Safe mode turns external access off and locks the configuration.
        "-cmd",
        ".safe_mode",
        str(root / "espfleet.duckdb"),
    ]


def run_cli(root: Path) -> int:
    """Open the DuckDB CLI on the warehouse (its exit code)."""
    cli = duckdb_cli()
    if cli is None:
        raise FileNotFoundError("duckdb")
    return subprocess.call(cli_arguments(cli, root))


def repl(
    con: duckdb.DuckDBPyConnection,
    show: Callable[[pa.Table], None],
    read: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
) -> int:
    """A small read-eval-print loop: statements end with ``;``, ``.quit`` leaves.

    Returns:
        0, or 1 when the last statement failed.
    """
    say("espfleet sql: read-only SQL on the warehouse; end statements with ;")
    say("  .tables lists the views, .quit leaves")
    status, buffer = 0, ""
    while True:
        try:
            line = read("sql> " if not buffer else "...> ")
        except EOFError:
            return status
        if not buffer and line.strip() in (".quit", ".exit"):
            return status
        if not buffer and line.strip() == ".tables":
            line = "select table_name from information_schema.tables order by 1;"
        buffer += line + "\n"
        if not buffer.rstrip().endswith(";"):
            continue
        query, buffer = buffer, ""
        try:
            table = run_query(con, query)
            status = 0
        except (Refused, duckdb.Error) as error:
            say(error_line(error))
            status = 1
            continue
        if table is not None:
            show(table)
