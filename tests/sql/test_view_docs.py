"""Every view has a sibling .yml whose columns are the view's columns."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from espfleet.parsers.schema import warehouse_schema
from espfleet.warehouse import SQL_LAYERS, sql_views
from tests.sql.conftest import STAGING

VIEWS = dict(sql_views())


def doc(name: str) -> dict:
    for layer in SQL_LAYERS:
        path = resources.files("espfleet.sql").joinpath(layer, f"{name}.yml")
        if path.is_file():
            return yaml.safe_load(path.read_text())
    raise AssertionError(f"{name}.sql has no {name}.yml")


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_is_documented_with_grain_and_columns(name):
    d = doc(name)
    assert d["name"] == name
    assert d["description"].strip().lower().startswith("one row per")
    assert all(c.get("description") for c in d["columns"])


@pytest.mark.parametrize("name", sorted(n for n in VIEWS if not n.startswith("stg_")))
def test_documented_columns_are_the_view_columns(duck, name):
    actual = [r[0] for r in duck.execute(f'describe "{name}"').fetchall()]
    assert [c["name"] for c in doc(name)["columns"]] == [
        c for c in actual if c in {x["name"] for x in doc(name)["columns"]}
    ]
    if not name.startswith("fct_"):
        assert {c["name"] for c in doc(name)["columns"]} == set(actual)


@pytest.mark.parametrize("name", sorted(STAGING))
def test_staging_docs_follow_the_declared_schema(name):
    expected = [f.name for f in warehouse_schema(STAGING[name])] + ["ingest_date"]
    assert [c["name"] for c in doc(name)["columns"]] == expected
