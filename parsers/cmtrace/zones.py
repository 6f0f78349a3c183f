"""Zone conversions: the device zone's UTC instants, a zone name's Windows bias.

The device zone converts records without a bias; a zone name in an SMS 2.0 stamp
gives that stamp's bias (docs/formats.md §1.2, §8). A zone's Windows bias is
minus its UTC offset; UTC instants then come from `grammar.to_utc` like those of
written biases. Rules for the two awkward cases, chosen deliberately:

* ambiguous local times (the repeated hour when DST ends) take the FIRST
  occurrence (the daylight-time reading, zoneinfo ``fold=0``);
* non-existent local times (the skipped hour when DST starts) are read with the
  offset in force before the gap (zoneinfo ``fold=0``), i.e. 02:30 on a
  spring-forward night becomes 03:30 daylight time.

Both are counted so the caller can warn.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .grammar import US_PER_MIN, to_utc

_EPOCH = datetime(1970, 1, 1)


def _bias_seconds(local: datetime) -> int:
    """The Windows bias, in seconds, of an aware local time (minus its offset)."""
    offset = local.utcoffset()
    assert offset is not None
    return -int(offset.total_seconds())


def local_to_utc(local: np.ndarray, zone: str) -> tuple[np.ndarray, int, int]:
    """Convert naive local microseconds to UTC microseconds in IANA `zone`.

    Offsets are looked up once per distinct local minute, so the cost is one
    zoneinfo call per minute of log, not per record.

    Args:
        local: int64 microseconds since 1970 (naive local time).
        zone: IANA zone name.

    Returns:
        (utc microseconds, number of ambiguous rows, number of non-existent rows).

    Raises:
        ZoneInfoNotFoundError, ValueError: `zone` names no known zone.
    """
    tz = ZoneInfo(zone)
    if len(local) == 0:
        return local.copy(), 0, 0
    minutes = np.floor_divide(local, US_PER_MIN)
    uniq, inverse = np.unique(minutes, return_inverse=True)
    bias_s = np.empty(len(uniq), dtype=np.int64)
    flag = np.zeros(len(uniq), dtype=np.int8)  # 1 ambiguous, 2 non-existent
    for i, m in enumerate(uniq.tolist()):
        naive = _EPOCH + timedelta(minutes=m)
        b0 = _bias_seconds(naive.replace(tzinfo=tz, fold=0))
        b1 = _bias_seconds(naive.replace(tzinfo=tz, fold=1))
        bias_s[i] = b0
        if b0 != b1:
            flag[i] = 1 if b0 < b1 else 2
    row_flag = flag[inverse]
    # Float minutes: historical local mean times are not whole minutes.
    return (
        to_utc(local, (bias_s / 60)[inverse]),
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
        bias in whole minutes, rounded up (UTC = local + bias), or None when the
        zone is unknown.
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
    return -(-_bias_seconds(choice) // 60)
