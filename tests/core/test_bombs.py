"""Real archive bombs through a real batch, measured in a child process.

The bombs (tests/core/bombs.py) are built from their formats: a 42.zip-style
nested ZIP (16 x 16 x 4 x 1 GiB of zeros, 1 TiB, 24 KB on disk) and an MSZIP CAB
that expands to 3.6 GB, both refused on the sizes their headers declare; and
their quiet variants, whose every member is within the member limit (16 x 16
x 2 x 128 MiB; 27 CAB files of 128 MiB), stopped while they decompress, by
the ratio and the bundle total. Each is a lone-archive bundle on a share beside
two good bundles of the sample; one batch ingests the good ones and quarantines
the bombs with their reason. The child's peak RSS (getrusage ru_maxrss) stays under
1 GB; `bench/bench_bombs.py` prints the same run's seconds and RSS.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.core import bombs

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, resource, sys, time
from pathlib import Path
from espfleet import pipeline
start = time.monotonic()
found = pipeline.find_new_bundles(sys.argv[1], Path(sys.argv[2]))
s = pipeline.ingest_batch(sys.argv[1], found.new, Path(sys.argv[2]), "r1", "b00000")
print(json.dumps({
    "ingested": s.ingested,
    "quarantined": dict(s.quarantine_reasons),
    "seconds": round(time.monotonic() - start, 2),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""


def bomb_share(root: Path) -> Path:
    """A share of two sample bundles and the two bombs, each a lone archive."""
    share = root / "share"
    for bundle in (
        "UK-LON/LON-9H2XGPX_20251027-103415",
        "JP-TYO/TYO-PFWGJTD9_20251029-154937",
    ):
        shutil.copytree(ROOT / "data" / "sample" / bundle, share / bundle)
    (share / "bombs").mkdir()
    (share / "bombs" / "DiagLogs-42.zip").write_bytes(bombs.nested_zip())
    (share / "bombs" / "mdmlogs-bomb.cab").write_bytes(bombs.mszip_cab())
    quiet_zip = bombs.nested_zip(files=2, file_size=128 << 20)
    (share / "bombs" / "DiagLogs-quiet.zip").write_bytes(quiet_zip)
    (share / "bombs" / "mdmlogs-quiet.cab").write_bytes(
        bombs.mszip_cab(per_folder=4096)
    )
    return share


def measured_batch(share: Path, warehouse: Path) -> dict:
    """One batch over `share` in a child process: what it did and its peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(share), str(warehouse)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bombs_are_quarantined_at_bounded_memory_and_the_batch_goes_on(tmp_path):
    share = bomb_share(tmp_path)
    assert (share / "bombs" / "DiagLogs-42.zip").stat().st_size < 25_000
    got = measured_batch(share, tmp_path / "wh")
    print(got)
    assert got["ingested"] == 2
    by_name = {Path(uri).name: reason for uri, reason in got["quarantined"].items()}
    assert by_name == {
        "DiagLogs-42.zip": "DiagLogs-42.zip/a00.zip/b00.zip/zeros0.bin: over budget: member declares 1073741824 bytes, more than 128 MB (ESPFLEET_MAX_MEMBER_MB)",
        "mdmlogs-bomb.cab": "mdmlogs-bomb.cab/0-zeros.bin: over budget: member declares 1802240000 bytes, more than 128 MB (ESPFLEET_MAX_MEMBER_MB)",
        "DiagLogs-quiet.zip": by_name["DiagLogs-quiet.zip"],
        "mdmlogs-quiet.cab": "mdmlogs-quiet.cab/2-zeros.bin: over budget: bundle unpacks to more than 256 MB (ESPFLEET_MAX_UNPACKED_MB)",
    }
    # 2 x 128 MiB files make 64 MiB out of ~260 KB in: the ratio trips first.
    assert re.fullmatch(
        r"DiagLogs-quiet\.zip/a00\.zip/b00\.zip/zeros0\.bin: over budget: compression"
        r" ratio over 100:1 \(64 MB out of 26\d{4} bytes so far; ESPFLEET_MAX_RATIO\)",
        by_name["DiagLogs-quiet.zip"],
    )
    assert got["peak_rss_mb"] < 1024
    assert len(list((tmp_path / "wh" / "quarantine").iterdir())) == 4
