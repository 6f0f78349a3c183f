"""The end of the night on a warehouse `--copies` times one night's: time, peak RSS.

    .venv/bin/python bench/bench_night_end.py WAREHOUSE --copies 10 --out /tmp/wh10

What a night does after its batches (refresh, checks, failure rates, rate
flags, dashboard: `pipeline.refresh_warehouse` to `pipeline.export_dashboard`,
as ``single`` in bench/bench_night.py) reads the whole warehouse, so its time
and memory grow with the fleet, not with one bundle. A share of 10,000
real-size bundles takes hours to write on a 2-core machine; this measures
that end on a warehouse of the same size made from one that exists (a night
kept by ``bench/bench_night.py --keep``, or `espfleet ingest`'s):

* copy 0 is WAREHOUSE's committed files as they are; copy k (1 to
  `--copies` - 1) is each of them again, every ``bundle_id`` suffixed
  ``~k`` and, in the bundles table, ``serial_number`` and ``device_name``
  too, under the batch name ``<batch>x<k>`` (manifest included, so the
  views read it as committed). Each copy is another fleet of the same
  size and shape: distinct bundles and devices, the same rows otherwise.
* the reference tables are copied; derived files, the DuckDB file and the
  dashboard are left for the end to build.

Then each step runs in one fresh child process, in order, and the line
for it gives its seconds (wall and CPU) and the process's peak RSS so far
(``ru_maxrss``: each step's line is the largest of the steps up to it).
DuckDB is held to its per-connection bound as in a night
(`ESPFLEET_DUCKDB_MEMORY`, 1 GB by default). With ``--copies 1`` the
copy is WAREHOUSE itself, the figures of one night's end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Columns that make a copy's devices other devices (stg_ingest__bundles keys a
# device by serial number, else name, else bundle id).
_DEVICE_COLUMNS = ("serial_number", "device_name")


def _copy_name(stem: str, k: int) -> str:
    """``<run>-<batch>[.partNNN]`` -> ``<run>-<batch>x<k>[.partNNN]``."""
    batch, dot, part = stem.partition(".part")
    return f"{batch}x{k}{dot}{part}"


def _suffixed(table: pa.Table, columns: tuple[str, ...], suffix: str) -> pa.Table:
    for name in columns:
        if name in table.column_names:
            i = table.column_names.index(name)
            joined = pc.binary_join_element_wise(table.column(i), suffix, "")
            table = table.set_column(i, table.field(i), joined)
    return table


def _copy_file(src: Path, dst_dir: Path, k: int, table_name: str) -> int:
    """Copy k of one committed file; its rows."""
    table = pq.read_table(src)
    columns = ("bundle_id",) + (_DEVICE_COLUMNS if table_name == "bundles" else ())
    table = _suffixed(table, columns, f"~{k}")
    dst = dst_dir / f"{_copy_name(src.stem, k)}.parquet"
    tmp = dst.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.rename(dst)
    return table.num_rows


def replicate(src: Path, out: Path, copies: int, jobs: int) -> None:
    """`copies` fleets in `out` (module docstring)."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(src / "reference", out / "reference")
    shutil.copytree(src / "manifest", out / "manifest")
    shutil.copytree(src / "parquet", out / "parquet")
    if (src / "quarantine").is_dir():
        shutil.copytree(src / "quarantine", out / "quarantine")
    committed = {p.stem for p in (out / "manifest").glob("*.parquet")}
    work = []
    for path in sorted((out / "parquet").glob("*/*/*.parquet")):
        if path.stem.split(".part", 1)[0] in committed and "-empty" not in path.stem:
            work += [
                (path, path.parent, k, path.parent.parent.name)
                for k in range(1, copies)
            ]
    for path in sorted((out / "manifest").glob("*.parquet")):
        if "-empty" not in path.stem:
            work += [(path, path.parent, k, "manifest") for k in range(1, copies)]
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_copy_file, *zip(*work, strict=True), chunksize=4))


def child(warehouse: str) -> None:
    import resource

    from bench_night import night_end

    from espfleet import pipeline

    manifest = pa.concat_tables(
        pq.read_table(p) for p in sorted(Path(warehouse, "manifest").glob("*.parquet"))
    )
    run_id = pc.max(manifest.column("ingest_run_id")).as_py()
    for name, fn, args in night_end(warehouse, run_id):
        wall, cpu = time.perf_counter(), time.process_time()
        fn(*args)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps({"step": name, "wall": wall, "cpu": cpu, "peak": peak}),
            flush=True,
        )
        if name == "refresh":
            with pipeline.Warehouse(warehouse).connect() as con:
                bundles, devices = con.execute(
                    "select count(*), count(distinct device_key)"
                    " from stg_ingest__bundles"
                ).fetchone()
            print(json.dumps({"bundles": bundles, "devices": devices}), flush=True)


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("warehouse", type=Path)
    args.add_argument("--copies", type=int, default=10)
    args.add_argument("--out", type=Path)
    args.add_argument("--jobs", type=int, default=2)
    args.add_argument("--child", help=argparse.SUPPRESS)
    opts = args.parse_args()
    if opts.child:
        child(opts.child)
        return
    target = opts.warehouse
    if opts.copies > 1:
        if opts.out is None:
            sys.exit("--out is needed for more than one copy")
        t0 = time.perf_counter()
        replicate(opts.warehouse, opts.out, opts.copies, opts.jobs)
        took = time.perf_counter() - t0
        print(f"{opts.copies} copies of {opts.warehouse} in {opts.out}: {took:.0f} s")
        target = opts.out
    parquet = sum(p.stat().st_size for p in (target / "parquet").rglob("*.parquet"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, str(target), "--child", str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        r = json.loads(line)
        if "bundles" in r:
            print(
                f"{target}: {r['bundles']} bundles, {r['devices']} devices, "
                f"{parquet / 1e9:.2f} GB of Parquet tables"
            )
            continue
        print(
            f"  {r['step']:<10} {r['wall']:7.1f} s wall {r['cpu']:7.1f} s CPU, "
            f"peak RSS so far {r['peak']:6.0f} MiB"
        )
    if proc.wait():
        sys.exit(f"the child failed ({proc.returncode})")
    took = time.perf_counter() - t0
    print(f"  the end in all: {took:.1f} s; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
