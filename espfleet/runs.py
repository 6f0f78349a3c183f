"""A run's hold on its warehouse: one run at a time, ordered run ids, the folder
marked as ours, and the leftovers of killed runs swept.

The lock is an exclusive `flock` on ``<warehouse>/.espfleet.lock``, held for
the whole run. The kernel drops it when the holding process ends, however it
ends (kill -9 and the OOM killer included), so a crashed run never leaves a
stale lock and nothing has to guess whether a holder is alive. The file holds
who has it (pid, host, boot id, start time, run id, command) for the message a
waiting run prints. The lock is re-entrant within one process (the CLI takes
it before the Prefect engine starts, the flow again for deployment runs).

Run ids (``20261126T204512.123456Z-1a2b``) are made under the lock from the
clock, and always sort after the warehouse's last run id even if the clock
stepped back: the views keep each bundle's rows from its latest run by id.

The marker file ``.espfleet-warehouse`` says a folder is a warehouse: a run
refuses to write into a folder that holds anything else (`claim`), and the
readers refuse one with no database (`require`).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from upath import UPath

from . import storage
from .database import DATA_FOLDERS
from .errors import WarehouseBusy, WarehouseError
from .runids import batch_file, new_run_id, run_id_time
from .storage import Location
from .warehouse import DB_NAME, Warehouse, _atomic_write

if TYPE_CHECKING:
    from .lease import Lease

LOCK_NAME = ".espfleet.lock"
MARKER_NAME = ".espfleet-warehouse"
# What a warehouse folder holds; a folder holding anything else is not adopted.
_OURS = {*DATA_FOLDERS, "manifest", "quarantine", DB_NAME, MARKER_NAME, LOCK_NAME}
DEFAULT_WAIT_S = 60.0
_POLL_S = 0.25
# path -> [fd, depth]: the locks this process holds.
_held: dict[Path, list[int]] = {}
# lock object URL -> its lease: the leases this process holds (object storage).
_leases: dict[str, Lease] = {}


def boot_id() -> str:
    """This boot of this machine (Linux), to tell a pid of another boot apart."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _holder_text(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        record = json.loads(os.read(fd, 65536) or b"{}")
    except (OSError, ValueError):
        record = {}
    if not record:
        return "another process"
    return (
        f"run {record.get('run_id') or '(starting)'} (pid {record.get('pid')} on"
        f" {record.get('host')}, since {record.get('started_at')}:"
        f" {record.get('command')})"
    )


def _write_holder(fd: int, **extra: object) -> None:
    from .share import redact  # the command line may hold a share password

    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "boot_id": boot_id(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": redact(" ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])),
    } | extra
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)


@contextmanager
def run_lock(
    warehouse: Location | str, wait_s: float = DEFAULT_WAIT_S
) -> Iterator[None]:
    """Hold the warehouse's run lock, waiting up to `wait_s` seconds for it.

    A folder's lock is a flock; on object storage it is a lease object
    (`espfleet.lease`). Either is re-entrant within one process.

    Raises:
        WarehouseBusy: another run still held it after `wait_s` seconds.
    """
    root = storage.location(warehouse)
    if not isinstance(root, Path):
        with _leased(root, wait_s):
            yield
        return
    warehouse = root
    warehouse.mkdir(parents=True, exist_ok=True)
    path = (warehouse / LOCK_NAME).resolve()
    if path in _held:
        _held[path][1] += 1
        try:
            yield
        finally:
            _held[path][1] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            waited = time.monotonic() - started
            if waited >= wait_s:
                holder = _holder_text(fd)
                os.close(fd)
                raise WarehouseBusy(
                    f"warehouse {warehouse} is in use by {holder}; waited"
                    f" {waited:.0f} s (--lock-wait to wait longer)"
                ) from None
            time.sleep(_POLL_S)
    _held[path] = [fd, 1]
    try:
        _write_holder(fd)
        yield
    finally:
        del _held[path]
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing drops the flock


@contextmanager
def _leased(root: UPath, wait_s: float) -> Iterator[None]:
    key = str(root / LOCK_NAME)
    if key in _leases:
        yield
        return
    from .lease import Lease

    lease = Lease(root / LOCK_NAME)
    lease.take(wait_s)
    _leases[key] = lease
    try:
        yield
    finally:
        del _leases[key]
        lease.release()


def note_run_id(warehouse: Location | str, run_id: str) -> None:
    """Name the run in the lock file (for the message another run prints)."""
    root = storage.location(warehouse)
    if not isinstance(root, Path):
        if (lease := _leases.get(str(root / LOCK_NAME))) is not None:
            lease.note(run_id)
        return
    entry = _held.get((root / LOCK_NAME).resolve())
    if entry is not None:
        _write_holder(entry[0], run_id=run_id)


