"""The canonical mini-fleets tests run on, and what their ground truth implies.

`python -m tests.fixtures DIR` writes a simulated share, ingests it without
Prefect and leaves `DIR/warehouse/espfleet.duckdb` for manual poking.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from espfleet import pipeline
from espfleet.warehouse import new_run_id

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def ingest_without_prefect(source: Path, warehouse: Path, batch_size: int = 25) -> dict:
    """The nightly run's steps called directly (no engine): for fast SQL tests."""
    run_id = new_run_id()
    found = pipeline.find_new_bundles(str(source), warehouse)
    summaries = [
        pipeline.ingest_batch(
            str(source),
            found.new[i : i + batch_size],
            warehouse,
            run_id,
            f"b{i:05d}",
            known_ids=found.known_ids,
        )
        for i in range(0, len(found.new), batch_size)
    ]
    pipeline.refresh_warehouse(warehouse, run_id)
    return pipeline.add_up(summaries, seen=found.seen, run_id=run_id)


def ground_truth(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def bundles(rows: list[dict]) -> list[dict]:
    """One ground-truth row per bundle (a Try again bundle has one per attempt)."""
    return [r for r in rows if r.get("attempt_in_bundle", "") in ("", "1")]


def expected_rates(rows: list[dict]) -> list[tuple]:
    """failure_rates as its .yml defines it, computed from ground truth: each
    device counted once a day, by its latest attempt that day."""
    latest: dict[tuple[str, str], dict] = {}
    for r in rows:
        if r["expected_status"] != "ingested":
            continue
        key = (r["serial_number"], r["day"])
        if key not in latest or r["started_at"] > latest[key]["started_at"]:
            latest[key] = r
    return expected_rates_by_attempt(list(latest.values()))


# the outcomes sql/macros/is_failure.sql does not count as failures
NOT_FAILURES = (
    "succeeded",
    "succeeded_on_retry",
    "unknown",
    "in_progress",
    "not_attempted",
)


def expected_rates_by_attempt(rows: list[dict]) -> list[tuple]:
    """failure_rates_by_attempt from ground truth: every attempt counted."""
    attempts: dict[str, int] = {}
    failures: dict[tuple, int] = {}
    for r in rows:
        if r["expected_status"] != "ingested":
            continue
        attempts[r["day"]] = attempts.get(r["day"], 0) + 1
        if r["outcome"] not in NOT_FAILURES:
            key = (r["day"], r["failed_phase"], r["error_code"] or None)
            failures[key] = failures.get(key, 0) + 1
    return sorted(
        (day, phase, code, attempts[day], n, n / attempts[day])
        for (day, phase, code), n in failures.items()
    )


RATES_SQL = """
select day::varchar, phase, error_code, devices, failures, rate
from failure_rates order by all
"""

RATES_BY_ATTEMPT_SQL = """
select day::varchar, phase, error_code, attempts, failures, rate
from failure_rates_by_attempt order by all
"""

OUTCOMES_SQL = """
select serial_number, attempt, outcome, coalesce(failed_phase, ''),
       coalesce(error_code, ''), cause
from device_outcomes order by all
"""


def expected_outcomes(rows: list[dict]) -> list[tuple]:
    return sorted(
        (
            r["serial_number"],
            int(r["attempt"]),
            r["outcome"],
            r["failed_phase"],
            r["error_code"],
            r["cause"],
        )
        for r in rows
        if r["expected_status"] == "ingested"
    )


if __name__ == "__main__":
    from espfleet.simulator.fleet import simulate

    out = Path(sys.argv[1])
    simulate(devices=30, seed=3, out=out / "share")
    print(ingest_without_prefect(out / "share", out / "warehouse"))
