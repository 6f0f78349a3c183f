"""Each flow task, called through `.fn()` (no engine): it wraps its library call."""

from __future__ import annotations

from pathlib import Path

from espfleet.flows import nightly
from espfleet.warehouse import new_run_id
from tests.fixtures import SAMPLE


def test_tasks_run_the_nightly_steps_on_the_sample(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    found = nightly.discover_bundles.fn(str(SAMPLE), wh, False)
    assert (len(found.new), found.seen) == (41, 0)
    run_id = new_run_id()
    summary = nightly.ingest_batch.fn(
        str(SAMPLE), found.new, wh, run_id, "b00000", False, found.known_ids
    )
    assert (summary.ingested, summary.quarantined, summary.duplicates) == (40, 1, 0)
    assert nightly.refresh_warehouse.fn(wh, run_id) == wh / "espfleet.duckdb"
    checks = nightly.check_data_quality.fn(wh, run_id)
    assert len(checks) > 50 and [c for c in checks if not c.ok] == []
    rates = nightly.failure_rates.fn(wh)
    assert rates[0] == {
        "day": rates[0]["day"],
        "phase": "DeviceSetup",
        "error_code": "0x800705B4",
        "devices": 1,
        "failures": 1,
        "rate": 1.0,
    }
    assert str(rates[0]["day"]) == "2025-10-21" and len(rates) == 19
    again = nightly.discover_bundles.fn(str(SAMPLE), wh, False)
    assert (len(again.new), again.seen) == (0, 41)
