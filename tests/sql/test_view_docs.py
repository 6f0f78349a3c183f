"""Every view found in sql/ has a sibling .yml, and each column a description."""

from __future__ import annotations

import pytest

from espfleet.parsers.schema import description
from espfleet.quality import view_docs
from espfleet.warehouse import sql_views, warehouse_schema

VIEWS = dict(sql_views())
DOCS = {d["name"]: d for d in view_docs()}


def test_every_view_has_a_doc_and_every_doc_a_view():
    assert set(DOCS) == set(VIEWS)


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_is_documented_with_its_grain(name):
    assert DOCS[name]["description"].strip().lower().startswith("one row per")


def columns(duck, name: str) -> list[str]:
    return [r[0] for r in duck.execute(f'describe "{name}"').fetchall()]


@pytest.mark.parametrize("name", sorted(n for n in VIEWS if n.startswith("stg_")))
def test_staging_columns_are_the_schema_then_what_staging_adds(duck, name):
    doc = DOCS[name]
    schema = warehouse_schema(doc["table"])
    added = [c["name"] for c in doc["columns"] if c["name"] not in schema.names]
    assert columns(duck, name) == schema.names + added
    assert description(schema) == doc["description"]


@pytest.mark.parametrize("name", sorted(n for n in VIEWS if n.startswith("stg_")))
def test_every_staging_column_has_a_description(name):
    doc = DOCS[name]
    schema = warehouse_schema(doc["table"])
    from_yml = {c["name"]: c.get("description") for c in doc["columns"]}
    missing = [
        n
        for n in schema.names + [c for c in from_yml if c not in schema.names]
        if not (from_yml.get(n) or (n in schema.names and description(schema.field(n))))
    ]
    assert missing == []


@pytest.mark.parametrize("name", sorted(n for n in VIEWS if not n.startswith("stg_")))
def test_documented_columns_are_the_view_columns(duck, name):
    documented = [c["name"] for c in DOCS[name]["columns"]]
    actual = columns(duck, name)
    assert all(
        DOCS[name]["columns"][i].get("description") for i in range(len(documented))
    )
    assert documented == [c for c in actual if c in set(documented)]
    if not name.startswith("fct_"):  # facts document their key columns only
        assert set(documented) == set(actual)
