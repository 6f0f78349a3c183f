"""Flow tests run through the real Prefect engine against a temporary API server."""

from __future__ import annotations

import pytest

from espfleet.settings import configure_prefect


@pytest.fixture(scope="session")
def prefect_engine(tmp_path_factory):
    """One temporary Prefect server for the session (~20 s to start on 2 cores)."""
    configure_prefect(tmp_path_factory.mktemp("prefect-home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory):
    """PREFECT_HOME for CLI runs in child processes (its database migrates once)."""
    return tmp_path_factory.mktemp("cli-prefect-home")


@pytest.fixture(scope="session")
def clean_sample_run(tmp_path_factory, cli_home):
    """The sample ingested by one uninterrupted CLI run: (warehouse, seconds)."""
    from tests.fixtures import SAMPLE
    from tests.flows import cli_runs

    root = tmp_path_factory.mktemp("clean-run")
    run = cli_runs.start(
        ["ingest", str(SAMPLE), "--warehouse", str(root / "wh"), "--batch-size", "4"],
        cli_home,
        root / "logs",
    )
    assert run.wait() == 0, run.stderr
    seconds = cli_runs.time.monotonic() - run.started
    assert cli_runs.left_behind(run.mark) == []
    return root / "wh", seconds
