"""The run lock of a warehouse on object storage: a lease object.

Object storage has no flock, and a holder that dies cannot be seen dying. So
the lock is the object ``<warehouse>/.espfleet.lock``, holding who has it
(owner id, pid, host, run id, command) and until when (``expires_at``):

- **take**: a PUT with ``If-None-Match: *``, which the server refuses (412)
  when the object exists: of two runs that try at once, exactly one creates
  it. AWS S3 (since 2024), MinIO, Ceph RGW and moto honour it;
- **stale**: a lease past its expiry (plus `SKEW_S` for clocks that disagree)
  is taken over with a PUT ``If-Match: <its ETag>``: of two runs that see the
  same stale lease, exactly one replaces it;
- **renew**: while held, a thread extends the lease every `ttl_s`/3 with a PUT
  ``If-Match`` on the ETag it last wrote; a refused renewal means another run
  took the lease over (this one stalled past its expiry), and the holder
  learns it at its next check (`Lease.check`, before the views are rebuilt);
- **release**: the object is deleted if it is still this owner's.

The guarantee, honestly: two runs never both hold a live lease, on a server
that honours conditional PUTs, as long as a holder is never stopped longer
than the lease (60 s by default, ``ESPFLEET_LEASE_S``) and clocks agree within
`SKEW_S`. A holder stopped longer (SIGSTOP, a VM paused) can find, when it
resumes, that another run took over; it then stops at its next check, but a
batch it was writing at that moment may still commit (its data is a complete
batch, and a later run ignores nothing: at worst a bundle is ingested twice and
the views keep its latest run's rows). A killed holder blocks the next run for
at most one lease. A server that ignores the conditions (some S3-compatible
stores) gives no exclusion at all: `take` checks that a second create is
refused and says so in one line when it is not.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from upath import UPath

from .errors import WarehouseBusy, WarehouseError

DEFAULT_TTL_S = 60.0
SKEW_S = 5.0
_POLL_S = 1.0


def _ttl() -> float:
    text = os.environ.get("ESPFLEET_LEASE_S")
    return float(text) if text else DEFAULT_TTL_S


def _refused(error: BaseException) -> bool:
    """A 412 Precondition Failed (s3fs raises FileExistsError for one), or an
    If-Match on an object that is gone (FileNotFoundError): the condition the
    PUT was made on no longer holds."""
    text = f"{type(error).__name__} {error}"
    return (
        isinstance(error, FileExistsError | FileNotFoundError)
        or "PreconditionFailed" in text
        or ("pre-conditions you specified did not hold" in text)
    )


class Lease:
    """One held lease on `path` (see the module docstring)."""

    def __init__(self, path: UPath, ttl_s: float | None = None) -> None:
        self.path = path
        self.ttl_s = ttl_s or _ttl()
        self.owner = uuid.uuid4().hex
        self.etag: str | None = None
        self.lost = False
        self.run_id: str | None = None
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # -- the object ---------------------------------------------------------

    def _record(self) -> bytes:
        from .share import redact  # the command line may hold a share password

        return json.dumps(
            {
                "owner": self.owner,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "run_id": self.run_id,
                "command": redact(" ".join([Path(sys.argv[0]).name, *sys.argv[1:]])),
                "started_at": self.started_at,
                "expires_at": time.time() + self.ttl_s,
            }
        ).encode()

    def _put(self, **condition: str) -> None:
        fs, key = self.path.fs, self.path.path
        bucket, name, _ = fs.split_path(key)
        out = fs.call_s3(
            "put_object", Bucket=bucket, Key=name, Body=self._record(), **condition
        )
        self.etag = out["ETag"]
        fs.invalidate_cache(key)

    def _read(self) -> tuple[dict, str] | None:
        """(record, ETag) of the lease object as it is now, or None."""
        from fsspec.asyn import sync

        fs = self.path.fs
        bucket, name, _ = fs.split_path(self.path.path)

        async def get() -> tuple[bytes, str]:
            out = await fs._call_s3("get_object", Bucket=bucket, Key=name)
            async with out["Body"] as body:
                return await body.read(), out["ETag"]

        try:
            data, etag = sync(fs.loop, get)
        except FileNotFoundError:
            return None
        try:
            record = json.loads(data)
        except ValueError:
            record = {}
        return (record if isinstance(record, dict) else {}), etag

    # -- the protocol -------------------------------------------------------

    def take(self, wait_s: float) -> None:
        """Hold the lease, waiting up to `wait_s` for a live holder to let go.

        Raises:
            WarehouseBusy: another run held a live lease for `wait_s` seconds.
            WarehouseError: the server does not honour conditional PUTs.
        """
        started = time.monotonic()
        while True:
            try:
                self._put(IfNoneMatch="*")
                self._check_exclusive()
                break
            except Exception as error:
                if not _refused(error):
                    raise
            current = self._read()
            if current is not None:
                record, etag = current
                if float(record.get("expires_at") or 0) + SKEW_S < time.time():
                    try:
                        self._put(IfMatch=etag)  # take a stale lease over
                        break
                    except Exception as error:
                        if not _refused(error):
                            raise
            waited = time.monotonic() - started
            if waited >= wait_s:
                raise WarehouseBusy(
                    f"warehouse {self.path.parent} is in use by "
                    f"{_holder_text(current[0] if current else {})}; waited"
                    f" {waited:.0f} s (--lock-wait to wait longer)"
                )
            time.sleep(_POLL_S)
        threading.Thread(target=self._renew, daemon=True).start()

    def _check_exclusive(self) -> None:
        try:
            self._put(IfNoneMatch="*")
        except Exception as error:
            if _refused(error):
                return  # refused, as it must be: the lease is ours alone
            raise
        self.path.fs.rm_file(self.path.path)  # leave no lease nobody holds
        raise WarehouseError(
            f"the object store of {self.path.parent} ignores If-None-Match:"
            " a run lock cannot be held there (see docs/scale.md)"
        )

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            with self._lock:
                try:
                    self._put(IfMatch=self.etag or "")
                except Exception as error:
                    if _refused(error):
                        self.lost = True
                        return
                    # a network error: try again at the next beat

    def note(self, run_id: str) -> None:
        """Name the run in the lease (for the message another run prints)."""
        self.run_id = run_id
        with self._lock:
            try:
                self._put(IfMatch=self.etag or "")
            except Exception as error:
                if not _refused(error):
                    raise
                self.lost = True

    def check(self) -> None:
        """Raise if another run has taken the lease over.

        Raises:
            WarehouseBusy: the lease was lost (this run stalled past it).
        """
        if self.lost:
            raise WarehouseBusy(
                f"the run lock on {self.path.parent} was taken over by another"
                " run while this one stalled past its lease; stopping"
            )

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        self._stop.set()
        with self._lock:
            current = self._read()
            if current is not None and current[0].get("owner") == self.owner:
                self.path.fs.rm_file(self.path.path)


def _holder_text(record: dict) -> str:
    if not record:
        return "another process"
    expires = datetime.fromtimestamp(float(record.get("expires_at") or 0), UTC)
    return (
        f"run {record.get('run_id') or '(starting)'} (pid {record.get('pid')} on"
        f" {record.get('host')}, since {record.get('started_at')}:"
        f" {record.get('command')}; lease until {expires:%H:%M:%S} UTC)"
    )
