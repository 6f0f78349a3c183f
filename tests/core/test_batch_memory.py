"""A batch's memory is bounded by a few bundles' rows, not by the batch size.

Past `pipeline.FLUSH_BYTES` of rows, a batch writes its tables out as Parquet
parts (``<run>-<batch>.partNNN.parquet``) and goes on; the manifest still
comes last and commits them. With the bound at one byte
every bundle is its own part: the warehouse must say exactly what one file
per table says.
"""

from __future__ import annotations

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
