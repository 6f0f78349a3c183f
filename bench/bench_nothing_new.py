"""A night with nothing new: `espfleet ingest` over 10,000 known bundles, start
to end of the command (issue #12 item 4; goal: under 10 s on 2 cores).

The share (the simulator, small size) and its warehouse (one full ingest) are
built once under --workdir and kept; each timed run is the installed CLI in a
child process with no Prefect API configured, as the nightly job runs it.

Usage: .venv/bin/python bench/bench_nothing_new.py [--devices N] [--runs R]
       [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ESPFLEET = str(Path(sys.executable).with_name("espfleet"))


def _espfleet(args: list[str], cwd: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    started = time.perf_counter()
    done = subprocess.run(
        [ESPFLEET, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"espfleet {' '.join(args)} failed:\n{done.stderr}")
    return seconds, done.stdout


def main() -> None:
    """Build the share and warehouse once, then time the idle runs."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--workdir", type=Path, default=Path("/tmp/espfleet-bench-nothing-new")
    )
    args = ap.parse_args()
    work = args.workdir.resolve()
    share, warehouse = work / "share", work / "wh"
    work.mkdir(parents=True, exist_ok=True)
    if not (share / "ground_truth.csv").exists():
        seconds, _ = _espfleet(
            ["simulate", "--devices", str(args.devices), "--seed", "1"]
            + ["--out", str(share)],
            work,
        )
        print(f"simulated {args.devices} devices in {seconds:.0f} s (once)")
    bundles = len((share / "ground_truth.csv").read_text().splitlines()) - 1
    if not (warehouse / "espfleet.duckdb").exists():
        seconds, out = _espfleet(
            ["ingest", str(share), "--warehouse", str(warehouse)]
            + ["--batch-size", "100", "--lock-wait", "0"],
            work,
        )
        print(f"first ingest of {bundles} bundles in {seconds:.0f} s (once)")
    times = []
    for _ in range(args.runs):
        seconds, out = _espfleet(
            ["ingest", str(share), "--warehouse", str(warehouse)], work
        )
        if "nothing new" not in out:
            raise SystemExit(f"the run found something new:\n{out[:2000]}")
        times.append(seconds)
    print(
        f"nothing new over {bundles} known bundles: "
        + ", ".join(f"{t:.2f}" for t in times)
        + f" s (median {statistics.median(times):.2f} s; goal < 10 s)"
    )


if __name__ == "__main__":
    main()
