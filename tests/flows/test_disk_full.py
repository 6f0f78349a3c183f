"""A run whose disk fills up: one line saying what was kept and what to re-run,
no partial file, and after space is freed the re-run completes the warehouse
(raw tables equal to an uninterrupted run's).

The warehouse lives on a small tmpfs the test mounts (the tests run as root);
if mounting is refused the test is skipped and says so.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from espfleet import runs
from espfleet.warehouse import Warehouse
from tests.fixtures import SAMPLE
from tests.flows import cli_runs


def mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")


def test_a_full_disk_keeps_what_was_committed_and_the_rerun_completes(
    tmp_path, cli_home, clean_sample_run
):
    clean_wh, _ = clean_sample_run
    wh = tmp_path / "wh"
    mount_tmpfs(wh, "600k")  # the sample needs about 2 MB
    try:
        args = ["ingest", str(SAMPLE), "--warehouse", str(wh), "--batch-size", "4"]
        full = cli_runs.start(args, cli_home, tmp_path / "logs")
        assert full.wait() == 1
        lines = full.stderr.splitlines()
        assert len(lines) == 1, full.stderr
        (line,) = lines
        match = re.fullmatch(
            rf"espfleet: disk full writing to warehouse {re.escape(str(wh))}: kept"
            r" (\d+) of 17 batches \((\d+) of 41 new bundles are in the warehouse\);"
            rf" free space and re-run `espfleet ingest {re.escape(str(SAMPLE))}"
            rf" --warehouse {re.escape(str(wh))}` to ingest the other (\d+)",
            line,
        )
        assert match, line
        kept, bundles, other = map(int, match.groups())
        assert 0 < kept < 17 and bundles + other == 41
        assert cli_runs.left_behind(full.mark) == []
        # No partial file: every data file belongs to a committed batch.
        committed = runs.committed(Warehouse(wh))
        assert len(committed) == kept
        data = [p.stem for p in wh.glob("parquet/*/*/*.parquet")]
        assert {s for s in data if not s.endswith("-empty")} <= committed
        assert not list(wh.glob("**/.*.tmp"))
        subprocess.run(["mount", "-o", "remount,size=64m", str(wh)], check=True)
        again = cli_runs.start(args, cli_home, tmp_path / "logs")
        assert again.wait() == 0, again.stderr
        assert f"{bundles} already seen" in again.stdout
        assert cli_runs.raw_tables(wh) == cli_runs.raw_tables(clean_wh)
    finally:
        subprocess.run(["umount", "-l", str(wh)], check=False)
