"""The data contract of every view, checked on a live warehouse.

Each ``sql/<layer>/<view>.yml`` declares column tests (``not_null``,
``accepted_values``) and view tests (``unique`` over a key, ``expression`` that
must hold on every row). `check_views` runs them all as SQL and returns one
result per test; the nightly flow runs it after each load and tests run it on
a warehouse built from a simulated fleet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

import duckdb
import yaml

from .database import SQL_LAYERS, quote_identifier


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


def _checks(doc: dict) -> Iterator[tuple[str, str, list]]:
    view = quote_identifier(doc["name"])
    for column in doc.get("columns", []):
        col = quote_identifier(column["name"])
        for test in column.get("tests", []):
            if test == "not_null":
                yield (
                    f"{column['name']} not_null",
                    f"select count(*) from {view} where {col} is null",
                    [],
                )
            elif isinstance(test, dict) and "relationships" in test:
                rel = test["relationships"]
                target = quote_identifier(rel["to"])
                field = quote_identifier(rel["field"])
                yield (
                    f"{column['name']} relationships {rel['to']}.{rel['field']}",
                    f"select count(*) from {view} where {col} is not null"
                    f" and {col} not in (select {field} from {target})",
                    [],
                )
            elif isinstance(test, dict) and "accepted_values" in test:
                values = test["accepted_values"]
                marks = ", ".join("?" for _ in values)
                yield (
                    f"{column['name']} accepted_values",
                    f"select count(*) from {view} where {col} is not null"
                    f" and {col}::varchar not in ({marks})",
                    [str(v) for v in values],
                )
    for test in doc.get("tests", []):
        if "unique" in test:
            key = ", ".join(quote_identifier(c) for c in test["unique"])
            yield (
                f"unique({', '.join(test['unique'])})",
                f"select count(*) from (select {key} from {view}"
                f" group by all having count(*) > 1)",
                [],
            )
        elif "expression" in test:
            # The expression is part of our own committed .yml, not user input.
            yield (
                f"expression: {test['expression']}",
                f"select count(*) from {view}"
                f" where not coalesce(({test['expression']}), false)",
                [],
            )


def check_views(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """Run every declared test; each result counts the rows that break it."""
    results = []
    for doc in view_docs():
        for name, sql, params in _checks(doc):
            (failing,) = con.execute(sql, params).fetchone() or (0,)
            results.append(CheckResult(doc["name"], name, int(failing)))
    return results
