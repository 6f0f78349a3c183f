"""The night, measured: a share through the nightly run, one way per process.

    .venv/bin/python bench/bench_night.py --share /tmp/real1000 [--limit 200] \\
        [--modes single,procs,processes,threads,dask] [--batch-size 25]

Make the share first with `bench/night_share.py` (``--size real`` or small).
Each mode runs in a fresh child process (so its peak RSS is its own) on the
same bundles, into a fresh warehouse:

* ``single``: the pipeline's steps called directly, one process, no Prefect
  (the reference for parallel efficiency);
* ``procs``: the same steps, batches in a pool of 2 processes, no Prefect
  (what Prefect's Dask run is compared with);
* ``processes``: the nightly flow on the real Prefect engine, process runner
  with 2 workers (``espfleet ingest --task-runner process``);
* ``threads``: the same flow with the thread runner, 2 workers (what
  ``espfleet ingest --task-runner auto``, the default, runs on a night under
  256 MB);
* ``dask``: the nightly flow with the Dask task runner, 2 worker processes.

The flow modes run on a PREFECT_HOME an empty flow run migrated first, as
a nightly one is after its first night (``--cold``: a new one, migrated by
the measured run itself).

Printed per mode: wall and CPU seconds (the whole process tree), bundles/s,
MB/s of bundle bytes (compressed, on the share) and of members (unpacked),
peak RSS (the largest process and the tree's sum, sampled every 0.2 s), the
split of the run into steps, and the load average (`os.getloadavg`) before and
after: the machine is shared, so every figure carries its load. Then:
speedup and parallel efficiency against ``single``, the Prefect share of the
``processes`` and ``threads`` runs (wall minus the time in the pipeline's own
functions: discovery, the ingest batches over the 2 workers as each batch
timed itself, refresh, checks, reports) and of
the ``dask`` run (its wall against ``procs``), and the 10,000-bundle night
projected from the best measured rate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

MODES = ("single", "procs", "processes", "threads", "dask")
RUNNERS = {"processes": "process", "threads": "thread", "dask": "dask"}


def subset(share: Path, limit: int | None, into: Path) -> Path:
    """The first `limit` bundles of `share`, hard-linked under `into`."""
    if not limit:
        return share
    from espfleet.share import discover, filesystem

    fs, root = filesystem(str(share))
    refs = sorted(discover(fs, root), key=lambda r: r.uri)[:limit]
    for ref in refs:
        for f in ref.files:
            target = into / Path(f.path).relative_to(share.resolve())
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(f.path, target)
    return into


ZERO = time.perf_counter()  # the child's start: calls are placed against it
ZERO_WALL = time.time()


def _first_manifest(wh: Path) -> float:
    """When the run's first batch committed (its manifest's mtime)."""
    return min(p.stat().st_mtime for p in (wh / "manifest").glob("*.parquet"))


def _timed(timings: dict, name: str, fn):
    def run(*args, **kwargs):
        t0 = time.perf_counter()
        timings.setdefault(f"{name} starts at", [t0 - ZERO])
        try:
            return fn(*args, **kwargs)
        finally:
            timings.setdefault(name, []).append(time.perf_counter() - t0)

    return run


def night_end(wh: Path | str, run_id: str) -> list[tuple[str, object, tuple]]:
    """(name, function, arguments) of what the flow runs after its batches,
    in its order, with its default thresholds (also bench/bench_night_end.py)."""
    from espfleet import pipeline
    from espfleet.settings import RunSettings

    run = RunSettings()
    gate = (wh, run.delta_threshold, run.min_devices)
    return [
        ("refresh", pipeline.refresh_warehouse, (wh, run_id)),
        ("checks", pipeline.quality_gate, (wh, run_id)),
        ("rates", pipeline.failure_rates, (wh,)),
        ("flags", pipeline.rate_flags, gate),
        ("dashboard", pipeline.export_dashboard, (*gate, False)),
    ]


def _direct(share: str, wh: Path, batch: int, workers: int, timings: dict) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    from espfleet import pipeline
    from espfleet.warehouse import new_run_id

    run_id = new_run_id()
    t0 = time.perf_counter()
    found = pipeline.find_new_bundles(share, wh)
    timings["discover"] = [time.perf_counter() - t0]
    batches = pipeline.batches(found.new, batch, workers)
    args = [(share, b, wh, run_id, f"b{n:05d}") for n, b in enumerate(batches)]
    t0 = time.perf_counter()
    if workers == 1:
        summaries = [pipeline.ingest_batch(*a) for a in args]
    else:
        with ProcessPoolExecutor(workers) as pool:
            summaries = list(pool.map(pipeline.ingest_batch, *zip(*args, strict=True)))
    timings["ingest_wall"] = [time.perf_counter() - t0]
    for name, fn, fargs in night_end(wh, run_id):
        t0 = time.perf_counter()
        fn(*fargs)
        timings[name] = [time.perf_counter() - t0]
    return pipeline.add_up(summaries, found.seen, run_id)


def _flow(share: str, wh: Path, batch: int, runner: str, timings: dict) -> dict:
    from espfleet import pipeline
    from espfleet.settings import RunSettings

    # ingest_batch runs in worker processes too: its time is the batches' own
    # (BatchSummary.seconds, the totals' batch_seconds).
    for name in (
        "find_new_bundles",
        "refresh_warehouse",
        "quality_gate",
        "failure_rates",
        "rate_flags",
        "export_dashboard",
    ):
        setattr(pipeline, name, _timed(timings, name, getattr(pipeline, name)))
    from espfleet import api

    settings = RunSettings(
        source=share, warehouse=wh, batch_size=batch, task_runner=runner
    )
    result = api.ingest(settings)  # what `espfleet ingest` calls
    result.pop("failure_rates", None)
    return result


def child(mode: str, share: str, wh: Path, batch: int) -> None:
    """Run one mode in this process and print its JSON result."""
    timings: dict = {}
    t0 = time.perf_counter()
    if mode in ("single", "procs"):
        totals = _direct(share, wh, batch, 1 if mode == "single" else 2, timings)
    else:
        totals = _flow(share, wh, batch, RUNNERS[mode], timings)
        timings["ingest_batch"] = [totals["batch_seconds"]]
    wall = time.perf_counter() - t0
    from espfleet.warehouse import Warehouse

    with Warehouse(wh).connect() as con:
        unpacked = con.execute(
            "select coalesce(sum(size_bytes), 0) from stg_ingest__members"
        ).fetchone()[0]
    out = {k: totals[k] for k in ("ingested", "quarantined", "duplicates")}
    out |= {"rows": sum(totals["rows"].values()), "wall": wall}
    out |= {"unpacked": unpacked, "timings": {k: sum(v) for k, v in timings.items()}}
    out["first_batch_done"] = _first_manifest(wh) - ZERO_WALL
    print("RESULT " + json.dumps(out))


def warm_prefect() -> None:
    """One empty flow run: migrates PREFECT_HOME's database, registers blocks."""
    from espfleet.settings import configure_prefect

    configure_prefect()
    from prefect import flow

    flow(name="espfleet-bench-warm-up")(lambda: None)()


