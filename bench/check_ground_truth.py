"""device_outcomes against the simulator's ground truth on a large fleet.

Simulates a fleet (2,000 devices by default), ingests it without the Prefect
engine and prints how many attempts the diagnosis got right, with every
mismatch. Exit status 1 when any attempt differs. Example:

    .venv/bin/python bench/check_ground_truth.py --devices 2000 --seed 11
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fixtures

from espfleet import pipeline  # noqa: E402
from espfleet.simulator.fleet import simulate  # noqa: E402
from espfleet.warehouse import Warehouse, new_run_id  # noqa: E402
from tests.fixtures import OUTCOMES_SQL, expected_outcomes, ground_truth  # noqa: E402


def ingest(share: Path, warehouse: Path, batch_size: int = 50) -> None:
    """The nightly run's steps called directly (no engine)."""
    run_id = new_run_id()
    found = pipeline.find_new_bundles(str(share), warehouse)
    for i in range(0, len(found.new), batch_size):
        pipeline.ingest_batch(
            str(share),
            found.new[i : i + batch_size],
            warehouse,
            run_id,
            f"b{i:05d}",
            known_ids=found.known_ids,
        )
    pipeline.refresh_warehouse(warehouse, run_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        simulate(devices=args.devices, seed=args.seed, out=root / "share")
        t1 = time.perf_counter()
        ingest(root / "share", root / "wh")
        t2 = time.perf_counter()
        with Warehouse(root / "wh").connect() as con:
            got = con.execute(OUTCOMES_SQL).fetchall()
        expected = expected_outcomes(ground_truth(root / "share" / "ground_truth.csv"))
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    outcomes = Counter(r[2] for r in expected)
    print(f"devices {args.devices}, seed {args.seed}: {len(expected)} attempts")
    print(f"simulate {t1 - t0:.1f} s, ingest and refresh {t2 - t1:.1f} s")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    same = not missing and not extra
    print(f"device_outcomes rows {len(got)}; equal to ground truth: {same}")
    for row in missing:
        print("  expected, not found:", row)
    for row in extra:
        print("  found, not expected:", row)
    return 1 if missing or extra else 0


if __name__ == "__main__":
    sys.exit(main())
