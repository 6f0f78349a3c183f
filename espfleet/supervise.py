"""Helper processes end with their run, however the run ends.

A run starts helpers: the temporary Prefect API server (a uvicorn process) and,
with ``--task-runner dask``, Dask's nanny and worker processes. When the run
dies by kill -9 or the OOM killer, nothing in it can stop them, and they are
re-parented to init, still holding Prefect's database (~230 MB each).

So `watch()` starts a small watchdog first, in its own session (Ctrl-C and a
killed process group leave it standing). The run marks its environment with a
token that every helper inherits (``ESPFLEET_RUN_TOKEN``). The watchdog holds
the read end of a pipe whose only writer is the run: when the run ends, by any
means, the pipe closes; the watchdog then sends SIGTERM to every process whose
initial environment carries the token, SIGKILL after a grace period, and exits.
It also checks that the run's pid is still the run (by its start time), in case
a fork kept the pipe open.

    python -m espfleet.supervise RUN_PID RUN_START TOKEN   (started by watch())
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

TOKEN_ENV = "ESPFLEET_RUN_TOKEN"
GRACE_S = 5.0
_POLL_S = 0.5
_started: list[int] = []  # the write end of this process's watchdog pipe


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def marked(token: str) -> list[int]:
    """Pids of the processes whose initial environment carries `token`."""
    needle = f"{TOKEN_ENV}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def end_all(token: str, grace_s: float = GRACE_S) -> list[int]:
    """SIGTERM every process marked with `token`, SIGKILL what is left after
    `grace_s`; returns the pids that were found."""
    pids = marked(token)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and marked(token):
        time.sleep(0.1)
    for pid in marked(token):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


def watch() -> str:
    """Start this process's watchdog (once); returns the run's token."""
    if _started:
        return os.environ[TOKEN_ENV]
    token = uuid.uuid4().hex
    os.environ[TOKEN_ENV] = token
    read_end, write_end = os.pipe()  # both non-inheritable (PEP 446)
    me = os.getpid()
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    subprocess.Popen(
        [
            sys.executable,
            "-m",
            "espfleet.supervise",
            str(me),
            str(start_time(me)),
            token,
        ],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,  # the watchdog itself is not marked: it must outlive the run
        start_new_session=True,
    )
    os.close(read_end)
    _started.append(write_end)
    return token


def _run_alive(pid: int, started: str) -> bool:
    return start_time(pid) == started


def main(argv: list[str]) -> None:
    """The watchdog: wait for the run to end, then end its helpers."""
    pid, started, token = int(argv[1]), argv[2], argv[3]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while _run_alive(pid, started):
        ready, _, _ = select.select([sys.stdin], [], [], _POLL_S)
        if ready and not os.read(sys.stdin.fileno(), 1):
            break  # EOF: the run has ended (its last copy of the pipe closed)
    end_all(token)


if __name__ == "__main__":
    main(sys.argv)
