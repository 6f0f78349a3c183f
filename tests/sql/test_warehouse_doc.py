"""docs/warehouse.md lists every view with its grain, columns and a real example."""

from __future__ import annotations

import runpy
from pathlib import Path

from espfleet.quality import view_docs

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


def test_warehouse_reference_is_current(tmp_path):
    gen = runpy.run_path(str(DOCS / "gen_warehouse.py"))
    expected = gen["document"](gen["sample_warehouse"](tmp_path))
    assert (DOCS / "warehouse.md").read_text(encoding="utf-8") == expected, (
        "docs/warehouse.md is stale: run python docs/gen_warehouse.py"
    )


def test_every_view_and_plain_name_is_in_the_reference():
    text = (DOCS / "warehouse.md").read_text(encoding="utf-8")
    for doc in view_docs():
        assert f"### `{doc['name']}`" in text
        if doc.get("table"):
            assert f"| `{doc['table']}` | `{doc['name']}` |" in text
