"""The temporary Prefect API of a run on a machine with no Prefect server,
started in a helper process as soon as the run knows it has work.

With no ``PREFECT_API_URL``, Prefect starts a temporary API server in the
first process that needs a client: ``SubprocessASGIServer`` from
``prefect.server.api.server``, a uvicorn process on a free port of 127.0.0.1
(Prefect's docs, "Run a local Prefect server": the temporary server). A run
waited about 10 s for it before the flow's first step: importing the server
module (~3 s of CPU) and then the server's start (~7 s), one after the other
with the run's own listing of the share and its imports of the engine. Started
here, in a helper process, at the command's first step, both overlap that
work on the other core, and the run's process never imports the server.

The helper runs Prefect's own class, not a copy of it:

    python -m espfleet.temporary_api   (started by `TemporaryApi.start`)

It prints one line on its stdout: the server's API URL, ``configured`` when
Prefect has an API configured (the environment or the active profile: that API
is used and no server started), or ``error: ...``. It then waits for its stdin
to close, which happens when the run closes it or ends by any means, and stops
the server. The server's own output goes to the run's stderr, as it did when
Prefect started it in the run's process. A run killed with kill -9 leaves the
helper and the server to its watchdog (`espfleet.supervise`): both inherit the
run's token, so `supervise.watch()` comes first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from .errors import UserError
from .settings import RunSettings, configure_prefect

CONFIGURED = "configured"
_ERROR = "error: "
_STOP_WAIT_S = 15.0  # the server's own stop waits 5 s, then kills it


def serves(settings: RunSettings) -> bool:
    """Whether a run on `settings` uses this module's server: every run but
    one with ``PREFECT_API_URL`` set, or whose batches go to a running Dask
    scheduler (``--dask-address``).
    Workers on other machines cannot reach a server on this machine's
    loopback: there, as Prefect does on its own, each process that needs an
    API starts its temporary server (docs/scale.md names a real server for
    a cluster)."""
    if os.environ.get("PREFECT_API_URL"):  # a profile's is the helper's to see
        return False
    return not (settings.task_runner == "dask" and settings.dask_address)


class TemporaryApiError(UserError):
    """The temporary Prefect API did not start (one line for the CLI)."""


class TemporaryApi:
    """The helper process and, once it said, the URL it serves."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._proc = proc
        self._line: str | None = None

    @classmethod
    def start(cls) -> TemporaryApi:
        """Start the helper; returns at once, the server starting behind.
        Prefect's defaults for a run (`settings.configure_prefect`) are set
        first, as the helper reads them from the environment."""
        configure_prefect()
        proc = subprocess.Popen(
            [sys.executable, "-m", "espfleet.temporary_api"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return cls(proc)

    def url(self) -> str | None:
        """The server's API URL (waits for it to answer), or None when Prefect
        has an API configured.

        Raises:
            TemporaryApiError: the server did not start.
        """
        if self._line is None:
            assert self._proc.stdout is not None
            self._line = self._proc.stdout.readline().strip()
        if self._line == CONFIGURED:
            return None
        if not self._line.startswith("http"):
            reason = self._line.removeprefix(_ERROR) or (
                f"its helper exited with code {self._proc.wait()}"
            )
            raise TemporaryApiError(
                f"the temporary Prefect API did not start ({reason}); set "
                "PREFECT_API_URL to a running server (prefect server start)"
            )
        return self._line

    def close(self) -> None:
        """Stop the server and wait for the helper to end.

        A run that never asked for the URL (it ended on a user error first)
        does not wait for a server still starting: the helper is sent SIGTERM,
        on which it stops whatever it started and exits.
        """
        if self._line is None:
            self._proc.terminate()
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

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
    use `api`'s server (a helper started here when None, and stopped at the
    end), unless Prefect has an API configured: the environment, a profile,
    or this process's temporary settings (Prefect's test harness)."""
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        yield
        return
    if api is None:
        with TemporaryApi.start() as started, in_use(started):
            yield
        return
    url = api.url()
    if url is None:
        yield
        return
    # In the environment for the worker processes (the process pool hands it
    # to its workers, a local Dask cluster's workers inherit it), and in the
    # process-wide settings, which threads read: the process pool's thread
    # that forwards its workers' events would otherwise start a server of its
    # own (the settings of `temporary_settings` live in one context only).
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    refresh_global_settings_context()
    try:
        yield
    finally:
        _drain()
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        refresh_global_settings_context()


def _drain() -> None:
    """Send the events and logs Prefect still queues to this server now: at
    the process's exit, with the server's URL gone from the settings, they
    would start a temporary server of their own to send to (Prefect's test
    harness drains them the same way before it stops its server)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all()
    EventsWorker.drain_all()


def _serve() -> int:
    """The helper: start Prefect's temporary server, say where, wait, stop it."""
    # Ctrl-C reaches the whole process group: the run closes our stdin as it
    # stops, and the server's process handles the signal itself.
    signal.signal(signal.SIGINT, lambda *_: None)  # not SIG_IGN: not inherited
    # SIGTERM (the run's close, its watchdog) unwinds: the server is stopped by
    # the finally below, or by the atexit hook Prefect registers as it starts it.
    # Its exit code says so, as a shell's would (128 + 15).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    # Our line goes on a copy of the pipe; the server's process inherits
    # stderr as its stdout and nothing as its stdin (a server that wrote into
    # our pipe could fill it, as nobody reads past the first line).
    out = os.fdopen(os.dup(1), "w")
    control = os.dup(0)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        print(CONFIGURED, file=out, flush=True)
        return 0
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    try:  # SIGTERM may come at any point of the start: stop what began
        try:
            server.start()
        except Exception as error:  # any reason: the run says it in one line
            print(f"{_ERROR}{' '.join(str(error).split())[:300]}", file=out, flush=True)
            return 1
        print(server.api_url, file=out, flush=True)
        out.close()
        while os.read(control, 1024):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
