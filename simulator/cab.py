"""CAB and ZIP packing with fixed member timestamps (deterministic bytes).

CABs are MSZIP (cabarchive; real mdmdiagnosticstool CABs are LZX, the reader
takes both); member times are the device's local time at collection, as the tool
writes them. The Intune "Collect diagnostics" ZIP is an ordinary deflate ZIP.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime

from cabarchive import CabArchive, CabFile


def pack_cab(members: Sequence[tuple[str, bytes]], local_time: datetime) -> bytes:
    """An MSZIP CAB holding the members in the given order.

    Args:
        members: (name, content) pairs.
        local_time: naive local wall-clock time stamped on every member.

    Returns:
        The cabinet bytes.
    """
    arc = CabArchive()
    for name, data in members:
        arc[name] = CabFile(data, mtime=local_time.replace(microsecond=0))
    return arc.save(compress=True, sort=False)


def pack_zip(members: Sequence[tuple[str, bytes]], stamp: datetime) -> bytes:
    """A deflate ZIP with fixed member times (no wall clock), members in order."""
    buf = io.BytesIO()
    when = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=6)
    return buf.getvalue()


def truncate(data: bytes, fraction: float) -> bytes:
    """The first part of an archive, as an interrupted copy leaves it."""
    return data[: max(64, int(len(data) * fraction))]
