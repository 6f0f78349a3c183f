"""`espfleet ingest --task-runner process` as a user runs it: no Prefect API
configured, batches in two spawned worker processes."""

from __future__ import annotations

from tests.fixtures import SAMPLE
from tests.flows import cli_runs


def test_the_workers_use_the_runs_one_prefect_api(tmp_path, cli_home, clean_sample_run):
    # Each worker used to start a temporary API server of its own (three for
    # a run in two workers); the run now names its server to them.
    clean_wh, _ = clean_sample_run
    wh = tmp_path / "wh"
    args = ["ingest", str(SAMPLE), "--warehouse", str(wh), "--batch-size", "8"]
    run = cli_runs.start(
        [*args, "--task-runner", "process"],
        cli_home,
        tmp_path / "logs",
        env={"PREFECT_API_URL": None},
    )
    most = cli_runs.most_api_servers(run)
    assert run.wait() == 0, run.stderr
    assert most == 1
    assert cli_runs.raw_tables(wh) == cli_runs.raw_tables(clean_wh)
    assert cli_runs.left_behind(run.mark) == []
