"""Real `espfleet ingest` runs in child processes, and what they leave behind.

Each run is the installed CLI in its own process, with its own temporary
Prefect API (PREFECT_HOME shared by the session, so the database migrates once)
and an environment mark (``ESPFLEET_TEST_MARK``) that every process it starts
inherits, so a test can find any of them still alive after the run ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ESPFLEET = str(Path(sys.executable).with_name("espfleet"))
MARK_ENV = "ESPFLEET_TEST_MARK"
# Columns that differ between two runs that ingest the same bytes.
RUN_COLUMNS = {"ingest_run_id", "ingested_at"}


@dataclass
class CliRun:
    """One started `espfleet` process."""

    proc: subprocess.Popen
    mark: str
    out: Path
    err: Path
    started: float

    def wait(self, timeout: float = 300) -> int:
        return self.proc.wait(timeout=timeout)

    @property
    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err.read_text(errors="replace")


def start(args: list[str], home: Path, logs: Path, env: dict | None = None) -> CliRun:
    """Start ``espfleet ARGS`` with Prefect's home at `home`, logs under `logs`;
    `env` adds variables (a None value removes one)."""
    mark = uuid.uuid4().hex
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"{mark}.out", logs / f"{mark}.err"
    full_env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        MARK_ENV: mark,
        "ESPFLEET_SHARE_RETRY_DELAYS": "0.5,1",
        **(env or {}),
    }
    full_env = {k: v for k, v in full_env.items() if v is not None}
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [ESPFLEET, *args], stdout=o, stderr=e, env=full_env, cwd=logs
        )
    return CliRun(proc, mark, out, err, time.monotonic())


def marked(mark: str) -> list[int]:
    """Pids of live processes whose environment carries the run's mark."""
    needle = f"{MARK_ENV}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    stat = (entry / "stat").read_text()
                    if stat.rsplit(")", 1)[1].split()[0] != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def api_servers(mark: str) -> int:
    """Live Prefect API servers (uvicorn) among the run's processes."""
    count = 0
    for pid in marked(mark):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        count += b"uvicorn" in cmdline
    return count


def most_api_servers(run: CliRun) -> int:
    """The most Prefect API servers the run had at once, sampled until it ends."""
    most = 0
    while run.proc.poll() is None:
        most = max(most, api_servers(run.mark))
        time.sleep(0.1)
    return most


def left_behind(mark: str, within_s: float = 15.0) -> list[str]:
    """What is still running of a run `within_s` seconds after it ended."""
    deadline = time.monotonic() + within_s
    while (pids := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    out = []
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            out.append(f"{pid}: {cmd.decode(errors='replace')[:200]}")
        except OSError:
            continue
    return out


def raw_tables(warehouse) -> dict[str, list[tuple]]:
    """Every row of every Parquet table stored (not the views), run ids left
    out, sorted: equal for two warehouses that ingested the same bundles.
    `warehouse` is a folder or a location on object storage (a UPath)."""
    from espfleet.warehouse import read_parquet

    tables: dict[str, list[tuple]] = {}
    for folder in sorted((warehouse / "parquet").iterdir(), key=str):
        rows: list[tuple] = []
        for path in sorted(folder.glob("*/*.parquet"), key=str):
            table = read_parquet(path)
            keep = [c for c in table.column_names if c not in RUN_COLUMNS]
            rows += [
                tuple(map(repr, r.values())) for r in table.select(keep).to_pylist()
            ]
        tables[folder.name] = sorted(rows)
    quarantine = warehouse / "quarantine"
    tables["quarantine"] = (
        sorted((p.name,) for p in quarantine.iterdir()) if quarantine.exists() else []
    )
    return tables
