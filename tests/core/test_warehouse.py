"""Warehouse files: atomic writes, schemas enforced, views resolvable on a new warehouse."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from espfleet import warehouse as wh
from espfleet.warehouse import warehouse_schema


def test_a_failed_write_leaves_no_file_behind(tmp_path, monkeypatch):
    def crash(table, where, **kwargs):
        open(where, "wb").write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        wh.write_parquet(pa.table({"a": [1]}), tmp_path / "t" / "x.parquet")
    assert list((tmp_path / "t").iterdir()) == []


def test_provenance_comes_first_and_missing_columns_are_null():
    table = wh.with_provenance(
        "ccmsetup_runs",
        pa.table({"run_no": [1, 2]}),
        bundle_id="b",
        member="m",
        run_id="r",
    )
    assert table.schema.equals(warehouse_schema("ccmsetup_runs"))
    assert table.column("bundle_id").to_pylist() == ["b", "b"]
    assert table.column("return_code").null_count == 2


def test_new_warehouse_views_resolve_with_no_data(tmp_path):
    store = wh.Warehouse(tmp_path)
    store.ensure_tables(
        "20260101T000000Z-00000000", __import__("datetime").date(2026, 1, 1)
    )
    store.refresh()
    with store.connect() as con:
        assert con.execute("select count(*) from failure_rates").fetchone() == (0,)
        assert con.execute("select count(*) from device_outcomes").fetchone() == (0,)


def test_quote_identifier_escapes_quotes():
    assert wh.quote_identifier('a"b') == '"a""b"'
