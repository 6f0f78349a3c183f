"""Fleet simulator speed: devices per second (and bytes written) on one core.

Usage: .venv/bin/python bench/bench_simulate.py [--devices N] [--seed S]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from espfleet.simulator.fleet import simulate


def main() -> None:
    """Simulate a fleet into a temporary folder and print the rate."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "share"
        t0 = time.perf_counter()
        gt = simulate(args.devices, args.seed, out)
        dt = time.perf_counter() - t0
        files = [p for p in out.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        bundles = len(gt.read_text(encoding="utf-8").splitlines()) - 1
    print(
        f"simulate: {args.devices} devices, {bundles} bundles, {len(files)} files, "
        f"{size / 1e6:.1f} MB in {dt:.2f} s -> {args.devices / dt:.0f} devices/s"
    )


if __name__ == "__main__":
    main()
