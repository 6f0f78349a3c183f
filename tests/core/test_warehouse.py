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


def test_the_views_read_each_bundles_latest_committed_batch(tmp_path):
    """latest_files names, per table and bundle, the file of the batch whose
    manifest last committed the bundle (of two batches of one run, the first by
    name); the views read only it, and a bundle ingested again with no rows
    for a table has none there."""
    day = __import__("datetime").date(2026, 1, 1)
    store = wh.Warehouse(tmp_path)
    store.ensure_tables("20260101T000000.000000Z-0000", day)
    # run, batch, bundle, run_no of its rows, committed by a manifest?
    writes = [
        ("20260101T010000.000000Z-aaaa", "b000", "b1", [1], True),
        ("20260102T010000.000000Z-bbbb", "b000", "b1", [1, 2], True),
        ("20260102T010000.000000Z-bbbb", "b001", "b1", [5], True),
        ("20260103T010000.000000Z-cccc", "b000", "b1", [9], False),
        ("20260101T010000.000000Z-aaaa", "b000", "b2", [3], True),
        ("20260104T010000.000000Z-dddd", "b000", "b2", [], True),
        ("20260101T010000.000000Z-aaaa", "b000", "b3", [4], True),
    ]
    for run, batch, bundle, runs, committed in writes:
        rows = wh.with_provenance(
            "ccmsetup_runs",
            pa.table({"run_no": pa.array(runs, pa.int32())}),
            bundle_id=bundle,
            member="ccmsetup.log",
            run_id=run,
        )
        store.write_table("ccmsetup_runs", rows, run, f"{batch}-{bundle}", day)
        if committed:
            store.write_manifest(
                [{"bundle_id": bundle, "status": "ingested", "ingest_run_id": run}],
                run,
                f"{batch}-{bundle}",
            )
    store.refresh()
    with store.connect() as con:
        chosen = con.execute(
            "select bundle_id, file from latest_files"
            " where of_table = 'ccmsetup_runs' order by all"
        ).fetchall()
        assert chosen == [
            ("b1", "20260102T010000.000000Z-bbbb-b000-b1"),
            ("b3", "20260101T010000.000000Z-aaaa-b000-b3"),
        ]
        assert con.execute(
            "select bundle_id, run_no from stg_ccmsetup__runs order by all"
        ).fetchall() == [("b1", 1), ("b1", 2), ("b3", 4)]
        # A filter on the rows (pushed into the scan) reads the same files.
        assert con.execute(
            "select run_no from stg_ccmsetup__runs where bundle_id = 'b1' order by all"
        ).fetchall() == [(1,), (2,)]
