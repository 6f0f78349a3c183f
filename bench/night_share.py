"""Write a simulated share with several processes (the same bytes as `simulate`).

    .venv/bin/python bench/night_share.py --devices 1000 --size real \
        --out /tmp/real1000 [--jobs 2]

`espfleet simulate` writes bundles one after the other; a real-size share of
1,000 devices takes ~20 CPU minutes, so the night benchmark writes its share
with a process pool: the plans are made once (`plan_fleet`), each bundle is
written by `write_bundle` from its own seeded generators, and what writing a
bundle notes on its plan (CAB name, record times) comes back to be written
into ground_truth.csv and record_times.csv as `simulate` does.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from espfleet.simulator.fleet import plan_fleet, write_bundle
from espfleet.simulator.scenarios import Plan
from espfleet.simulator.truth import (
    COLUMNS,
    TIMES_COLUMNS,
    times_rows,
    truth_rows,
    write_csv,
)


def _write(job: tuple[Plan, int, str, str]) -> tuple[str, str, list]:
    plan, seed, out, size = job
    path = write_bundle(plan, seed, Path(out), size)
    return path, plan.cab_name, plan.clock.times


def make_share(devices: int, seed: int, out: Path, size: str, jobs: int) -> int:
    """Write the share; returns its size in bytes."""
    out.mkdir(parents=True, exist_ok=True)
    plans = plan_fleet(devices, seed)
    work = [(p, seed, str(out), size) for p in plans]
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(_write, work, chunksize=4))
    paths = []
    for plan, (path, cab_name, times) in zip(plans, results, strict=True):
        plan.cab_name, plan.clock.times = cab_name, times
        paths.append(path)
    write_csv(out / "ground_truth.csv", COLUMNS, truth_rows(plans, paths))
    write_csv(out / "record_times.csv", TIMES_COLUMNS, times_rows(plans, paths))
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", choices=("small", "real"), default="real")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    t0 = time.perf_counter()
    size = make_share(args.devices, args.seed, args.out, args.size, args.jobs)
    print(
        f"wrote {args.devices} devices ({args.size}) to {args.out}: "
        f"{size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
