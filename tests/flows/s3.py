"""A real S3-compatible server (moto's server mode) and a Dask cluster of
separate processes on 127.0.0.1, for the object-storage tests (issue #12 item 5).

Every process started here is ended by its own PID when the context ends.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.flows.smb import free_port

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class S3Server:
    """The server's endpoint and the credentials that reach it."""

    endpoint: str
    key: str
    secret: str

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach the server (as s3fs reads it)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(
            key=self.key,
            secret=self.secret,
            client_kwargs={"endpoint_url": self.endpoint},
            use_listings_cache=False,
        )


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on {port}: {log.read_text()[-2000:]}")


def _stop(procs: list[subprocess.Popen]) -> None:
    """End each process and its session (a Dask worker with no PREFECT_API_URL
    starts a temporary Prefect API of its own, which would outlive it)."""
    import signal

    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # what is left of its session
        except ProcessLookupError:
            pass


@contextmanager
def moto_server(work: Path) -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 (a real HTTP server, its own process)."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    log = work / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_port(port, proc, "moto_server", log)
        yield S3Server(
            f"http://127.0.0.1:{port}", "espfleet-test", secrets.token_hex(16)
        )
    finally:
        _stop([proc])


@contextmanager
def dask_cluster(work: Path, env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """`dask scheduler` and `workers` separate `dask worker` processes; yields
    the scheduler's address. The workers get `env` (the S3 credentials), as
    workers on other machines would from their own environment."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    procs: list[subprocess.Popen] = []
    try:
        log = work / "scheduler.log"
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1"]
                    + ["--port", str(port), "--no-dashboard"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=full_env,
                    cwd=work,
                    start_new_session=True,
                )
            )
        _wait_port(port, procs[0], "dask scheduler", log)
        address = f"tcp://127.0.0.1:{port}"
        for n in range(workers):
            with (work / f"worker{n}.log").open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [str(BIN / "dask"), "worker", address, "--nthreads", "1"]
                        + ["--no-dashboard", "--name", f"w{n}"],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=full_env,
                        cwd=work,
                        start_new_session=True,
                    )
                )
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        _stop(procs)
