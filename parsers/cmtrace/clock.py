"""Time rules shared by the CCM and SMS-trace readers (FORMATS.md 1.2).

The bias written after the fraction is a Windows bias: UTC = local + bias minutes,
so ``+480`` is UTC-8 and ``-330`` is UTC+5:30. Records without a bias are local
times of an unknown zone; when the bundle declares the device zone they are
converted with zoneinfo. Rules for the two awkward cases, chosen deliberately:

* ambiguous local times (the repeated hour when DST ends) take the FIRST
  occurrence (the daylight-time reading, zoneinfo ``fold=0``);
* non-existent local times (the skipped hour when DST starts) are read with the
  offset in force before the gap (zoneinfo ``fold=0``), i.e. 02:30 on a
  spring-forward night becomes 03:30 daylight time.

Both are counted so the caller can warn.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .arrow_reader import days_from_civil

US_PER_MIN = 60_000_000
_EPOCH = datetime(1970, 1, 1)

TIME_RE = re.compile(
    r"\s*(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*([+-]\d{1,4})?\s*"
)
DATE_RE = re.compile(r"\s*(\d{1,2})-(\d{1,2})-(\d{4})\s*", re.ASCII)


def local_us(y: int, mo: int, d: int, h: int, mi: int, s: int, us: int) -> int | None:
    """Naive local microseconds since 1970, or None if the fields are impossible."""
    try:
        datetime(y, mo, d, h, mi, min(s, 59))
    except ValueError:
        return None
    days = int(days_from_civil(np.int64(y), np.int64(mo), np.int64(d)))
    return ((days * 24 + h) * 60 + mi) * US_PER_MIN + s * 1_000_000 + us


def frac_to_us(frac: str | None) -> int:
    """'510' -> 510000, '8422964' -> 842296 (truncated to the microsecond)."""
    if not frac:
        return 0
    return int(frac[:6].ljust(6, "0"))


def parse_ccm_time(time: str | None, date: str | None) -> tuple[int | None, int | None]:
    """CCM `time=` and `date=` texts -> (local microseconds, bias) or Nones."""
    if time is None or date is None:
        return None, None
    tm = TIME_RE.fullmatch(time)
    dm = DATE_RE.fullmatch(date)
    if not tm or not dm:
        return None, None
    h, mi, s, frac, bias = tm.groups()
    mo, d, y = (int(x) for x in dm.groups())
    if int(h) > 23 or int(mi) > 59 or int(s) > 60:
        return None, None
    value = local_us(y, mo, d, int(h), int(mi), int(s), frac_to_us(frac))
    bias_min = int(bias) if bias is not None else None
    if bias_min is not None and abs(bias_min) > 1440:
        return value, None
    return value, bias_min


def local_to_utc(local: np.ndarray, zone: str) -> tuple[np.ndarray, int, int]:
    """Convert naive local microseconds to UTC microseconds in IANA `zone`.

    Offsets are looked up once per distinct local minute, so the cost is one
    zoneinfo call per minute of log, not per record.

    Args:
        local: int64 microseconds since 1970 (naive local time).
        zone: IANA name; raises ZoneInfoNotFoundError / ValueError if unknown.

    Returns:
        (utc microseconds, number of ambiguous rows, number of non-existent rows).
    """
    tz = ZoneInfo(zone)
    if len(local) == 0:
        return local.copy(), 0, 0
    minutes = np.floor_divide(local, US_PER_MIN)
    uniq, inverse = np.unique(minutes, return_inverse=True)
    offs = np.empty(len(uniq), dtype=np.int64)
    flag = np.zeros(len(uniq), dtype=np.int8)  # 1 ambiguous, 2 non-existent
    for i, m in enumerate(uniq.tolist()):
        naive = _EPOCH + timedelta(minutes=m)
        o0 = naive.replace(tzinfo=tz, fold=0).utcoffset()
        o1 = naive.replace(tzinfo=tz, fold=1).utcoffset()
        assert o0 is not None and o1 is not None
        offs[i] = int(o0.total_seconds()) * 1_000_000
        if o0 != o1:
            flag[i] = 1 if o0 > o1 else 2
    row_off = offs[inverse]
    row_flag = flag[inverse]
    return (
        local - row_off,
        int(np.count_nonzero(row_flag == 1)),
        int(np.count_nonzero(row_flag == 2)),
    )


def zone_bias(zone: str, local: int, daylight: bool | None) -> int | None:
    """Windows bias of `zone` at naive local microseconds `local`.

    Args:
        zone: IANA zone name.
        local: naive local microseconds since 1970.
        daylight: True/False when the stamp names daylight/standard time (picks
            the fold in the repeated hour), None to use fold 0.

    Returns:
        bias in minutes (UTC = local + bias), or None when the zone is unknown.
    """
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError, OSError):
        return None
    naive = _EPOCH + timedelta(microseconds=local)
    choice = naive.replace(tzinfo=tz, fold=0)
    if daylight is not None:
        for fold in (0, 1):
            cand = naive.replace(tzinfo=tz, fold=fold)
            if bool(cand.dst()) == daylight:
                choice = cand
                break
    off = choice.utcoffset()
    assert off is not None
    return -int(off.total_seconds() // 60)
