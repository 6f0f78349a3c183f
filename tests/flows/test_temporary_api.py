"""The temporary Prefect API a run starts early in a helper process
(`espfleet.temporary_api`): Prefect's own server, found, used, and gone with
the run; nothing started when Prefect has an API configured."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from espfleet.settings import RunSettings
from espfleet.temporary_api import TemporaryApi, TemporaryApiError, serves
from tests.flows import cli_runs

NOTHING_LISTENS = "http://127.0.0.1:9/api"  # the discard port: never a Prefect API


@pytest.fixture
def mark(monkeypatch, cli_home) -> str:
    """The helper and its server carry this mark in their environment."""
    mark = cli_runs.uuid.uuid4().hex
    monkeypatch.setenv(cli_runs.MARK_ENV, mark)
    monkeypatch.setenv("PREFECT_HOME", str(cli_home))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return mark


def commands(mark: str) -> list[str]:
    out = []
    for pid in cli_runs.marked(mark):
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode())
        except OSError:
            continue
    return out


def health(url: str) -> bytes:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        return response.read()


def test_the_helper_serves_prefects_api_until_the_run_closes_it(mark):
    api = TemporaryApi.start()
    url = api.url()
    assert url is not None and re.fullmatch(r"http://127\.0\.0\.1:\d+/api", url)
    assert health(url) == b"true"
    running = commands(mark)
    assert sum("espfleet.temporary_api" in c for c in running) == 1
    assert (
        sum("uvicorn" in c and "prefect.server.api.server" in c for c in running) == 1
    )
    api.close()
    assert cli_runs.left_behind(mark) == []
    with pytest.raises(OSError):
        health(url)


def test_a_run_that_ends_before_asking_leaves_nothing_starting(mark):
    # A user error (a foreign warehouse, say) ends the run while the server
    # is still starting: it is stopped, not waited for.
    api = TemporaryApi.start()
    api.close()
    # ended by SIGTERM: at its handler (143), or before Python set it (-15)
    assert api._proc.returncode in (143, -15)
    assert cli_runs.left_behind(mark, within_s=5) == []


def test_an_api_in_the_active_profile_is_used_and_no_server_started(
    mark, monkeypatch, tmp_path
):
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        'active = "nightly"\n\n[profiles.nightly]\n'
        f'PREFECT_API_URL = "{NOTHING_LISTENS}"\n'
    )
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(profiles))
    with TemporaryApi.start() as api:
        assert api.url() is None
    assert cli_runs.left_behind(mark, within_s=5) == []


def test_an_api_in_the_environment_starts_no_helper(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", NOTHING_LISTENS)
    assert not serves(RunSettings(source="share", warehouse=Path("wh")))


def test_workers_on_other_machines_do_not_get_this_machines_loopback(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    remote = RunSettings(
        source="share",
        warehouse=Path("wh"),
        task_runner="dask",
        dask_address="tcp://scheduler:8786",
    )
    assert not serves(remote)
    assert serves(RunSettings(source="share", warehouse=Path("wh")))


def test_a_server_that_does_not_start_is_one_line(mark, monkeypatch):
    # Prefect's own timeout for its temporary server, at zero: it gives up at once.
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "0")
    with TemporaryApi.start() as api, pytest.raises(TemporaryApiError) as error:
        api.url()
    assert str(error.value) == (
        "the temporary Prefect API did not start (Timed out while attempting to "
        "connect to ephemeral Prefect API server.); set PREFECT_API_URL to a "
        "running server (prefect server start)"
    )
    assert cli_runs.left_behind(mark, within_s=10) == []
