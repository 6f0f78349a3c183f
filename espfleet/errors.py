"""Errors a user can fix: the CLI prints each as one line and exits non-zero.

Anything raised as a `UserError` is an expected condition of the world (a share
that is not there, a full disk, a warehouse in use), never a defect: the CLI
prints ``espfleet: <message>`` on stderr with no traceback and exits with the
error's `exit_code`. Every other exception is a defect and keeps its traceback;
`exception_summary` gives the one line a quarantine record keeps of one.
"""

from __future__ import annotations

import errno
import traceback


class UserError(Exception):
    """A condition the user can fix; its message is the whole explanation."""

    exit_code = 1


class ShareError(UserError):
    """The share cannot be listed: missing, unreachable, or refusing us."""


class DiskFull(UserError):
    """The warehouse's disk is full; what was committed stays, the rest re-runs."""


class WarehouseBusy(UserError):
    """Another run holds the warehouse (EX_TEMPFAIL: try again later)."""

    exit_code = 75


class WarehouseError(UserError):
    """A folder that is no espfleet warehouse, or a warehouse that cannot be
    opened (no database yet, one of another version): exit 2."""

    exit_code = 2


class UnknownCode(UserError):
    """`espfleet explain` was given something that is not an error code."""


def is_disk_full(error: BaseException) -> bool:
    """An OSError (or DuckDB's IOException) for a full disk or quota."""
    return getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or (
        "No space left on device" in str(error)
    )


def exception_summary(error: BaseException) -> str:
    """One line for an unexpected exception: its type, text and where it rose.

    The place is the innermost frame in espfleet's own code (``file:line in
    function``), so the quarantine record says which parser or deriver failed.
    """
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "/espfleet/" in f.filename or "/parsers/" in f.filename
    ]
    text = " ".join(str(error).split())[:300]
    summary = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if frames:
        f = frames[-1]
        where = "/".join(f.filename.split("/")[-2:])
        summary += f" (at {where}:{f.lineno} in {f.name})"
    return summary