def check_lock(warehouse: Location | str) -> None:
    """Raise if this run's lease on object storage was taken over (a no-op
    for a folder: a flock cannot be lost while its holder lives).

    Raises:
        WarehouseBusy: another run took the lease over.
    """
    root = storage.location(warehouse)
    if (lease := _leases.get(str(root / LOCK_NAME))) is not None:
        lease.check()


def claim(wh: Warehouse) -> None:
    """Make sure this folder may be written as a warehouse, marking it ours.

    A missing or empty folder becomes a warehouse; a marked one is ours; an
    unmarked one that holds only what a warehouse holds (written by an
    espfleet from before markers) is adopted.

    Raises:
        WarehouseError: the folder holds anything else.
    """
    refuse_foreign(wh)
    if not (wh.root / MARKER_NAME).exists():
        _write_marker(wh, None)


def refuse_foreign(wh: Warehouse) -> None:
    """Raise unless the folder is missing, empty, marked, or a warehouse's.

    Raises:
        WarehouseError: the folder holds anything else (nothing is written).
    """
    if (wh.root / MARKER_NAME).exists():
        return
    entries = sorted(p.name for p in wh.root.iterdir()) if wh.root.exists() else []
    foreign = [n for n in entries if n not in _OURS and not n.startswith(".espfleet")]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise WarehouseError(
            f"{wh.root} is not an espfleet warehouse: it holds {len(foreign)}"
            f" other entries ({shown}) and no {MARKER_NAME} marker; give"
            " --warehouse an empty or new folder"
        )


def require(wh: Warehouse) -> None:
    """Refuse, for readers, a folder that holds things but no warehouse.

    A missing folder or database is `espfleet.database`'s to explain (it says
    what to run); this refuses the folder that is something else entirely.

    Raises:
        WarehouseError: the folder holds other things and no marker.
    """
    if not wh.root.is_dir() or (wh.root / MARKER_NAME).exists():
        return
    names = {p.name for p in wh.root.iterdir()}
    if names and not names & {DB_NAME, "parquet", "manifest"}:
        raise WarehouseError(
            f"{wh.root} is not an espfleet warehouse (no {MARKER_NAME} marker,"
            f" no {DB_NAME}): give --warehouse the folder `espfleet ingest` wrote"
        )


def _write_marker(wh: Warehouse, last_run_id: str | None) -> None:
    record = {"espfleet_warehouse": 1, "last_run_id": last_run_id}
    text = json.dumps(record)
    _atomic_write(
        (wh.root / MARKER_NAME), lambda tmp: tmp.write_text(text, encoding="utf-8")
    )


def next_run_id(wh: Warehouse) -> str:
    """A new run id after every run id this warehouse has seen (under the lock)."""
    try:
        last = json.loads((wh.root / MARKER_NAME).read_text(encoding="utf-8"))[
            "last_run_id"
        ]
    except (OSError, ValueError, KeyError, TypeError):
        last = None
    stems = [p.stem for p in (wh.root / "manifest").glob("*.parquet")]
    ids = [s.rsplit("-", 1)[0] for s in stems] + ([last] if last else [])
    last = max((i for i in ids if run_id_time(i) is not None), default=None)
    run_id = new_run_id(datetime.now(UTC), last)
    _write_marker(wh, run_id)
    return run_id


def committed(wh: Warehouse) -> set[str]:
    """``<run>-<batch>`` of every committed batch (its manifest exists)."""
    return {p.stem for p in (wh.root / "manifest").glob("*.parquet")}


def sweep(wh: Warehouse) -> list[Location]:
    """Delete what killed or failed batches left; returns what went.

    Only safe under the run lock: then no batch is being written, so a data
    file no manifest names, a temporary file or a quarantine record of an
    uncommitted run is a leftover. Empty placeholders (ensure_tables) stay.
    """
    batches = committed(wh)
    runs = {s.rsplit("-", 1)[0] for s in batches}
    gone: list[Location] = []
    if isinstance(wh.root, Path):  # object storage never holds temporary files
        gone += wh.root.glob("**/.*.tmp")
    for path in wh.root.glob("parquet/*/*/*.parquet"):
        if batch_file(path.stem) not in batches and not path.stem.endswith("-empty"):
            gone.append(path)
    for path in wh.root.glob("quarantine/*.json"):
        try:
            run = json.loads(path.read_text(encoding="utf-8"))["ingest_run_id"]
        except (OSError, ValueError, KeyError, TypeError):
            run = None
        if run not in runs:
            gone.append(path)
    for path in gone:
        path.unlink(missing_ok=True)
    return gone
