"""The refresh of an existing warehouse, timed: views created, derived files written.

    .venv/bin/python bench/bench_refresh.py WAREHOUSE [--repeat 3]

`espfleet refresh` rebuilds the DuckDB file: it creates every view of sql/
(each bound against the Parquet tables below it) and writes the DERIVED views
to <warehouse>/derived/ (`espfleet.database.build`). Printed: the seconds of
the whole refresh (best and median of `--repeat`), then, from the last
repeat, the seconds of creating the views (binding them, in all) and of
writing each derived file, and the load average. Make a warehouse with
`bench/bench_night.py --keep` or `espfleet ingest`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from pathlib import Path

from espfleet import database
from espfleet.warehouse import Warehouse


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("warehouse", type=Path)
    args.add_argument("--repeat", type=int, default=3)
    opts = args.parse_args()
    spent: dict[str, float] = defaultdict(float)
    real_materialise = database.materialise

    def materialise(con, root, version_of, name) -> None:
        t0 = time.perf_counter()
        real_materialise(con, root, version_of, name)
        seconds = time.perf_counter() - t0
        spent[f"derived {name}"] += seconds
        spent["views (in all)"] -= seconds  # called inside create_views

    def create(views):
        def timed(con, names, created=None):
            t0 = time.perf_counter()
            views(con, names, created)
            spent["views (in all)"] += time.perf_counter() - t0

        return timed

    database.materialise = materialise
    database.create_views = create(database.create_views)
    times = []
    for _ in range(opts.repeat):
        spent.clear()
        t0 = time.perf_counter()
        Warehouse(opts.warehouse).refresh()
        times.append(time.perf_counter() - t0)
    print(
        f"refresh of {opts.warehouse}: {min(times):.2f} s best,"
        f" {sorted(times)[len(times) // 2]:.2f} s median of {opts.repeat};"
        f" load {os.getloadavg()[0]:.1f}"
    )
    for name, seconds in spent.items():
        print(f"  {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
