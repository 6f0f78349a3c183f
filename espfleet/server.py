"""A Prefect API that schedules: the configured one, or a local server espfleet
starts and supervises (issue #12 item 7).

Served with no API configured, a Prefect deployment talks to a temporary
in-process API that has no scheduler ("Cannot schedule flows on an ephemeral
server"): it polls for scheduled runs that nothing ever creates. So `espfleet
serve` first makes sure of a real API:

- ``PREFECT_API_URL`` set (environment or Prefect profile): that API, checked
  to answer; one line saying what to run when it does not;
- else a local ``prefect server start`` on 127.0.0.1 (``--server-port``,
  default 4200), its database under ``PREFECT_HOME`` (``./.prefect`` unless
  set), its output in ``PREFECT_HOME/espfleet-server.log``. espfleet waits for
  it to answer, points this process and the flow runs it starts at it, starts
  it again if it dies, and stops it when serving ends (the watchdog of
  `espfleet.supervise` ends it if espfleet is killed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UserError
from .settings import RunSettings

DEFAULT_PORT = 4200
# The first start migrates a new database: ~30 s on two busy cores.
STARTUP_TIMEOUT_S = 180.0
_POLL_S = 0.5


class ServerError(UserError):
    """No Prefect API to schedule on: the configured one does not answer, or a
    local server cannot be started."""


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url).rstrip("/") if url else None


def answers(api_url: str, timeout_s: float = 5.0) -> bool:
    """Whether a Prefect API answers its health check at `api_url`."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout_s) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class LocalServer:
    """`prefect server start` on 127.0.0.1:`port`, started again if it dies."""

    def __init__(self, port: int, home: Path) -> None:
        self.port = port
        self.home = home
        self.api_url = f"http://127.0.0.1:{port}/api"
        self.log = home / "espfleet-server.log"
        self.restarts = 0
        self._proc: subprocess.Popen | None = None
        self._stopping = threading.Event()

    def _spawn(self) -> None:
        prefect = Path(sys.executable).with_name("prefect")
        command = [str(prefect)]
        if not prefect.exists():
            command = [sys.executable, "-m", "prefect"]
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env["PREFECT_HOME"] = str(self.home)
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [*command, "server", "start", "--host", "127.0.0.1"]
                + ["--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )

    def start(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        """Start the server and wait until it answers.

        Raises:
            ServerError: the port is taken, or the server did not answer in time.
        """
        if not _port_free(self.port):
            raise ServerError(
                f"port {self.port} on 127.0.0.1 is in use: if a Prefect server"
                f" runs there, set PREFECT_API_URL={self.api_url}; else give"
                " --server-port another port"
            )
        self._spawn()
        self._wait(timeout_s)
        threading.Thread(target=self._supervise, daemon=True).start()

    def _wait(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if answers(self.api_url, 2.0):
                return
            if self._proc is not None and self._proc.poll() is not None:
                break
            time.sleep(_POLL_S)
        self.stop()
        raise ServerError(
            f"the local Prefect server did not answer on {self.api_url} within"
            f" {timeout_s:.0f} s (its log: {self.log}); start one yourself with"
            f" `prefect server start` and set PREFECT_API_URL"
        )

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            if self._proc is not None and self._proc.poll() is not None:
                self.restarts += 1
                print(
                    f"espfleet serve: the Prefect server exited"
                    f" ({self._proc.returncode}); starting it again",
                    file=sys.stderr,
                )
                self._spawn()

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `grace_s`)."""
        self._stopping.set()
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def scheduling_api(port: int = DEFAULT_PORT) -> Iterator[str]:
    """The URL of a Prefect API with a scheduler, for as long as the block runs.

    Raises:
        ServerError: the configured API does not answer, or no local server
            could be started (one line saying what to run).
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = configured_api_url()
    if url is not None:
        if not answers(url):
            raise ServerError(
                f"the Prefect API at {url} (PREFECT_API_URL) does not answer:"
                " start it (`prefect server start`), or unset PREFECT_API_URL"
                " and espfleet serve starts a local server"
            )
        yield url
        return
    home = Path(os.environ.get("PREFECT_HOME") or Path.cwd() / ".prefect")
    server = LocalServer(port, home)
    print(
        f"espfleet serve: starting a local Prefect server on {server.api_url}"
        f" (database under {home}, log {server.log})",
        file=sys.stderr,
    )
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url  # the flow runs inherit it
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def serve_nightly(
    settings: RunSettings, cron: str, server_port: int = DEFAULT_PORT
) -> None:
    """Serve the nightly deployment on `cron` (blocks; Ctrl-C or SIGTERM stops it).

    The schedule fires: the runs are scheduled by the configured Prefect API
    (PREFECT_API_URL) or by a local server started here (`espfleet.server`).

    Raises:
        ServerError: the configured API does not answer, or no local server
            could be started.
    """
    import signal

    from espfleet.flows.nightly import serve as serve_flow

    from . import supervise

    supervise.watch()  # a killed serve takes its server and flow runs along

    def _stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)  # SIGTERM (systemctl stop): stop the server first

    signal.signal(signal.SIGTERM, _stop)
    with scheduling_api(server_port) as url:
        print(f"espfleet serve: schedule {cron!r} (UTC) on {url}", file=sys.stderr)
        serve_flow(settings, cron)
