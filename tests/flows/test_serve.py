"""`espfleet serve` gives a schedule that fires (issue #12 item 7).

The real CLI in a child process, with no Prefect API configured and a new
PREFECT_HOME: it must start a local Prefect server (whose scheduler creates the
runs), serve the deployment on an every-minute cron, and a flow run must
complete and fill the warehouse; stopping serve stops the server too.
"""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.request

import pytest

from espfleet.simulator.fleet import simulate
from espfleet.warehouse import Warehouse
from tests.flows import cli_runs

FINAL = ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _finished_runs(api: str) -> list[dict]:
    body = json.dumps({"flow_runs": {"state": {"type": {"any_": FINAL}}}}).encode()
    request = urllib.request.Request(
        f"{api}/flow_runs/filter",
        data=body,
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except OSError:
        return []  # the server is not up yet


@pytest.mark.slow
def test_serve_every_minute_runs_the_flow_on_a_local_server(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    simulate(devices=2, seed=11, out=share)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    serve = cli_runs.start(
        ["serve", str(share), "--warehouse", str(warehouse), "--cron", "* * * * *"]
        + ["--server-port", str(port)],
        tmp_path / "home",
        tmp_path / "logs",
        env={"PREFECT_API_URL": None},
    )
    try:
        deadline = time.monotonic() + 420  # migrations, the next minute, the run
        runs: list[dict] = []
        while not runs and time.monotonic() < deadline and serve.proc.poll() is None:
            time.sleep(3)
            runs = _finished_runs(api)
        assert runs, f"no flow run finished; serve said:\n{serve.stderr[-3000:]}"
        assert runs[0]["state_type"] == "COMPLETED", runs[0]["state"]
        assert runs[0]["deployment_id"] is not None  # a scheduled deployment run
        assert (tmp_path / "home" / "prefect.db").exists()  # under PREFECT_HOME
        with Warehouse(warehouse).connect() as con:
            assert con.execute("select count(*) from bundles").fetchone() == (2,)
    finally:
        serve.proc.send_signal(signal.SIGTERM)
        serve.wait(60)
    output = serve.stdout + serve.stderr
    assert "Cannot schedule flows on an ephemeral server" not in output
    assert f"starting a local Prefect server on {api}" in output
    assert cli_runs.left_behind(serve.mark, within_s=20) == []  # server stopped


def test_serve_refuses_in_one_line_a_configured_api_that_does_not_answer(tmp_path):
    api = f"http://127.0.0.1:{_free_port()}/api"
    serve = cli_runs.start(
        ["serve", str(tmp_path / "share"), "--warehouse", str(tmp_path / "wh")],
        tmp_path / "home",
        tmp_path / "logs",
        env={"PREFECT_API_URL": api},
    )
    assert serve.wait(120) == 1
    assert serve.stderr.strip().splitlines() == [
        f"espfleet: the Prefect API at {api} (PREFECT_API_URL) does not answer:"
        " start it (`prefect server start`), or unset PREFECT_API_URL and"
        " espfleet serve starts a local server"
    ]
