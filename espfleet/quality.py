"""The data contract of every view, checked on a live warehouse.

Each ``sql/<layer>/<view>.yml`` declares column tests (``not_null``,
``accepted_values``) and view tests (``unique`` over a key, ``expression`` that
must hold on every row). `check_views` runs them all as SQL and returns one
result per test; the nightly flow runs it after each load and tests run it on
a warehouse built from a simulated fleet.

What it costs. A view is SQL over the raw Parquet, so each test used to
compute its view again: 285 tests over 20 real-size bundles took 19 s, more
than ingesting them, and grew with the warehouse. Now each view is computed
once: each fact and report that other views read, whole, into a temporary
table of its own name that its tests and the later views read (DuckDB looks
in the temporary schema first). The nightly run names its own bundles as the
scope: every other view with a ``bundle_id`` column, the raw tables'
staging views included (millions of registry values and log lines), is then
checked on those bundles' rows, since the rows of earlier bundles were
checked by the night that wrote them; views without one (fleet-wide reports)
are checked whole (bench/bench_checks.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

import duckdb
import yaml

from .database import SQL_LAYERS, quote_identifier, sql_views
from .errors import WarehouseError


@dataclass(frozen=True)
class CheckResult:
    view: str
    check: str
    failing_rows: int

    @property
    def ok(self) -> bool:
        return self.failing_rows == 0


def view_docs() -> Iterator[dict]:
    """Every view's .yml, parsed, with the ``layer`` it was found in."""
    root = resources.files("espfleet.sql")
    for layer in SQL_LAYERS:
        for entry in sorted(root.joinpath(layer).iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".yml"):
                doc = yaml.safe_load(entry.read_text(encoding="utf-8"))
                yield doc | {"layer": layer}


def staging_tables() -> dict[str, str]:
    """Staging view -> the warehouse table it stages (the ``table`` of its .yml)."""
    return {d["name"]: d["table"] for d in view_docs() if d["layer"] == "staging"}


def _row_tests(doc: dict) -> Iterator[tuple[str, str, list]]:
    """(test name, predicate true on a row that breaks it, parameters)."""
    for column in doc.get("columns", []):
        col = quote_identifier(column["name"])
        for test in column.get("tests", []):
            if test == "not_null":
                yield f"{column['name']} not_null", f"{col} is null", []
            elif isinstance(test, dict) and "relationships" in test:
                rel = test["relationships"]
                target = quote_identifier(rel["to"])
                field = quote_identifier(rel["field"])
                yield (
                    f"{column['name']} relationships {rel['to']}.{rel['field']}",
                    f"{col} is not null"
                    f" and {col} not in (select {field} from {target})",
                    [],
                )
            elif isinstance(test, dict) and "accepted_values" in test:
                values = test["accepted_values"]
                marks = ", ".join("?" for _ in values)
                yield (
                    f"{column['name']} accepted_values",
                    f"{col} is not null and {col}::varchar not in ({marks})",
                    [str(v) for v in values],
                )
    for test in doc.get("tests", []):
        if "expression" in test:
            # The expression is part of our own committed .yml, not user input.
            yield (
                f"expression: {test['expression']}",
                f"not coalesce(({test['expression']}), false)",
                [],
            )


def _unique_keys(doc: dict) -> Iterator[tuple[str, str]]:
    """(test name, the key's quoted columns) of every ``unique`` test of `doc`.

    A key is a view test ``unique: [columns]`` or a column test ``unique``.
    """
    keys = [test["unique"] for test in doc.get("tests", []) if "unique" in test]
    keys += [
        [column["name"]]
        for column in doc.get("columns", [])
        if "unique" in column.get("tests", [])
    ]
    for columns in keys:
        yield (
            f"unique({', '.join(columns)})",
            ", ".join(quote_identifier(c) for c in columns),
        )


def _duplicate_keys(con: duckdb.DuckDBPyConnection, relation: str, key: str) -> int:
    """How many values of `key` are held by more than one row of `relation`.

    Counted first on a 64-bit hash of the key, one integer to group by rather
    than its strings (7 s against 18 s over the 43 million log lines of 1,000
    real-size bundles): equal keys hash equal, so no repeated hash means no
    repeated key. A repeated hash (a duplicate, or two keys that collide) is
    counted again on the key itself.
    """
    (hashed,) = con.execute(
        f"select count(*) from (select hash({key}) as h from {relation}"
        " group by h having count(*) > 1)"
    ).fetchone() or (0,)
    if not hashed:
        return 0
    (failing,) = con.execute(
        f"select count(*) from (select {key} from {relation}"
        " group by all having count(*) > 1)"
    ).fetchone() or (0,)
    return int(failing)