def measure(mode: str, share: Path, batch: int, tmp: Path, cold: bool = False) -> dict:
    """Run `mode` in a child process; sample its tree's RSS and CPU."""
    load_before = os.getloadavg()[0]
    cmd = [sys.executable, __file__, "--child", mode, "--share", str(share)]
    cmd += ["--batch-size", str(batch), "--warehouse", str(tmp / f"wh-{mode}")]
    env = dict(os.environ, PREFECT_HOME=str(tmp / f"prefect-{mode}"))
    # On a loaded machine the temporary API can take over 60 s (Prefect's
    # default) to answer the flow's first calls: the run then dies at start.
    env.setdefault("PREFECT_API_REQUEST_TIMEOUT", "300")
    if mode in RUNNERS and not cold:
        # A nightly PREFECT_HOME was migrated by the first night: so is this one
        # (a first run on a new home adds ~10 s of migration; --cold measures it).
        warm = [sys.executable, __file__, "--warm-prefect", "--share", str(share)]
        subprocess.run(warm, env=env, check=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    root = psutil.Process(proc.pid)
    peak_one = peak_sum = 0
    cpu: dict[int, float] = {}
    peaks: dict[int, tuple[int, str]] = {}  # pid -> (peak RSS, what it is)
    at_peak: list[tuple[str, int]] = []  # (what, RSS) of each process then
    started = time.perf_counter()
    peak_at = 0.0  # seconds into the run when the tree peaked
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss, roles = [], []
        for p in tree:
            try:
                role, now = _role(p, root), p.memory_info().rss
                rss.append(now)
                roles.append(role)
                if now > peaks.get(p.pid, (0, ""))[0]:
                    peaks[p.pid] = (now, role)
                t = p.cpu_times()
                # not children_*: a reaped worker's time is its own entry
                cpu[p.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                continue
        peak_one = max([peak_one, *rss])
        if sum(rss) > peak_sum:
            peak_sum, peak_at = sum(rss), time.perf_counter() - started
            at_peak = list(zip(roles, rss, strict=True))
        time.sleep(0.2)
    stdout = proc.communicate()[0]
    line = next((x for x in stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:  # the run failed: say so, and measure the other modes
        return {"mode": mode, "failed": f"exit {proc.returncode} (its stderr above)"}
    result = json.loads(line[len("RESULT ") :])
    result |= {"mode": mode, "cpu": sum(cpu.values()), "peak_one": peak_one}
    result |= {"peak_sum": peak_sum, "load": (load_before, os.getloadavg()[0])}
    result["peaks"] = sorted(
        ((role, round(rss / 2**20)) for rss, role in peaks.values()),
        key=lambda x: -x[1],
    )[:4]
    result["at_peak"] = [(role, round(rss / 2**20)) for role, rss in at_peak]
    result["peak_at"] = peak_at
    return result


def _role(p: psutil.Process, root: psutil.Process) -> str:
    """What a process of the run's tree is: the run, a worker, the API..."""
    if p.pid == root.pid:
        return "run"
    line = " ".join(p.cmdline())
    for needle, role in (
        ("uvicorn", "Prefect API"),
        ("spawn_main", "worker"),
        ("supervise", "watchdog"),
        ("resource_tracker", "resource tracker"),
        ("dask", "dask"),
    ):
        if needle in line:
            return role
    return p.name()


def share_bytes(share: Path) -> int:
    return sum(
        p.stat().st_size
        for p in share.rglob("*")
        if p.is_file() and not p.name.endswith(".csv")
    )


def report(results: list[dict], compressed: int) -> None:
    for r in results:
        if "failed" in r:
            print(f"{r['mode']:>7}: FAILED, {r['failed']}")
    results = [r for r in results if "failed" not in r]
    if not results:
        return
    by = {r["mode"]: r for r in results}
    for r in results:
        n = r["ingested"] + r["quarantined"]
        t = r["timings"]
        steps = ", ".join(f"{k} {v:.1f}" for k, v in sorted(t.items()))
        print(
            f"{r['mode']:>7}: {n} bundles in {r['wall']:.1f} s wall, {r['cpu']:.0f} s "
            f"CPU -> {n / r['wall']:.2f} bundles/s, {compressed / 1e6 / r['wall']:.1f} "
            f"MB/s packed, {r['unpacked'] / 1e6 / r['wall']:.1f} MB/s unpacked; peak "
            f"RSS {r['peak_one'] / 2**20:.0f} MiB (one process), "
            f"{r['peak_sum'] / 2**20:.0f} MiB (tree; by process, MiB: "
            f"{', '.join(f'{role} {mib}' for role, mib in r['peaks'])}; at the"
            f" tree's peak, {r['peak_at']:.0f} s in: "
            f"{', '.join(f'{role} {mib}' for role, mib in r['at_peak'] if mib > 50)}); "
            f"{r['rows']:,} rows; load "
            f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}\n         steps (s): {steps}"
        )
    if "single" in by:
        base = by["single"]["wall"]
        for mode in ("procs", "processes", "threads", "dask"):
            if mode in by:
                speedup = base / by[mode]["wall"]
                print(
                    f"{mode}: {speedup:.2f}x single-process throughput on 2 "
                    f"workers (parallel efficiency {speedup / 2:.0%})"
                )
    for mode in ("processes", "threads"):
        if mode not in by:
            continue
        r = by[mode]
        t = r["timings"]
        work = t.get("find_new_bundles", 0) + t.get("ingest_batch", 0) / 2
        work += sum(t.get(k, 0) for k in ("refresh_warehouse", "quality_gate"))
        work += sum(
            t.get(k, 0) for k in ("failure_rates", "rate_flags", "export_dashboard")
        )
        share = max(0.0, r["wall"] - work) / r["wall"]
        print(
            f"{mode}: Prefect (engine start, workers starting, task states, "
            f"futures, idle workers) {share:.1%} of the run "
            f"({r['wall'] - work:.1f} s of {r['wall']:.1f} s); the flow's first"
            f" step {t['find_new_bundles starts at']:.1f} s after the child"
            f" started, its first batch committed at {r['first_batch_done']:.1f} s"
        )
    if "dask" in by and "procs" in by:
        extra = by["dask"]["wall"] - by["procs"]["wall"]
        print(
            f"dask: Prefect + Dask {max(0.0, extra) / by['dask']['wall']:.1%} of the "
            f"run ({extra:.1f} s over the same batches in a plain process pool)"
        )
    best = min(results, key=lambda r: r["wall"] / max(1, r["ingested"]))
    per = best["wall"] / max(1, best["ingested"] + best["quarantined"])
    print(
        f"projected 10,000-bundle night at the {best['mode']} rate: "
        f"{per * 10000 / 60:.1f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--share", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--child", default=None)
    parser.add_argument("--warm-prefect", action="store_true")
    parser.add_argument(
        "--cold", action="store_true", help="a new PREFECT_HOME, not migrated yet"
    )
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="work in this folder and keep its warehouses (for bench_checks.py)",
    )
    args = parser.parse_args()
    if args.warm_prefect:
        warm_prefect()
        return
    if args.child:
        child(args.child, str(args.share), args.warehouse, args.batch_size)
        return
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        share = subset(args.share, args.limit, Path(tmp) / "share")
        compressed = share_bytes(share)
        print(f"share {share}: {compressed / 1e6:.0f} MB of bundle files")
        results = []
        for mode in args.modes.split(","):
            results.append(measure(mode, share, args.batch_size, Path(tmp), args.cold))
            print(json.dumps(results[-1]), flush=True)
        report(results, compressed)


if __name__ == "__main__":
    main()
