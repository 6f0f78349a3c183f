"""Errors a user can fix: the CLI prints each as one line and exits non-zero.

Anything raised as a `UserError` is an expected condition of the world (a share
that is not there, a full disk, a warehouse in use), never a defect: the CLI
prints ``espfleet: <message>`` on stderr with no traceback and exits with the
error's `exit_code`. Every other exception is a defect and keeps its traceback.
"""

from __future__ import annotations


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
