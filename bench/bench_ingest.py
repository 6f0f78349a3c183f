"""Ingest throughput: a simulated fleet through the pipeline, with and without Prefect.

    .venv/bin/python bench/bench_ingest.py [--devices 1000] [--flow]

Prints bundles/s, MB/s of bundle bytes and rows/s for the pipeline's steps
called directly (one process), and with --flow also through the Prefect flow
(thread runner, 2 workers, batches of 25).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from espfleet import pipeline
from espfleet.simulator.fleet import simulate
from espfleet.warehouse import new_run_id


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def direct(share: Path, warehouse: Path, batch: int = 25) -> tuple[float, dict]:
    start = time.perf_counter()
    run_id = new_run_id()
    found = pipeline.find_new_bundles(str(share), warehouse)
    summaries = [
        pipeline.ingest_batch(
            str(share), found.new[i : i + batch], warehouse, run_id, f"b{i:05d}"
        )
        for i in range(0, len(found.new), batch)
    ]
    pipeline.refresh_warehouse(warehouse, run_id)
    return time.perf_counter() - start, pipeline.add_up(summaries, 0, run_id)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--flow", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        share = Path(tmp) / "share"
        t0 = time.perf_counter()
        simulate(devices=args.devices, seed=args.seed, out=share)
        size = folder_bytes(share)
        print(
            f"simulated {args.devices} devices, {size / 1e6:.1f} MB in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        seconds, totals = direct(share, Path(tmp) / "wh-direct")
        bundles = totals["ingested"] + totals["quarantined"]
        rows = sum(totals["rows"].values())
        print(
            f"direct: {bundles} bundles in {seconds:.1f} s -> {bundles / seconds:.1f} "
            f"bundles/s, {size / 1e6 / seconds:.2f} MB/s, {rows / seconds:,.0f} rows/s "
            f"({rows:,} rows)"
        )
        if args.flow:
            from espfleet.flows.nightly import nightly

            t0 = time.perf_counter()
            result = nightly(source=str(share), warehouse=Path(tmp) / "wh-flow")
            seconds = time.perf_counter() - t0
            bundles = result["ingested"] + result["quarantined"]
            print(
                f"flow (thread runner, 2 workers, incl. server start): {bundles} "
                f"bundles in {seconds:.1f} s -> {bundles / seconds:.1f} bundles/s"
            )


if __name__ == "__main__":
    main()
