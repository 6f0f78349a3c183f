"""A run with nothing new ends before Prefect starts; a new bundle still goes
through the engine (issue #12 item 4; the time is bench/bench_nothing_new.py's).

Each run is the real CLI in a child process. The run that must not start the
engine gets a PREFECT_HOME of its own, empty before it: the temporary Prefect
API writes its database there when it starts, so an empty home after the run
means no engine was started. The others share the session's home (its
database migrates once).
"""

from __future__ import annotations

import shutil

from espfleet.simulator.fleet import simulate
from tests.flows import cli_runs


def _ingest(share, warehouse, home, logs) -> cli_runs.CliRun:
    run = cli_runs.start(
        ["ingest", str(share), "--warehouse", str(warehouse)], home, logs
    )
    assert run.wait() == 0, run.stderr
    return run


def test_nothing_new_starts_no_engine_and_something_new_is_ingested(tmp_path, cli_home):
    share = tmp_path / "share"
    simulate(devices=4, seed=5, out=share)
    other = tmp_path / "other"
    simulate(devices=1, seed=6, out=other)
    warehouse, logs = tmp_path / "wh", tmp_path / "logs"

    first = _ingest(share, warehouse, cli_home, logs)
    assert "4 bundles ingested" in first.stdout

    idle_home = tmp_path / "home-idle"
    idle_home.mkdir()
    idle = _ingest(share, warehouse, idle_home, logs)
    assert "nothing new: 4 bundles already seen; no run started" in idle.stdout
    assert "ESP failure rates" in idle.stdout  # the reports still print
    assert list(idle_home.iterdir()) == []  # no Prefect API, no database
    assert cli_runs.left_behind(idle.mark) == []

    # One new bundle on the share: the engine runs and ingests it, only it.
    (bundle,) = [p for p in other.iterdir() if p.is_dir()]
    shutil.copytree(bundle, share / "NEW-SITE" / bundle.name)
    busy = _ingest(share, warehouse, cli_home, logs)
    assert "1 bundles ingested, 0 quarantined, 0 duplicates, 4 already seen" in (
        " ".join(busy.stdout.split())
    )
    assert busy.stdout.startswith("run 2")  # a flow run, with its id


def test_views_older_than_a_committed_batch_send_the_run_through_the_engine(
    tmp_path, cli_home
):
    """A run killed after its batches committed but before its refresh left
    derived tables that miss those bundles: nothing new, but the views must be
    rebuilt, so the engine runs."""
    import os

    share = tmp_path / "share"
    simulate(devices=2, seed=8, out=share)
    warehouse, logs = tmp_path / "wh", tmp_path / "logs"
    _ingest(share, warehouse, cli_home, logs)
    db = warehouse / "espfleet.duckdb"
    newest = max(p.stat().st_mtime for p in (warehouse / "manifest").iterdir())
    os.utime(db, (newest - 60, newest - 60))  # as if built before the last batch

    run = _ingest(share, warehouse, cli_home, logs)
    assert run.stdout.startswith("run 2") and "0 bundles ingested" in run.stdout
    assert db.stat().st_mtime >= newest  # rebuilt
