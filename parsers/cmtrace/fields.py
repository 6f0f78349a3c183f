"""Digit arithmetic on fixed-width byte matrices for CCM ``time=`` and ``date=``.

Each short field is right-padded with spaces to a fixed width so the whole
column becomes one (rows x width) uint8 matrix; hours, fractions, biases and
dates are then read with numpy indexing, with no per-row Python and no casts
that can fail. Every row gets an ``ok`` flag; rows that are not ok go to the
careful per-record path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIME_W = 24  # HH:MM:SS.fffffffff+1440 is 23
DATE_W = 10  # MM-DD-YYYY
DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_SP, _COLON, _DOT, _PLUS, _MINUS, _DASH = 32, 58, 46, 43, 45, 45


def matrix(arr: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows x width) uint8 matrix of `arr` padded with spaces, fits mask, lengths."""
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


def parse_time(tim: pa.Array) -> dict[str, np.ndarray]:
    """``H:MM:SS[.f{1,9}][+-B{1,4}]`` -> h, mi, s, frac_us, bias, has_bias, ok.

    The two layouts nearly every row has are read from fixed columns:
    ``HH:MM:SS.fff+BBB`` (ConfigMgr) and ``HH:MM:SS.fffffff`` (.NET / IME); the
    other rows go through the general reader.
    """
    return time_from_matrix(*matrix(tim, TIME_W))


def time_from_matrix(
    c: np.ndarray, ok: np.ndarray, length: np.ndarray
) -> dict[str, np.ndarray]:
    """`parse_time` on a (rows x TIME_W) space-padded matrix, fits mask, lengths."""
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
    ok = fits & fixed & (h <= 23) & (mi <= 59) & (s <= 60)
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
    has_frac = c[:, 8] == _DOT
    run = has_frac.copy()
    k = np.zeros(len(c), np.int32)
    frac_us = np.zeros(len(c), np.int32)
    for j in range(9, 18):
        run &= m.isd[:, j]
        k += run
        if j < 15:  # digits past the run add zeros: '.51' -> 510000
            frac_us = frac_us * 10 + np.where(run, m.d[:, j], np.uint8(0))
    ok &= ~has_frac | (k >= 1)
    ps = np.where(has_frac, 9 + k, 8)
    sign = m.at(ps)
    has_bias = (sign == _PLUS) | (sign == _MINUS)
    run = has_bias.copy()
    nb = np.zeros(len(c), np.int32)
    bias = np.zeros(len(c), np.int32)
    for j in range(1, 6):
        v, isd = m.digit(ps + j)
        run &= isd & (ps + j < TIME_W)
        nb += run
        bias = np.where(run, bias * 10 + v, bias)
    ok &= ~has_bias | ((nb >= 1) & (nb <= 4))
    bias = np.where(sign == _MINUS, -bias, bias)
    ok &= np.where(has_bias, ps + 1 + nb, ps) == length  # nothing after the bias
    ok &= (h <= 23) & (mi <= 59) & (s <= 60)
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


def parse_date(date: pa.Array) -> dict[str, np.ndarray]:
    """``M-D-YYYY`` (padding optional) -> y, mo, d, ok.

    Zero-padded ``MM-DD-YYYY`` (native writers) is read from fixed columns; the
    rows that are not (.NET writers: ``8-17-2025``) go through position gathers.
    """
    return date_from_matrix(*matrix(date, DATE_W))


def date_from_matrix(
    c: np.ndarray, ok: np.ndarray, length: np.ndarray
) -> dict[str, np.ndarray]:
    """`parse_date` on a (rows x DATE_W) space-padded matrix, fits mask, lengths."""
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
    y, mo, day = out["y"], out["mo"], out["d"]
    ok &= (mo >= 1) & (mo <= 12) & (day >= 1) & (y >= 1900) & (y <= 2999)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    ok &= day <= DAYS_IN_MONTH[np.clip(mo, 1, 12)] + ((mo == 2) & leap)
    return {"y": y, "mo": mo, "d": day, "ok": ok}


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
    ok &= (mo >= 1) & (mo <= 12) & (day >= 1) & (y >= 1900) & (y <= 2999)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    ok &= day <= DAYS_IN_MONTH[np.clip(mo, 1, 12)] + ((mo == 2) & leap)
    return {"y": y, "mo": mo.astype(np.int64), "d": day.astype(np.int64), "ok": ok}


_US_PER_DAY = 86_400_000_000


def days_from_civil(y: Any, m: Any, d: Any) -> Any:
    """Days since 1970-01-01 for proleptic Gregorian dates (H. Hinnant)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def combine_time(t: dict[str, np.ndarray], dt: dict[str, np.ndarray]) -> dict:
    """`parse_time` and `parse_date` results -> local_us, bias, has_bias, bad."""
    bad = ~(t["ok"] & dt["ok"]) | (np.abs(t["bias"]) > 1440)
    days = days_from_civil(dt["y"], dt["mo"], dt["d"])
    clock = ((t["h"] * 60 + t["mi"]) * 60 + t["s"]) * 1_000_000 + t["frac_us"]
    return {
        "local_us": days * _US_PER_DAY + clock,
        "bias": t["bias"],
        "has_bias": t["has_bias"],
        "bad": bad,
    }
