"""Windows time-zone key names -> IANA zones, and the Windows bias at an instant.

Bundles name the device zone the Windows way (`Pacific Standard Time`, even in
summer). The CLDR mapping (shipped by tzlocal as `windows_tz.win_tz`) turns it
into an IANA zone whose DST history zoneinfo knows.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz


def windows_to_iana(name: str | None) -> str | None:
    """`Israel Standard Time` -> `Asia/Jerusalem`; None when unknown."""
    if not name:
        return None
    iana = win_tz.get(name.strip())
    if iana is None:
        return None
    try:
        ZoneInfo(iana)
    except ZoneInfoNotFoundError:
        return None
    return iana


def windows_bias(zone: str, instant: datetime) -> int:
    """Windows bias in minutes (UTC = local + bias) of IANA `zone` at `instant`."""
    offset = instant.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return -int(offset.total_seconds() // 60)
