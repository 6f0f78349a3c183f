"""Time, date and thread values of canonical records, read eight bytes at a time.

The canonical-record reader (`canonical`) knows where each value starts and
ends; here the values are read from unaligned little-endian 64-bit words of the
block: a layout test on a whole word (SWAR masks), then digit pairs by one
multiply. Values in the two fixed time layouts and the zero-padded date layout
are read that way; any other row goes through the byte-matrix readers of
`timestamps`, so the results are those `timestamps.convert_time` gives.
"""

from __future__ import annotations

import numpy as np

from .grammar import clock_in_range
from .timestamps import DATE_W, TIME_W, civil_days, date_from_matrix, time_from_matrix


def words(b: np.ndarray) -> np.ndarray:
    """The unaligned 64-bit words of a byte array, without a copy.

    Args:
        b: uint8 array.

    Returns:
        uint64 view whose element i is bytes i..i+7, little-endian.
    """
    return np.ndarray((max(len(b) - 7, 0),), dtype="<u8", buffer=b, strides=(1,))


def _window(
    b: np.ndarray, start: np.ndarray, length: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows x width) bytes from `start`, blanked from `length` on (matrix layout)."""
    win = np.lib.stride_tricks.sliding_window_view(b, width)[start]
    fits = length <= width
    blank = (np.arange(width)[None, :] >= length[:, None]) | ~fits[:, None]
    win[blank] = 32
    return win, fits, length.astype(np.int64)


def _pattern(layout: str) -> tuple[np.uint64, ...]:
    """SWAR masks for up to 8 bytes: 'd' an ASCII digit, '?' anything, else literal.

    A word x matches when ``x & m1 == v1`` (digits' high nibble is 3, literals
    exact) and ``(x + add) & m2 == v2`` (digits' low nibble is 0-9; no carry can
    leave a byte whose high nibble is 3).
    """
    m1 = v1 = add = m2 = v2 = 0
    for i, ch in enumerate(layout):
        sh = 8 * i
        if ch == "d":
            m1, v1 = m1 | 0xF0 << sh, v1 | 0x30 << sh
            add, m2, v2 = add | 6 << sh, m2 | 0xF0 << sh, v2 | 0x30 << sh
        elif ch != "?":
            m1, v1 = m1 | 0xFF << sh, v1 | ord(ch) << sh
    return tuple(np.uint64(x) for x in (m1, v1, add, m2, v2))


def _matches(x: np.ndarray, pat: tuple[np.uint64, ...]) -> np.ndarray:
    m1, v1, add, m2, v2 = pat
    return ((x & m1) == v1) & (((x + add) & m2) == v2)


_LOW = np.uint64(0x0F0F0F0F0F0F0F0F)
_HMS = _pattern("dd:dd:dd")
_FRAC = _pattern(".ddd?ddd")
_MDY = _pattern("dd-dd-dd")
_YY = _pattern("??????dd")


def _pairs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(digit bytes, byte i = 10 * digit i + digit i+1) as (rows x 8) uint8."""
    v = x & _LOW
    p = v * np.uint64(10) + (v >> np.uint64(8))  # bytes stay below 256: no carry
    return v.view(np.uint8).reshape(-1, 8), p.view(np.uint8).reshape(-1, 8)


