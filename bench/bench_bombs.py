"""Archive bombs through one real batch: seconds to quarantine and peak RSS.

    python bench/bench_bombs.py

Builds the 42.zip-style ZIP, the 3.6 GB CAB and their quiet variants of
tests/core/bombs.py beside two sample bundles, runs `pipeline.ingest_batch` in
a child process, and prints the child's wall time and peak RSS (getrusage
ru_maxrss), with each bomb's reason.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.core.test_bombs import bomb_share, measured_batch  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        share = bomb_share(Path(tmp))
        for bomb in sorted((share / "bombs").iterdir()):
            print(f"{bomb.name}: {bomb.stat().st_size} bytes on the share")
        got = measured_batch(share, Path(tmp) / "wh")
    print(
        f"batch of {got['ingested'] + len(got['quarantined'])} bundles:"
        f" {got['ingested']} ingested in {got['seconds']} s,"
        f" peak RSS {got['peak_rss_mb']} MB"
    )
    for uri, reason in sorted(got["quarantined"].items()):
        print(f"  quarantined {Path(uri).name}: {reason}")


if __name__ == "__main__":
    main()
