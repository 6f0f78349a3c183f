"""A batch's memory is bounded by a few bundles' rows, not by the batch size.

Past `pipeline.FLUSH_BYTES` of rows, a batch writes its tables out as Parquet
parts (``<run>-<batch>.partNNN.parquet``) and goes on; the manifest still
comes last and commits them. With the bound at one byte
every bundle is its own part: the warehouse must say exactly what one file
per table says.
"""

from __future__ import annotations

import duckdb

from espfleet import pipeline
from espfleet.runs import sweep
from espfleet.simulator.fleet import simulate
from espfleet.warehouse import Warehouse
from tests.fixtures import (
    OUTCOMES_SQL,
    expected_outcomes,
    ground_truth,
    ingest_without_prefect,
)


def test_a_batch_over_its_bound_writes_parts_and_loses_nothing(tmp_path, monkeypatch):
    share = tmp_path / "share"
    truth = simulate(devices=12, seed=5, out=share)
    whole = ingest_without_prefect(share, tmp_path / "whole")
    monkeypatch.setattr(pipeline, "FLUSH_BYTES", 1)
    parted = ingest_without_prefect(share, tmp_path / "parted")
    assert parted["rows"] == whole["rows"] and parted["ingested"] == 12
    events = sorted((tmp_path / "parted" / "parquet" / "events").rglob("*.parquet"))
    assert [e.name.rsplit("-", 1)[-1] for e in events] == [
        f"b00000.part{n:03d}.parquet" for n in range(12)
    ]  # one part per bundle
    assert sweep(Warehouse(tmp_path / "parted")) == []  # parts are committed
    manifests = list((tmp_path / "parted" / "manifest").rglob("*"))
    assert len([m for m in manifests if m.is_file()]) == 1
    with Warehouse(tmp_path / "parted").connect() as con:
        outcomes = con.execute(OUTCOMES_SQL).fetchall()
    assert outcomes == expected_outcomes(ground_truth(truth))


def test_a_part_writes_the_largest_tables_and_keeps_the_small_ones(
    tmp_path, monkeypatch
):
    """Each file costs the views its footer: the small tables of a batch that
    writes parts are written once, at its end (pipeline._flush)."""
    share = tmp_path / "share"
    truth = simulate(devices=12, seed=5, out=share)
    monkeypatch.setattr(pipeline, "FLUSH_BYTES", 200_000)
    ingest_without_prefect(share, tmp_path / "wh")
    root = tmp_path / "wh" / "parquet"

    def files(table):
        return sorted(p.name.split("-")[-1] for p in (root / table).rglob("*.parquet"))

    assert files("registry_values") == [f"b00000.part{n:03d}.parquet" for n in range(8)]
    for small in ("ts_runs", "ts_steps", "clock_anchors", "ime_app_reports"):
        assert files(small) == ["b00000.part008.parquet"], small
    with duckdb.connect() as con:  # a bundle's rows of a table: one file
        spread = con.execute(
            "select count(*) from (select bundle_id, count(distinct filename) n"
            f" from read_parquet('{root}/*/*/*.parquet', filename = true,"
            " union_by_name = true) group by bundle_id, parse_dirpath(filename)"
            " having n > 1)"
        ).fetchone()[0]
    assert spread == 0
    with Warehouse(tmp_path / "wh").connect() as con:
        outcomes = con.execute(OUTCOMES_SQL).fetchall()
    assert outcomes == expected_outcomes(ground_truth(truth))
