"""The temporary Prefect API of a run on a machine with no Prefect server,
started as soon as the run knows it has work.

With no ``PREFECT_API_URL``, Prefect starts a temporary API server in the
first process that needs a client (``SubprocessASGIServer`` in
``prefect.server.api.server``; Prefect's docs, "Run a local Prefect server").
The run waited for it before the flow's first step: first its own import of
that module (the whole server: 3 to 10 s of CPU on this project's 2-core
machines), then the server process, which imports it again and starts (7 to
17 s), one after the other and after the run's listing of the share and its
imports of the engine.

So the run starts the server process itself at the command's first step,
with the command and environment both of Prefect's own launchers use
(``SubprocessASGIServer._run_uvicorn_command`` and ``prefect server start
--background``): ``python -m uvicorn --factory
prefect.server.api.server:create_app`` on a free port of 127.0.0.1, the UI
off, as an ephemeral server (no scheduler or other services). Its start then
overlaps the run's own work on the other core, and the run's process never
imports the server. The run waits for its health check only when the flow is
about to start (`in_use`), and stops it at its end; a run killed with kill -9
leaves it to its watchdog (`espfleet.supervise`: the server inherits the
run's token, so `supervise.watch()` comes first). Its output goes to the run's
stderr, as when Prefect started it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType
from typing import NoReturn

from .errors import UserError
from .server import answers
from .settings import RunSettings, configure_prefect

# Prefect's own setting for its temporary server (espfleet's default: 120 s)
STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
_POLL_S = 0.1
_STOP_WAIT_S = 5.0  # as SubprocessASGIServer.stop: SIGTERM, 5 s, then SIGKILL


def serves(settings: RunSettings) -> bool:
    """Whether a run on `settings` uses this module's server: every run but
    one with ``PREFECT_API_URL`` set, or whose batches go to a running Dask
    scheduler (``--dask-address``).
    Workers on other machines cannot reach a server on this machine's
    loopback: there, as Prefect does on its own, each process that needs an
    API starts its temporary server (docs/scale.md names a real server for
    a cluster)."""
    if os.environ.get("PREFECT_API_URL"):  # a profile's: `in_use` reads it
        return False
    return not (settings.task_runner == "dask" and settings.dask_address)


class TemporaryApiError(UserError):
    """The temporary Prefect API did not start (one line for the CLI)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryApi:
    """Prefect's temporary API server, started by this run."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self._proc = proc
        self.api_url = f"http://127.0.0.1:{port}/api"
        self._ready = False

    @classmethod
    def start(cls) -> TemporaryApi:
        """Start the server; returns at once, the server starting behind.
        Prefect's defaults for a run (`settings.configure_prefect`) are set
        first, as the server reads them from the environment."""
        configure_prefect()
        port = _free_port()
        spec = find_spec("prefect")
        assert spec is not None and spec.origin is not None
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(spec.origin).parent.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env={
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            },
            stdin=subprocess.DEVNULL,
            stdout=2,  # its output on the run's stderr: the run's stdout is its report
        )
        return cls(proc, port)

    def url(self) -> str:
        """The server's API URL, once it answers its health check.

        Raises:
            TemporaryApiError: the server exited, or did not answer in time.
        """
        if self._ready:
            return self.api_url
        timeout_s = float(os.environ.get(STARTUP_TIMEOUT_ENV) or 120)
        deadline = time.monotonic() + timeout_s
        while True:
            code = self._proc.poll()
            if code is not None:
                self._fail(f"its server exited with code {code}")
            if answers(self.api_url, timeout_s=2.0):
                self._ready = True
                return self.api_url
            if time.monotonic() >= deadline:
                self.close()
                self._fail(f"no answer from its server within {timeout_s:g} s")
            time.sleep(_POLL_S)

    def _fail(self, reason: str) -> NoReturn:
        raise TemporaryApiError(
            f"the temporary Prefect API did not start ({reason}); set "
            "PREFECT_API_URL to a running server (prefect server start)"
        )

    def close(self) -> None:
        """Stop the server (whether it answered yet or not) and wait for it."""
        if self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> TemporaryApi:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def in_use(api: TemporaryApi | None) -> Iterator[None]:
    """Prefect clients in this process, and the worker processes it starts,
    use `api`'s server (one started here when None, and stopped at the end),
    unless Prefect has an API configured: the environment, a profile,
    or this process's temporary settings (Prefect's test harness)."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    if configured:
        if api is not None and configured != api.api_url:
            api.close()  # started before Prefect's settings were read
        yield  # (or already in use: an outer `in_use` of the same server)
        return
    if api is None:
        with TemporaryApi.start() as started, in_use(started):
            yield
        return
    url = api.url()
    # In the environment for the worker processes (the process pool hands it
    # to its workers, a local Dask cluster's workers inherit it), and in the
    # process-wide settings, which threads read: the process pool's thread
    # that forwards its workers' events would otherwise start a server of its
    # own (the settings of `temporary_settings` live in one context only).
    before = os.environ.get("PREFECT_API_URL")
    before_global = prefect.context.GLOBAL_SETTINGS_CONTEXT
    os.environ["PREFECT_API_URL"] = url
    prefect.context.refresh_global_settings_context()
    try:
        yield
    finally:
        _drain()
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        prefect.context.GLOBAL_SETTINGS_CONTEXT = before_global


def _drain() -> None:
    """Send the events and logs Prefect still queues to this server now: at
    the process's exit, with the server's URL gone from the settings, they
    would start a temporary server of their own to send to (Prefect's test
    harness drains them the same way before it stops its server)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all()
    EventsWorker.drain_all()