def read_times(
    b: np.ndarray, w: np.ndarray, start: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """`timestamps.time_from_matrix` results for the texts b[start:end].

    ``HH:MM:SS.fff+BBB`` and ``HH:MM:SS.fffffff`` (16 bytes) are read as two
    words with the same arithmetic; other rows go through `time_from_matrix`.

    Args:
        b: the block's bytes; w: its `words`.
        start, end: where each time text starts and ends.

    Returns:
        h, mi, s, frac_us, bias, has_bias and ok arrays.
    """
    hi, lo = w[start], w[start + 8]
    base = (end - start == 16) & _matches(hi, _HMS) & _matches(lo, _FRAC)
    _, ph = _pairs(hi)
    vl, pl = _pairs(lo)
    sign = lo.view(np.uint8).reshape(-1, 8)[:, 4]
    native = base & ((sign == 43) | (sign == 45))
    fixed = native | (base & (vl[:, 4] < 10) & ((sign & 0xF0) == 0x30))
    i32 = np.int32
    h, mi, s = ph[:, 0].astype(i32), ph[:, 3].astype(i32), ph[:, 6].astype(i32)
    ms3 = pl[:, 1].astype(i32) * 10 + vl[:, 3]
    b3 = pl[:, 5].astype(i32) * 10 + vl[:, 7]
    tail4 = vl[:, 4].astype(i32) * 1000 + b3
    out = {
        "h": h,
        "mi": mi,
        "s": s,
        "frac_us": np.where(native, ms3 * 1000, ms3 * 1000 + tail4 // 10),
        "bias": np.where(native, np.where(sign == 45, -b3, b3), 0),
        "has_bias": native,
        "ok": fixed & clock_in_range(h, mi, s),
    }
    rest = np.flatnonzero(~fixed)
    if len(rest):
        g = time_from_matrix(*_window(b, start[rest], end[rest] - start[rest], TIME_W))
        out = {k: v.astype(np.int64) if v.dtype != bool else v for k, v in out.items()}
        for key in out:
            out[key][rest] = g[key]
    out["has_bias"] = out["has_bias"] & out["ok"]
    return out


def read_dates(
    b: np.ndarray, w: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970, ok) of the texts b[start:end], as `date_from_matrix` reads.

    Args:
        b: the block's bytes; w: its `words`.
        start, end: where each date text starts and ends.

    Returns:
        int64 days and the mask of dates that read and exist.
    """
    head, tail = w[start], w[start + 2]  # bytes 0-7, then 2-9
    fixed = (end - start == 10) & _matches(head, _MDY) & _matches(tail, _YY)
    _, ph = _pairs(head)
    _, pt = _pairs(tail)
    mo, day = ph[:, 0].astype(np.int32), ph[:, 3].astype(np.int32)
    y = ph[:, 6].astype(np.int32) * 100 + pt[:, 6]
    ok = fixed.copy()
    rest = np.flatnonzero(~fixed)
    if len(rest):
        g = date_from_matrix(*_window(b, start[rest], end[rest] - start[rest], DATE_W))
        mo[rest], day[rest], y[rest], ok[rest] = g["mo"], g["d"], g["y"], g["ok"]
    days, exists = civil_days(y, mo, day)
    return days, ok & exists


_ONES = (1 << 64) - 1
# Per digit count n: the n high bytes of a word (the digits before a quote).
_KEEP = np.array([_ONES ^ ((1 << 8 * (8 - n)) - 1) for n in range(9)], np.uint64)
_ZEROS = np.uint64(0x3030303030303030)
_DIGITS8 = _pattern("dddddddd")


def _parse8(y: np.ndarray) -> np.ndarray:
    """Eight ASCII digits per word (first digit in the low byte) -> int64."""
    v = (y & _LOW) * np.uint64(2561) >> np.uint64(8)
    v = (v & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601) >> np.uint64(16)
    v = (v & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)
    return (v >> np.uint64(32)).astype(np.int64)


def read_threads(
    b: np.ndarray, w: np.ndarray, end: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(values, ok) of 0 to `grammar.THREAD_DIGITS` ASCII digits ending before `end`.

    Up to 8 digits: the word before the quote, its leading bytes set to '0'.

    Args:
        b: the block's bytes; w: its `words`.
        end: where each thread text ends (its closing quote).
        length: its length (0 when empty: the value is then 0).

    Returns:
        int64 values and the mask of texts that are all digits.
    """
    short = length <= 8
    keep = _KEEP[np.where(short, length, 0)]
    y = (w[end - 8] & keep) | (_ZEROS & ~keep)
    ok = _matches(y, _DIGITS8)
    out = _parse8(y)
    rest = np.flatnonzero(~short)
    if len(rest):
        out[rest], ok[rest] = _thread_long(b, end[rest], length[rest])
    return out, ok


def _thread_long(
    b: np.ndarray, end: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`read_threads` for any width (digits right-aligned against the quote)."""
    width = int(length.max())
    win = np.lib.stride_tricks.sliding_window_view(b, width)[end - width]
    dig = win.astype(np.int64) - 48
    used = np.arange(width)[None, :] >= (width - length)[:, None]
    ok = ~(((dig < 0) | (dig > 9)) & used).any(axis=1)
    dig[~used] = 0
    return dig @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64)), ok