def _run_tests(
    con: duckdb.DuckDBPyConnection, doc: dict, relation: str
) -> list[CheckResult]:
    """Every test of `doc` on `relation`: the row tests in one scan, then each key."""
    rows = list(_row_tests(doc))
    counts: tuple = ()
    if rows:
        filters = ", ".join(f"count(*) filter (where {p})" for _, p, _ in rows)
        params = [v for _, _, values in rows for v in values]
        counts = (
            con.execute(f"select {filters} from {relation}", params).fetchone() or ()
        )
    results = [
        CheckResult(doc["name"], name, int(n or 0))
        for (name, _, _), n in zip(rows, counts, strict=True)
    ]
    for name, key in _unique_keys(doc):
        results.append(
            CheckResult(doc["name"], name, _duplicate_keys(con, relation, key))
        )
    return results


def check_views(
    con: duckdb.DuckDBPyConnection,
    bundles: Sequence[str] | None = None,
    seconds: dict[str, float] | None = None,
) -> list[CheckResult]:
    """Run every declared test; each result counts the rows that break it.

    Args:
        con: a connection to the warehouse's DuckDB file. The facts and
            reports other views read are left shadowed by temporary tables of
            their rows as they were at this check (close the connection, or
            use it only to read).
        bundles: the bundle ids a run ingested: the staging views, and the
            facts and reports no other view reads, are checked on these
            bundles' rows when they have a ``bundle_id`` column. None checks
            every row.
        seconds: filled, when given, with each view's wall seconds (its rows
            computed once, then its tests): what bench/bench_checks.py
            --by-view prints.
    """
    known = {
        name
        for (name,) in con.execute("select view_name from duckdb_views()").fetchall()
    }
    missing = sorted({d["name"] for d in view_docs()} - known)
    if missing:
        raise WarehouseError(
            f"the warehouse's DuckDB file has no view {missing[0]}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + ": it was built by another espfleet; run `espfleet refresh` first"
        )
    results = []
    if bundles is not None:
        con.execute(
            "create or replace temp table checked_bundles as"
            " select unnest(?::varchar[]) as bundle_id",
            [list(bundles)],
        )
    readers = _readers()
    for doc in _dependency_order(readers):
        started = time.perf_counter()
        read_later = bool(readers[doc["name"]])
        relation = _computed_once(con, doc, bundles is not None, read_later)
        results += _run_tests(con, doc, relation)
        if seconds is not None:
            seconds[doc["name"]] = time.perf_counter() - started
    return results


def _readers() -> dict[str, set[str]]:
    """View -> the other views whose SQL names it."""
    views = dict(sql_views())
    return {
        name: {
            other
            for other, sql in views.items()
            if other != name and re.search(rf"\b{re.escape(name)}\b", sql)
        }
        for name in views
    }


def _dependency_order(readers: dict[str, set[str]]) -> list[dict]:
    """Every view's doc, each after the views it reads (layer, then name, order)."""
    docs = list(view_docs())
    reads = {
        d["name"]: {v for v, by in readers.items() if d["name"] in by} for d in docs
    }
    done: set[str] = set()
    ordered: list[dict] = []
    while len(ordered) < len(docs):
        ready = [d for d in docs if d["name"] not in done and reads[d["name"]] <= done]
        if not ready:  # a cycle cannot be created as views; keep the file order
            ready = [d for d in docs if d["name"] not in done]
        ordered.append(ready[0])
        done.add(ready[0]["name"])
    return ordered


def _computed_once(
    con: duckdb.DuckDBPyConnection, doc: dict, scoped: bool, read_later: bool
) -> str:
    """The relation `doc`'s tests read: its view, or its rows computed once.

    A fact or report that later views read is computed whole into a temporary
    table of its own name, which they then read (DuckDB looks in the temporary
    schema first). Otherwise, with a scope, a view with a ``bundle_id`` column
    is checked on the scope's rows (DuckDB pushes the filter down to the
    Parquet scan where the view allows). Staging views, the raw tables
    (millions of rows), are read where they are, never copied.
    """
    view = quote_identifier(doc["name"])
    checked = quote_identifier(f"checked_{doc['name']}")
    per_bundle = any(c["name"] == "bundle_id" for c in doc.get("columns", []))
    staging = doc["layer"] == "staging"
    of_scope = (
        f"select * from {view}"
        " where bundle_id in (select bundle_id from checked_bundles)"
    )
    if scoped and per_bundle and staging:  # raw rows: read, never copied
        return f"({of_scope}) as {checked}"
    if scoped and per_bundle and not read_later:
        con.execute(f"create or replace temp table {checked} as {of_scope}")
        return checked
    if staging:
        return view
    con.execute(f"create or replace temp table {view} as select * from main.{view}")
    return view
