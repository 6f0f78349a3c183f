"""The end-of-night data-quality checks, timed on an existing warehouse.

    .venv/bin/python bench/bench_checks.py WAREHOUSE [--run RUN_ID] [--repeat 3]
    .venv/bin/python bench/bench_checks.py WAREHOUSE --by-view 10

Prints the seconds of every view's declared tests over the whole warehouse
(what `espfleet.quality.check_views` does with no scope) and over the raw rows
of one run (what the nightly flow does: the latest run unless --run names
one), with the number of checks, failed checks and bundles in each scope, and
the load average, since the machine may be shared. With ``--by-view N``, the
run's checks once (as the night runs them) and the N views that took longest,
each its rows computed once and its tests. Make a warehouse with
`bench/bench_night.py` or `espfleet ingest`.
"""

from __future__ import annotations

import argparse
import os
import time

from espfleet import pipeline
from espfleet.warehouse import Warehouse


def latest_run(warehouse: str) -> tuple[str, int, int]:
    """(latest run id, its bundles, all bundles) of the warehouse."""
    with Warehouse(warehouse).connect() as con:
        run, night, total = con.execute(
            "select max(ingest_run_id),"
            " count(*) filter (where ingest_run_id = (select max(ingest_run_id)"
            " from stg_ingest__bundles)), count(*) from stg_ingest__bundles"
        ).fetchone()
    return run, night, total


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("warehouse")
    args.add_argument("--run", default=None)
    args.add_argument("--repeat", type=int, default=3)
    args.add_argument(
        "--by-view",
        type=int,
        metavar="N",
        help="once, as the night checks the run: the N costliest views' seconds",
    )
    opts = args.parse_args()
    run, night, total = latest_run(opts.warehouse)
    run = opts.run or run
    print(f"warehouse {opts.warehouse}: {total} bundles; run {run}: {night} bundles")
    if opts.by_view:
        seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        pipeline.quality_gate(opts.warehouse, run, seconds)
        took = time.perf_counter() - t0
        print(f"the run's checks: {took:.1f} s; the costliest views (rows, tests):")
        for view, s in sorted(seconds.items(), key=lambda kv: -kv[1])[: opts.by_view]:
            print(f"  {s:8.2f} s  {view}")
        return
    for label, scope in (("whole warehouse", None), ("the run's raw rows", run)):
        times = []
        for _ in range(opts.repeat):
            t0 = time.perf_counter()
            results = pipeline.quality_gate(opts.warehouse, scope)
            times.append(time.perf_counter() - t0)
        failed = sum(not r.ok for r in results)
        print(
            f"{label}: {len(results)} checks, {failed} failed;"
            f" {min(times):.2f} s best, {sorted(times)[len(times) // 2]:.2f} s median"
            f" of {opts.repeat}; load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
