"""A real Samba server on 127.0.0.1 for share tests (started as root, stopped by PID)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SMBD = shutil.which("smbd") or "/usr/sbin/smbd"
USER, PASSWORD = "root", "espfleet-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def samba_share(folder: Path, work: Path) -> Iterator[str]:
    """Serve `folder` as share `fleet`; yields its smb:// URL (user and password in it)."""
    port = free_port()
    state = work / "state"
    for sub in ("lock", "state", "cache", "pid", "private", "ncalrpc", "log"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    conf = work / "smb.conf"
    conf.write_text(
        f"""[global]
    smb ports = {port}
    interfaces = 127.0.0.1
    bind interfaces only = yes
    disable netbios = yes
    server role = standalone server
    lock directory = {state}/lock
    state directory = {state}/state
    cache directory = {state}/cache
    pid directory = {state}/pid
    private dir = {state}/private
    ncalrpc dir = {state}/ncalrpc
    log file = {state}/log/smbd.log
    passdb backend = tdbsam:{state}/private/passdb.tdb
    server min protocol = SMB2
[fleet]
    path = {folder}
    read only = yes
    browseable = yes
"""
    )
    subprocess.run(
        ["smbpasswd", "-c", str(conf), "-s", "-a", USER],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        text=True,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [SMBD, "--foreground", "--no-process-group", f"--configfile={conf}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # smbd signals its whole process group on shutdown: give it its own.
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("smbd did not start")
        yield f"smb://{USER}:{PASSWORD}@127.0.0.1:{port}/fleet"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
