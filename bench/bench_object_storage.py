"""Share and warehouse on object storage, with Dask workers in separate
processes (issue #12 item 5): the same fleet ingested four ways, each the real
CLI in a child process, on this machine.

  local   folder share -> folder warehouse, thread runner (the baseline)
  s3      S3 share -> S3 warehouse, thread runner
  dask    S3 share -> S3 warehouse, a `dask scheduler` + 2 `dask worker` processes
  idle    the same command again: nothing new, on S3

The S3 server is moto's server mode on 127.0.0.1 (an HTTP server in its own
process; a real store adds network latency, not CPU). Prints seconds and
bundles/s for each.

Usage: .venv/bin/python bench/bench_object_storage.py [--devices N] [--batch-size B]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from espfleet.simulator.fleet import simulate

# The S3 server and the Dask cluster are the test suite's (tests/flows/s3.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.flows.s3 import dask_cluster, moto_server  # noqa: E402

ESPFLEET = str(Path(sys.executable).with_name("espfleet"))


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [ESPFLEET, *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"espfleet {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.stdout


def main() -> None:
    """Ingest one simulated fleet four ways and print the times."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        truth = simulate(args.devices, 3, work / "share")
        bundles = len(truth.read_text().splitlines()) - 1
        home = {"PREFECT_HOME": str(work / "prefect")}
        batch = ["--batch-size", str(args.batch_size)]
        # warm-up: Prefect's database migrates once, outside the timings
        warm = ["ingest", str(work / "share"), "--warehouse", str(work / "warm")]
        _run(warm, home, work)
        with moto_server(work / "moto") as s3:
            fs = s3.filesystem()
            fs.mkdir("fleet")
            fs.put(str(work / "share"), "fleet/share", recursive=True)
            env = home | s3.env
            times = {
                "local": _run(
                    ["ingest", str(work / "share"), "--warehouse", str(work / "wh")]
                    + batch,
                    home,
                    work,
                )[0],
                "s3": _run(
                    ["ingest", "s3://fleet/share", "--warehouse", "s3://fleet/wh1"]
                    + batch,
                    env,
                    work,
                )[0],
            }
            with dask_cluster(work / "dask", env) as address:
                times["dask"] = _run(
                    ["ingest", "s3://fleet/share", "--warehouse", "s3://fleet/wh2"]
                    + batch
                    + ["--task-runner", "dask", "--dask-address", address],
                    env,
                    work,
                )[0]
            seconds, out = _run(
                ["ingest", "s3://fleet/share", "--warehouse", "s3://fleet/wh2"],
                env,
                work,
            )
            assert "nothing new" in out, out[:2000]
            times["idle"] = seconds
    print(f"object storage: {bundles} bundles, batch size {args.batch_size}")
    for name, seconds in times.items():
        rate = "" if name == "idle" else f" ({bundles / seconds:.1f} bundles/s)"
        print(f"  {name:<6} {seconds:6.1f} s{rate}")


if __name__ == "__main__":
    main()
