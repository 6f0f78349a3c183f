"""The temporary Prefect API a run starts at its first step
(`espfleet.temporary_api`): Prefect's own server, found, used, and gone with
the run; not used when Prefect has an API configured."""

from __future__ import annotations

import os
import re
import threading
import urllib.request
from pathlib import Path

import pytest

from espfleet.settings import RunSettings
from espfleet.temporary_api import TemporaryApi, TemporaryApiError, in_use, serves
from tests.flows import cli_runs

NOTHING_LISTENS = "http://127.0.0.1:9/api"  # the discard port: never a Prefect API


@pytest.fixture
def mark(monkeypatch, cli_home) -> str:
    """The server carries this mark in its environment."""
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


def test_the_run_starts_prefects_server_and_stops_it_at_its_end(mark):
    api = TemporaryApi.start()
    url = api.url()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api", url)
    assert health(url) == b"true"
    (server,) = commands(mark)
    assert "uvicorn" in server and "prefect.server.api.server:create_app" in server
    api.close()
    assert cli_runs.left_behind(mark) == []
    with pytest.raises(OSError):
        health(url)


def test_a_run_that_ends_before_asking_stops_the_starting_server(mark):
    # A user error (a foreign warehouse, say) ends the run while the server
    # is still starting: it is stopped, not waited for.
    api = TemporaryApi.start()
    api.close()
    assert cli_runs.left_behind(mark, within_s=1) == []


def test_an_api_in_prefects_settings_is_used_and_the_server_stopped(mark):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api = TemporaryApi.start()
    with temporary_settings(updates={PREFECT_API_URL: NOTHING_LISTENS}):
        with in_use(api):
            assert PREFECT_API_URL.value() == NOTHING_LISTENS
            assert cli_runs.left_behind(mark, within_s=1) == []


def test_the_workers_and_threads_are_told_the_servers_url(mark):
    from prefect.settings import (
        PREFECT_API_URL,
        get_current_settings,
        temporary_settings,
    )

    def in_a_new_thread() -> list[str]:  # no context: the process-wide settings
        seen: list[str] = []
        thread = threading.Thread(
            target=lambda: seen.append(str(get_current_settings().api.url))
        )
        thread.start()
        thread.join()
        return seen

    outside = in_a_new_thread()
    # as in a fresh `espfleet ingest`: no API configured (whatever harness
    # an earlier test of this session entered)
    with (
        temporary_settings(restore_defaults={PREFECT_API_URL}),
        TemporaryApi.start() as api,
        in_use(api),
    ):
        assert os.environ["PREFECT_API_URL"] == api.api_url
        assert in_a_new_thread() == [api.api_url]
    assert "PREFECT_API_URL" not in os.environ
    assert in_a_new_thread() == outside


def test_an_api_in_the_environment_starts_no_server(monkeypatch):
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


def test_a_server_that_does_not_answer_in_time_is_one_line(mark, monkeypatch):
    # Prefect's own start-up timeout for its temporary server, at zero.
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "0")
    with TemporaryApi.start() as api, pytest.raises(TemporaryApiError) as error:
        api.url()
    assert str(error.value) == (
        "the temporary Prefect API did not start (no answer from its server "
        "within 0 s); set PREFECT_API_URL to a running server (prefect server start)"
    )
    assert cli_runs.left_behind(mark, within_s=1) == []
