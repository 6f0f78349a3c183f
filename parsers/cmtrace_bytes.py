"""Canonical CCM records read straight from the bytes with numpy (no string kernels).

A block is accepted here only when EVERY chunk (text after an opener, up to the
next) has the canonical layout the pyarrow scanner (`cmtrace_fast`) accepts, in
its strictest common form:

* exactly one ``]LOG]!><time="`` in the chunk (message | attributes);
* exactly 13 quotes after it, the six separators `` date=``, `` component=``,
  `` context=``, `` type=``, `` thread=``, `` file=`` between them, byte for byte;
* ``>``, ``>\\n`` or ``>\\r\\n`` after the last quote, then the next opener (or
  the end of the block);
* time and date convertible (the same digit arithmetic as `cmtrace_fields`),
  ``type`` empty or one ASCII digit, ``thread`` empty or 1-18 ASCII digits.

Anything else returns None and the caller runs the pyarrow scanner on the whole
block, so the output is the same either way. Positions are found with one
comparison pass per byte class (``!`` for openers and closers, ``"`` for
attribute bounds, LF for line numbers); separators are compared as unaligned
64-bit words; strings are sliced out of the block with one ``take`` each.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .cmtrace_fields import (
    DATE_W,
    DAYS_IN_MONTH,
    TIME_W,
    date_from_matrix,
    days_from_civil,
    time_from_matrix,
)

_US_PER_DAY = 86_400_000_000


def _word(text: bytes) -> int:
    """Little-endian uint64 of up to 8 bytes."""
    return int.from_bytes(text.ljust(8, b"\0"), "little")


def _mask(n: int) -> np.uint64:
    return np.uint64((1 << (8 * n)) - 1)


_OPEN_W, _OPEN_M = np.uint64(_word(b"<![LOG[")), _mask(7)
_CLOSE_A = np.uint64(_word(b"]LOG]!><"))
_CLOSE_B = np.uint64(_word(b'><time="'))
# (quote index, byte offset from that quote, word): separators as 64-bit words.
_SEPS = (
    (1, 0, b'" date="'),
    (3, 0, b'" compon'),
    (3, 5, b'ponent="'),
    (5, 0, b'" contex'),
    (5, 3, b'ontext="'),
    (7, 0, b'" type="'),
    (9, 0, b'" thread'),
    (9, 2, b'thread="'),
    (11, 0, b'" file="'),
)
_SEP_LEN = {1: 7, 3: 12, 5: 10, 7: 7, 9: 9, 11: 7}  # quote j -> quote j+1
_TAILS = ((1, b'">'), (2, b'">\n'), (3, b'">\r\n'))
_THREAD_W = 18


def _words(b: np.ndarray) -> np.ndarray:
    """Unaligned uint64 view: element i is bytes i..i+7 (little-endian)."""
    return np.ndarray((max(len(b) - 7, 0),), dtype="<u8", buffer=b, strides=(1,))


def _window(b: np.ndarray, start: np.ndarray, length: np.ndarray, width: int):
    """(rows x width) bytes from `start`, blanked from `length` on (matrix layout)."""
    win = np.lib.stride_tricks.sliding_window_view(b, width)[start]
    fits = length <= width
    blank = (np.arange(width)[None, :] >= length[:, None]) | ~fits[:, None]
    win[blank] = 32
    return win, fits, length.astype(np.int64)


def _bytes16(w: np.ndarray, at: np.ndarray, second: int) -> np.ndarray:
    """(rows x 16) uint8: the words at `at` and `at + second`, side by side."""
    pair = np.empty((len(at), 2), np.uint64)
    pair[:, 0] = w[at]
    pair[:, 1] = w[at + second]
    return pair.view(np.uint8)


def _strings(data: pa.Buffer, start: np.ndarray, end: np.ndarray) -> pa.Array:
    """pa.string() values data[start:end], copied once by `take`."""
    n = len(start)
    offsets = np.empty(2 * n + 1, np.int32)
    offsets[0:-1:2] = start
    offsets[1:-1:2] = end
    offsets[-1] = end[-1]
    both = pa.StringArray.from_buffers(2 * n, pa.py_buffer(offsets), data)
    return both.take(pa.array(np.arange(0, 2 * n, 2, dtype=np.int32)))


def _times(b: np.ndarray, w: np.ndarray, start: np.ndarray, end: np.ndarray) -> dict:
    """`cmtrace_fields.time_from_matrix` results; fixed layouts read as two words.

    ``HH:MM:SS.fff+BBB`` and ``HH:MM:SS.fffffff`` (16 bytes) are read here with
    the same arithmetic; other rows go through `time_from_matrix` itself.
    """
    c = _bytes16(w, start, 8)
    d = c - np.uint8(48)
    isd = d < 10
    base = (end - start == 16) & (c[:, 2] == 58) & (c[:, 5] == 58) & (c[:, 8] == 46)
    base &= isd[:, [0, 1, 3, 4, 6, 7, 9, 10, 11]].all(axis=1)
    sign = c[:, 12]
    tail = isd[:, 13:16].all(axis=1)
    native = base & ((sign == 43) | (sign == 45)) & tail
    fixed = native | (base & isd[:, 12] & tail)
    d = d.astype(np.int32)
    h, mi, s = (d[:, j] * 10 + d[:, j + 1] for j in (0, 3, 6))
    ms3 = (d[:, 9] * 10 + d[:, 10]) * 10 + d[:, 11]
    b3 = (d[:, 13] * 10 + d[:, 14]) * 10 + d[:, 15]
    tail4 = d[:, 12] * 1000 + b3
    bias = np.where(native, np.where(sign == 45, -b3, b3), 0)
    out = {
        "h": h,
        "mi": mi,
        "s": s,
        "frac_us": np.where(native, ms3 * 1000, ms3 * 1000 + tail4 // 10),
        "bias": bias,
        "has_bias": native,
        "ok": fixed & (h <= 23) & (mi <= 59) & (s <= 60),
    }
    rest = np.flatnonzero(~fixed)
    if len(rest):
        g = time_from_matrix(*_window(b, start[rest], end[rest] - start[rest], TIME_W))
        out = {k: v.astype(np.int64) if v.dtype != bool else v for k, v in out.items()}
        for key in out:
            out[key][rest] = g[key]
    out["has_bias"] = out["has_bias"] & out["ok"]
    return out


def _day_table() -> np.ndarray:
    y, m = np.divmod(np.arange((_Y1 - _Y0 + 1) * 12), 12)
    return days_from_civil(y + _Y0, m + 1, np.ones_like(y))


_Y0, _Y1 = 1900, 2999  # the range `cmtrace_fields.parse_date` accepts
_MONTH_DAY1 = _day_table()  # days since 1970 of the 1st of each month


def _dates(b: np.ndarray, w: np.ndarray, start: np.ndarray, end: np.ndarray):
    """(days since 1970, ok) as `cmtrace_fields.date_from_matrix` reads them."""
    c = _bytes16(w, start, 2)  # bytes 0-7, then 2-9
    d = c - np.uint8(48)
    cols = [0, 1, 3, 4, 6, 7, 14, 15]
    fixed = (end - start == 10) & (c[:, 2] == 45) & (c[:, 5] == 45)
    fixed &= (d[:, cols] < 10).all(axis=1)
    d = d.astype(np.int32)
    mo = d[:, 0] * 10 + d[:, 1]
    day = d[:, 3] * 10 + d[:, 4]
    y = ((d[:, 6] * 10 + d[:, 7]) * 10 + d[:, 14]) * 10 + d[:, 15]
    ok = fixed.copy()
    rest = np.flatnonzero(~fixed)
    if len(rest):
        g = date_from_matrix(*_window(b, start[rest], end[rest] - start[rest], DATE_W))
        mo[rest], day[rest], y[rest], ok[rest] = g["mo"], g["d"], g["y"], g["ok"]
    ok &= (mo >= 1) & (mo <= 12) & (day >= 1) & (y >= _Y0) & (y <= _Y1)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    ok &= day <= DAYS_IN_MONTH[np.clip(mo, 1, 12)] + ((mo == 2) & leap)
    if not ok.all():
        return None, ok
    return _MONTH_DAY1[(y - _Y0) * 12 + mo - 1] + (day - 1), ok


def scan_canonical(block: bytes | memoryview) -> dict | None:
    """Read every record of `block` if all are canonical, else None.

    Args:
        block: UTF-8 bytes (NUL-free), less than 2 GiB.

    Returns:
        None, or a dict with ``openers`` (byte offsets in `block`), ``newline_at``
        (LF offsets), and ``columns`` as `cmtrace_fast.Scan.columns` expects.
    """
    size = len(block)
    if size >= 2**31 - 64 or size < 64:
        return None
    b = np.frombuffer(block, np.uint8)
    w = _words(b)  # valid word starts: 0 .. size - 8
    bang = np.flatnonzero(b == 33)  # '!' sits in both the opener and the closer
    at = bang[(bang >= 1) & (bang <= size - 7)] - 1
    opener = at[(w[at] & _OPEN_M) == _OPEN_W]
    cand = bang[(bang >= 5) & (bang <= size - 9)] - 5
    cand = cand[w[cand] == _CLOSE_A]
    closer = cand[w[cand + 6] == _CLOSE_B]
    n = len(opener)
    if n == 0 or len(closer) != n:
        return None
    nxt = np.empty(n, np.int64)
    nxt[:-1] = opener[1:]
    nxt[-1] = size  # an opener dropped near the end fails the tail check below
    # One closer per chunk: closer i lies between opener i and opener i+1.
    if not ((closer > opener) & (closer + 14 <= nxt)).all():
        return None
    quotes = np.flatnonzero(b == 34)
    k = np.searchsorted(quotes, closer + 13)  # the quote of `time="`
    if k[-1] + 13 >= len(quotes):
        return None
    qi = {j: quotes[k + j] for j in (1, 3, 5, 7, 9, 11, 13)}
    after = quotes[np.minimum(k + 14, len(quotes) - 1)]
    # 13 quotes per chunk after `time="`: the 13th before, the 14th after the next.
    if not ((qi[13] < nxt) & ((k + 14 >= len(quotes)) | (after >= nxt))).all():
        return None
    ok = np.ones(n, bool)
    for j, shift, text in _SEPS:
        ok &= w[qi[j] + shift] == np.uint64(_word(text))
    tail_len = nxt - qi[13] - 1
    t1, t2, t3 = (b[np.minimum(qi[13] + i, size - 1)] for i in (1, 2, 3))
    ok &= (t1 == 62) & (  # '>' then nothing, LF or CRLF
        (tail_len == 1)
        | ((tail_len == 2) & (t2 == 10))
        | ((tail_len == 3) & (t2 == 13) & (t3 == 10))
    )
    if not ok.all():
        return None
    q = {j: qi[j] for j in (1, 3, 5, 7, 9, 11, 13)}
    for j, gap in _SEP_LEN.items():
        q[j + 1] = q[j] + gap
    time_start = closer + 14
    t = _times(b, w, time_start, q[1])
    days, date_ok = _dates(b, w, q[2] + 1, q[3])
    if days is None or not t["ok"].all() or (np.abs(t["bias"]) > 1440).any():
        return None
    typ_len = q[9] - q[8] - 1
    typ = b[q[8] + 1] - np.uint8(48)
    thr_len = q[11] - q[10] - 1
    if (typ_len > 1).any() or ((typ_len == 1) & (typ > 9)).any():
        return None
    if (thr_len > _THREAD_W).any():
        return None
    thread = _thread(b, q[11], thr_len)
    if thread is None:
        return None
    i64 = np.int64
    clock = (t["h"].astype(i64) * 60 + t["mi"]) * 60 + t["s"]
    cols: dict[str, object] = {
        "local_us": days * _US_PER_DAY + clock * 1_000_000 + t["frac_us"],
        "bias": t["bias"].astype(i64),
        "has_bias": t["has_bias"],
    }
    data = pa.py_buffer(block)
    cols["message"] = _strings(data, opener + 7, closer)
    cols["component"] = _strings(data, q[4] + 1, q[5])
    cols["context"] = _strings(data, q[6] + 1, q[7])
    cols["file"] = _strings(data, q[12] + 1, q[13])
    cols["severity"] = pa.array(typ.astype(np.int8), pa.int8(), mask=typ_len == 0)
    cols["thread"] = pa.array(thread, pa.int64(), mask=thr_len == 0)
    newline_at = np.flatnonzero(b == 10)
    return {"openers": opener, "newline_at": newline_at, "columns": cols}


def _thread(b: np.ndarray, end: np.ndarray, length: np.ndarray) -> np.ndarray | None:
    """Values of 0-18 ASCII digits ending before `end` (0 when empty), or None."""
    width = int(length.max())
    if width == 0:
        return np.zeros(len(end), np.int64)
    # Digits right-aligned against the closing quote.
    win = np.lib.stride_tricks.sliding_window_view(b, width)[end - width]
    dig = win.astype(np.int64) - 48
    used = np.arange(width)[None, :] >= (width - length)[:, None]
    if ((dig < 0) | (dig > 9))[used].any():
        return None
    dig[~used] = 0
    return dig @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))
