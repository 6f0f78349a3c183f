"""kill -9 a real `espfleet ingest` at random points: nothing of it stays alive,
the views never show an uncommitted batch, and the re-run leaves raw tables
equal to an uninterrupted run's, row for row.

`make test` kills 2 runs; `make soak` kills ESPFLEET_SOAK_KILLS (20). The kill
times are drawn from a seeded generator over the length of a clean run, one per
slice, so the kills land at start-up, among the batches and in the refresh
(each test prints where its kill fell). The
odd kills run on Dask. The first kill also checks the run lock: a second run started meanwhile waits its
--lock-wait, then exits 75 with one line naming the holder; after the kill the
kernel has released the lock, and the re-run takes it at once.
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from espfleet.database import quote_identifier
from espfleet.warehouse import Warehouse
from tests.fixtures import SAMPLE
from tests.flows import cli_runs

KILLS = int(os.environ.get("ESPFLEET_SOAK_KILLS", "2"))
SEED = 20261201


def ingest_args(warehouse: Path, *extra: str) -> list[str]:
    return [
        "ingest",
        str(SAMPLE),
        "--warehouse",
        str(warehouse),
        "--batch-size",
        "4",
        *extra,
    ]


def committed_bundle_ids(warehouse: Path) -> set[str]:
    """Bundles a committed manifest names as ingested or quarantined."""
    ids = set()
    for path in (warehouse / "manifest").glob("*.parquet"):
        for row in pq.read_table(path).to_pylist():
            if row["status"] in ("ingested", "quarantined"):
                ids.add(row["bundle_id"])
    return ids


def views_show_only_committed(warehouse: Path) -> None:
    if not (warehouse / "espfleet.duckdb").exists():
        return  # killed before its first refresh: no view to read yet
    committed = committed_bundle_ids(warehouse)
    with Warehouse(warehouse).connect() as con:
        # Every staging view of a bundle's rows (the catalogue has none).
        views = [
            v
            for (v,) in con.execute(
                "select distinct table_name from duckdb_columns()"
                " where table_name like 'stg_%' and column_name = 'bundle_id'"
            ).fetchall()
        ]
        assert len(views) >= 10, views
        for view in views:
            try:
                seen = {
                    b
                    for (b,) in con.execute(
                        f"select distinct bundle_id from {quote_identifier(view)}"
                    ).fetchall()
                }
            except duckdb.Error as error:  # a table whose files are not written yet
                assert "No files found" in str(error), error
                continue
            assert seen <= committed, (view, len(seen - committed))


def kill_times(clean_seconds: float) -> list[float]:
    """One time per slice of [1 s, 90% of a clean run], drawn from SEED."""
    rnd = random.Random(SEED)
    span = 0.9 * clean_seconds - 1.0
    return [1.0 + span * (n + rnd.random()) / KILLS for n in range(KILLS)]


@pytest.mark.parametrize("n", range(KILLS))
def test_kill_9_at_a_random_point(n, tmp_path, cli_home, clean_sample_run):
    clean_wh, clean_seconds = clean_sample_run
    delay = kill_times(clean_seconds)[n]
    wh = tmp_path / "wh"
    # Odd kills run on Dask (worker processes to end too), even ones on threads.
    runner = ["--task-runner", "dask"] if n % 2 else []
    victim = cli_runs.start(ingest_args(wh, *runner), cli_home, tmp_path / "logs")
    if n == 0:  # the lock, while the victim holds it
        holds = f'"pid": {victim.proc.pid},'.encode()
        lock = wh / ".espfleet.lock"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and victim.proc.poll() is None:
            if lock.exists() and holds in lock.read_bytes():
                break
            time.sleep(0.1)
        second = cli_runs.start(
            ingest_args(wh, "--lock-wait", "1"), cli_home, tmp_path / "logs"
        )
        assert second.wait() == 75
        (line,) = second.stderr.splitlines()
        assert re.fullmatch(
            rf"espfleet: warehouse {re.escape(str(wh))} is in use by run \S+ \(pid"
            rf" {victim.proc.pid} on \S+, since \S+: espfleet ingest .*\); waited 1 s"
            r" \(--lock-wait to wait longer\)",
            line,
        ), line
    time.sleep(max(0.0, delay - (time.monotonic() - victim.started)))
    if victim.proc.poll() is None:
        os.kill(victim.proc.pid, signal.SIGKILL)
    victim.wait()
    print(
        f"kill {n} ({'dask' if runner else 'threads'}): {delay:.1f} s into a"
        f" {clean_seconds:.1f} s run, exit {victim.proc.returncode}"
    )
    assert cli_runs.left_behind(victim.mark) == []
    views_show_only_committed(wh)
    again = cli_runs.start(
        ingest_args(wh, "--lock-wait", "0"), cli_home, tmp_path / "logs"
    )
    assert again.wait() == 0, again.stderr
    assert cli_runs.left_behind(again.mark) == []
    assert cli_runs.raw_tables(wh) == cli_runs.raw_tables(clean_wh)
