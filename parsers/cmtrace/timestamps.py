"""CCM ``time=`` and ``date=`` texts read as naive local microseconds and a bias.

`convert_time` reads whole columns (docs/formats.md §1.1) by digit arithmetic
on fixed-width byte matrices: each short field right-padded with spaces, so a
column is one rows x width uint8 matrix, with no per-row Python and no cast that
can fail; every row gets an ``ok`` flag, and rows that are not ok go to the
careful reader, whose `careful.parse_ccm_time` is the reference this is tested
against. `local_us` and `frac_to_us` turn one record's fields into the same
microseconds for the careful and SMS-trace readers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .grammar import (
    BIAS_DIGITS,
    FRACTION_DIGITS,
    US_PER_MIN,
    YEAR_MAX,
    YEAR_MIN,
    bias_in_range,
    clock_in_range,
)

US_PER_DAY = 24 * 60 * US_PER_MIN
_FRAC_AT = len("HH:MM:SS.")  # the first fraction digit of a fixed-layout time
# HH:MM:SS.fffffffff+1440, and one more column to see a fifth bias digit.
TIME_W = _FRAC_AT + FRACTION_DIGITS + len("+") + BIAS_DIGITS + 1
DATE_W = len("MM-DD-YYYY")
_SP, _COLON, _DOT, _PLUS, _MINUS, _DASH = 32, 58, 46, 43, 45, 45
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()

# -- one record ---------------------------------------------------------------------


def local_us(y: int, mo: int, d: int, h: int, mi: int, s: int, us: int) -> int | None:
    """Naive local microseconds since 1970 of a date and time of day.

    Seconds above 59 are not rejected here: they run on into the next minute
    (a leap second ``:60``). `careful.parse_ccm_time` rejects seconds above 60
    first.

    Args:
        y, mo, d, h, mi, s: year, month, day, hour, minute, second.
        us: microseconds into the second.

    Returns:
        The microseconds, or None when the date or the hour and minute do not
        exist.
    """
    try:
        days = datetime(y, mo, d, h, mi, min(s, 59)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None
    return ((days * 24 + h) * 60 + mi) * US_PER_MIN + s * 1_000_000 + us


def frac_to_us(frac: str | None) -> int:
    """Microseconds of a fraction's digits, truncated: '510' -> 510000.

    Args:
        frac: the digits after the dot (``8422964`` gives 842296), or None.

    Returns:
        0 to 999999.
    """
    if not frac:
        return 0
    return int(frac[:6].ljust(6, "0"))


# -- whole columns ------------------------------------------------------------------


def _month_tables() -> tuple[np.ndarray, np.ndarray]:
    first = np.array(
        [
            datetime(y, m, 1).toordinal() - _EPOCH_ORDINAL
            for y in range(YEAR_MIN, YEAR_MAX + 2)
            for m in range(1, 13)
        ],
        np.int64,
    )
    months = (YEAR_MAX - YEAR_MIN + 1) * 12
    return first[:months], np.diff(first)[:months]


# Days since 1970 of the 1st of each month from YEAR_MIN on, and the month's length.
_MONTH_DAY1, _MONTH_LEN = _month_tables()


def civil_days(y: np.ndarray, mo: np.ndarray, day: np.ndarray) -> tuple[Any, Any]:
    """(days since 1970, ok) of dates; ok where the date exists within the years.

    Args:
        y, mo, day: year, month and day arrays (any integer dtype).

    Returns:
        int64 days (meaningless where not ok) and the ok mask.
    """
    ok = (mo >= 1) & (mo <= 12) & (y >= YEAR_MIN) & (y <= YEAR_MAX)
    month = np.where(ok, (y - YEAR_MIN) * 12 + mo - 1, 0)
    ok &= (day >= 1) & (day <= _MONTH_LEN[month])
    return _MONTH_DAY1[month] + (day - 1), ok


def matrix(arr: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts of `arr` as rows of a space-padded byte matrix.

    Args:
        arr: string array.
        width: the matrix width; longer texts (in bytes) become blank rows.

    Returns:
        (rows x width) uint8 matrix, the rows that fit, and the byte lengths.
    """
    n = len(arr)
    lengths = pc.binary_length(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    fits = lengths <= width
    if not fits.all():
        arr = pc.if_else(pa.array(fits), arr, pa.scalar("", arr.type))
    padded = pc.utf8_rpad(arr, width, " ")
    if not pa.types.is_large_string(padded.type):
        padded = padded.cast(pa.large_string())
    offsets = np.frombuffer(padded.buffers()[1], np.int64)[
        padded.offset : padded.offset + n + 1
    ]
    if n and (np.diff(offsets) != width).any():  # multi-byte characters
        widths = np.diff(offsets)
        fits &= widths == width
        padded = pc.if_else(pa.array(widths == width), padded, " " * width)
        padded = padded.cast(pa.large_string())
        offsets = np.frombuffer(padded.buffers()[1], np.int64)[
            padded.offset : padded.offset + n + 1
        ]
    data = np.frombuffer(padded.buffers()[2], np.uint8)
    start = int(offsets[0]) if n else 0
    return data[start : start + n * width].reshape(n, width), fits, lengths


class _Cols:
    """Column access on a byte matrix: digit values, digit tests, fancy gathers.

    Digits are computed once for the whole matrix (uint8, wrapping below '0'),
    and values are combined in int32; callers widen to int64 at the end.
    """

    def __init__(self, c: np.ndarray) -> None:
        self.c = c
        self.d = c - np.uint8(48)
        self.isd = self.d < 10
        self.rows = np.arange(len(c))

    def at(self, j: int | np.ndarray) -> np.ndarray:
        if isinstance(j, int):
            return self.c[:, j]
        return self.c[self.rows, np.minimum(j, self.c.shape[1] - 1)]

    def digit(self, j: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(j, int):
            return self.d[:, j].astype(np.int32), self.isd[:, j]
        jj = np.minimum(j, self.c.shape[1] - 1)
        return self.d[self.rows, jj].astype(np.int32), self.isd[self.rows, jj]


def time_from_matrix(
    c: np.ndarray, ok: np.ndarray, length: np.ndarray
) -> dict[str, np.ndarray]:
    """``H:MM:SS[.f{1,9}][+-B{1,4}]`` rows -> h, mi, s, frac_us, bias, has_bias, ok.

    The two layouts nearly every row has are read from fixed columns:
    ``HH:MM:SS.fff+BBB`` (ConfigMgr) and ``HH:MM:SS.fffffff`` (.NET / IME); the
    other rows go through the general reader.

    Args:
        c: (rows x TIME_W) space-padded matrix.
        ok: rows that fit the width.
        length: the texts' lengths in bytes.

    Returns:
        int64 fields, and ``ok`` for the rows read.
    """
    m = _Cols(c)
    base = (length == 16) & (c[:, 2] == _COLON) & (c[:, 5] == _COLON)
    base &= (c[:, 8] == _DOT) & m.isd[:, [0, 1, 3, 4, 6, 7, 9, 10, 11]].all(axis=1)
    sign = c[:, 12]
    native = base & ((sign == _PLUS) | (sign == _MINUS)) & m.isd[:, 13:16].all(axis=1)
    dotnet = base & m.isd[:, 12:16].all(axis=1)
    d = [m.d[:, j].astype(np.int64) for j in range(16)]
    h, mi, s = d[0] * 10 + d[1], d[3] * 10 + d[4], d[6] * 10 + d[7]
    ms3 = (d[9] * 10 + d[10]) * 10 + d[11]
    tail4 = ((d[12] * 10 + d[13]) * 10 + d[14]) * 10 + d[15]
    bias = np.where(native, (d[13] * 10 + d[14]) * 10 + d[15], 0)
    out = {
        "h": h,
        "mi": mi,
        "s": s,
        # .fffffff: 100 ns ticks truncated to microseconds
        "frac_us": np.where(native, ms3 * 1000, ms3 * 1000 + tail4 // 10),
        "bias": np.where(sign == _MINUS, -bias, bias),
        "has_bias": native.copy(),
    }
    fixed = native | dotnet
    fits = ok
    ok = fits & fixed & clock_in_range(h, mi, s)
    rest = np.flatnonzero(~fixed)
    if len(rest):
        g = _time_general(c[rest], fits[rest].copy(), length[rest])
        for key in out:
            out[key][rest] = g[key]
        ok[rest] = g["ok"]
    out["has_bias"] &= ok
    out["ok"] = ok
    return out


def _time_general(
    c: np.ndarray, ok: np.ndarray, length: np.ndarray
) -> dict[str, np.ndarray]:
    """Any time layout the grammar allows (positions found per row)."""
    one = c[:, 1] == _COLON  # one-digit hour: shift right behind a '0'
    if one.any():
        ok &= ~(one & (c[:, -1] != _SP))  # the shift must not drop a character
        shifted = np.concatenate([np.full((len(c), 1), 48, np.uint8), c[:, :-1]], 1)
        c = np.where(one[:, None], shifted, c)
        length = length + one
    m = _Cols(c)
    vals = []
    for j in (0, 1, 3, 4, 6, 7):
        v, isd = m.digit(j)
        ok &= isd
        vals.append(v)
    ok &= (c[:, 2] == _COLON) & (c[:, 5] == _COLON)
    h, mi, s = (vals[i] * 10 + vals[i + 1] for i in (0, 2, 4))
    has_frac = c[:, _FRAC_AT - 1] == _DOT
    run = has_frac.copy()
    k = np.zeros(len(c), np.int32)
    frac_us = np.zeros(len(c), np.int32)
    for j in range(_FRAC_AT, _FRAC_AT + FRACTION_DIGITS):
        run &= m.isd[:, j]
        k += run
        if j < _FRAC_AT + 6:  # digits past the run add zeros: '.51' -> 510000
            frac_us = frac_us * 10 + np.where(run, m.d[:, j], np.uint8(0))
    ok &= ~has_frac | (k >= 1)
    ps = np.where(has_frac, _FRAC_AT + k, _FRAC_AT - 1)
    sign = m.at(ps)
    has_bias = (sign == _PLUS) | (sign == _MINUS)
    run = has_bias.copy()
    nb = np.zeros(len(c), np.int32)
    bias = np.zeros(len(c), np.int32)
    for j in range(1, BIAS_DIGITS + 2):  # one more: a fifth digit is too many
        v, isd = m.digit(ps + j)
        run &= isd & (ps + j < TIME_W)
        nb += run
        bias = np.where(run, bias * 10 + v, bias)
    ok &= ~has_bias | ((nb >= 1) & (nb <= BIAS_DIGITS))
    bias = np.where(sign == _MINUS, -bias, bias)
    ok &= np.where(has_bias, ps + 1 + nb, ps) == length  # nothing after the bias
    ok &= clock_in_range(h, mi, s)
    i64 = np.int64
    return {
        "h": h.astype(i64),
        "mi": mi.astype(i64),
        "s": s.astype(i64),
        "frac_us": frac_us.astype(i64),
        "bias": bias.astype(i64),
        "has_bias": has_bias & ok,
        "ok": ok,
    }


def date_from_matrix(
    c: np.ndarray, ok: np.ndarray, length: np.ndarray
) -> dict[str, np.ndarray]:
    """``M-D-YYYY`` rows (padding optional) -> y, mo, d, days, ok.

    Zero-padded ``MM-DD-YYYY`` (native writers) is read from fixed columns; the
    rows that are not (.NET writers: ``8-17-2025``) go through position gathers.

    Args:
        c: (rows x DATE_W) space-padded matrix.
        ok: rows that fit the width.
        length: the texts' lengths in bytes.

    Returns:
        int64 fields, days since 1970, and ``ok`` for the dates that exist.
    """
    m = _Cols(c)
    fixed = (length == DATE_W) & (c[:, 2] == _DASH) & (c[:, 5] == _DASH)
    digits = m.isd[:, [0, 1, 3, 4, 6, 7, 8, 9]].all(axis=1)
    d = [m.d[:, j].astype(np.int64) for j in (0, 1, 3, 4, 6, 7, 8, 9)]
    out = {
        "mo": d[0] * 10 + d[1],
        "d": d[2] * 10 + d[3],
        "y": ((d[4] * 10 + d[5]) * 10 + d[6]) * 10 + d[7],
    }
    fits = ok
    ok = fits & fixed & digits
    rest = np.flatnonzero(~fixed)
    if len(rest):
        g = _date_general(c[rest], fits[rest].copy(), length[rest])
        for key in ("mo", "d", "y"):
            out[key][rest] = g[key]
        ok[rest] = g["ok"]
    out["days"], exists = civil_days(out["y"], out["mo"], out["d"])
    out["ok"] = ok & exists
    return out


def _date_general(
    c: np.ndarray, ok: np.ndarray, length: np.ndarray
) -> dict[str, np.ndarray]:
    """Any of M-D-YYYY, MM-D-YYYY, M-DD-YYYY, MM-DD-YYYY (positions gathered)."""
    m = _Cols(c)
    m0, d0 = m.digit(0)
    m1, d1 = m.digit(1)
    p1 = np.where(c[:, 1] == _DASH, 1, 2)
    ok &= d0 & ((p1 == 1) | d1) & (m.at(p1) == _DASH)
    mo = np.where(p1 == 1, m0, m0 * 10 + m1)
    a0, e0 = m.digit(p1 + 1)
    a1, e1 = m.digit(p1 + 2)
    p2 = np.where(m.at(p1 + 2) == _DASH, p1 + 2, p1 + 3)
    ok &= e0 & ((p2 == p1 + 2) | e1) & (m.at(p2) == _DASH)
    day = np.where(p2 == p1 + 2, a0, a0 * 10 + a1)
    y = np.zeros(len(c), np.int64)
    for j in range(1, 5):
        v, isd = m.digit(p2 + j)
        ok &= isd
        y = y * 10 + v
    ok &= p2 + 5 == length
    return {"y": y, "mo": mo.astype(np.int64), "d": day.astype(np.int64), "ok": ok}


def convert_time(tim: pa.Array, date: pa.Array) -> dict[str, np.ndarray]:
    """Read `time=` / `date=` columns.

    Args:
        tim: ``time`` attribute texts.
        date: ``date`` attribute texts, aligned with `tim`.

    Returns:
        local_us (int64 naive microseconds since 1970), bias (int64), has_bias
        and bad (bool: a field does not read or is out of range; such rows are
        for the careful reader).
    """
    if len(tim) == 0:
        empty = np.empty(0, np.int64)
        return {
            "local_us": empty,
            "bias": empty,
            "has_bias": empty.astype(bool),
            "bad": empty.astype(bool),
        }
    t = time_from_matrix(*matrix(tim, TIME_W))
    dt = date_from_matrix(*matrix(date, DATE_W))
    clock = ((t["h"] * 60 + t["mi"]) * 60 + t["s"]) * 1_000_000 + t["frac_us"]
    return {
        "local_us": dt["days"] * US_PER_DAY + clock,
        "bias": t["bias"],
        "has_bias": t["has_bias"],
        "bad": ~(t["ok"] & dt["ok"] & bias_in_range(t["bias"])),
    }
