"""Canonical CCM records read straight from the bytes with numpy (no string kernels).

A chunk (text after an opener, up to the next) is read here only when it has the
canonical layout the pyarrow reader (`cmtrace_fast`) accepts, in its strictest
common form:

* exactly one ``]LOG]!><time="`` in the chunk (message | attributes);
* exactly 13 quotes after it, the six separators `` date=``, `` component=``,
  `` context=``, `` type=``, `` thread=``, `` file=`` between them, byte for byte;
* ``>``, ``>\\n`` or ``>\\r\\n`` after the last quote, then the next opener (or
  the end of the block);
* time and date convertible (the same digit arithmetic as `cmtrace_fields`),
  ``type`` empty or one ASCII digit, ``thread`` empty or 1-18 ASCII digits.

Other chunks are left to the pyarrow reader (`cmtrace_fast.scan`), so the output
is the same either way. An attribute value holding '!' is legal but sends its
chunk there too (the attributes must hold quotes only, of the three bytes
searched). One mask pass finds every '!' (openers, closers), '"' (attribute
bounds) and LF (line numbers); separators are compared as unaligned 64-bit
words; strings are sliced out of the block with one ``take`` each.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .fields import DATE_W, TIME_W, date_from_matrix, days_from_civil, time_from_matrix

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


_STEP = 1 << 20  # the masks of one step stay in cache


def _hits(b: np.ndarray) -> np.ndarray:
    """Offsets of every '!', '"' and LF, one cache-sized step at a time."""
    found = []
    step = min(_STEP, len(b))
    diff = np.empty(step, np.uint8)
    mask = np.empty(step, bool)
    lf = np.empty(step, bool)
    for at in range(0, len(b), step):
        x = b[at : at + step]
        n = len(x)
        np.subtract(x, np.uint8(33), out=diff[:n])  # '!' and '"' become 0 and 1
        np.less(diff[:n], 2, out=mask[:n])
        np.equal(x, 10, out=lf[:n])
        np.logical_or(mask[:n], lf[:n], out=mask[:n])
        at_mask = np.flatnonzero(mask[:n])
        at_mask += at
        found.append(at_mask)
    return np.concatenate(found) if found else np.empty(0, np.int64)


def _strings(data: pa.Buffer, start: np.ndarray, end: np.ndarray) -> pa.Array:
    """pa.string() values data[start:end], copied once by `take`."""
    n = len(start)
    offsets = np.empty(2 * n + 1, np.int32)
    offsets[0:-1:2] = start
    offsets[1:-1:2] = end
    offsets[-1] = end[-1]
    both = pa.StringArray.from_buffers(2 * n, pa.py_buffer(offsets), data)
    return both.take(pa.array(np.arange(0, 2 * n, 2, dtype=np.int32)))


def _pattern(layout: str) -> tuple[int, int, int, int]:
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
    return tuple(np.uint64(x) for x in (m1, v1, add, m2, v2))  # type: ignore


def _matches(x: np.ndarray, pat: tuple) -> np.ndarray:
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


def _times(b: np.ndarray, w: np.ndarray, start: np.ndarray, end: np.ndarray) -> dict:
    """`cmtrace_fields.time_from_matrix` results; fixed layouts read as two words.

    ``HH:MM:SS.fff+BBB`` and ``HH:MM:SS.fffffff`` (16 bytes) are read here with
    the same arithmetic; other rows go through `time_from_matrix` itself.
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


def _day_tables() -> tuple[np.ndarray, np.ndarray]:
    y, m = np.divmod(np.arange((_Y1 - _Y0 + 1) * 12), 12)
    first = days_from_civil(y + _Y0, m + 1, np.ones_like(y))
    return first, np.diff(np.append(first, days_from_civil(_Y1 + 1, 1, 1)))


_Y0, _Y1 = 1900, 2999  # the range `cmtrace_fields.parse_date` accepts
# Days since 1970 of the 1st of each month, and the month's length.
_MONTH_DAY1, _MONTH_LEN = _day_tables()


def _dates(b: np.ndarray, w: np.ndarray, start: np.ndarray, end: np.ndarray):
    """(days since 1970, ok) as `cmtrace_fields.date_from_matrix` reads them."""
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
    ok &= (mo >= 1) & (mo <= 12) & (y >= _Y0) & (y <= _Y1)
    month = np.where(ok, (y - _Y0) * 12 + mo - 1, 0)
    ok &= (day >= 1) & (day <= _MONTH_LEN[month])
    return _MONTH_DAY1[month] + (day - 1), ok


def scan_canonical(block: bytes | memoryview) -> dict | None:
    """Read the canonical records of `block`; say which chunks are left.

    Args:
        block: UTF-8 bytes (NUL-free), less than 2 GiB.

    Returns:
        None when the block has no opener (or is too small or too large), else
        a dict: ``openers`` (byte offsets in `block`), ``lines_before`` (LFs
        before each opener), ``newlines`` (LFs in the block), ``good`` (indices
        of the chunks read here, ascending) and ``columns`` for them, as
        `cmtrace_fast.Scan.columns` expects.
    """
    size = len(block)
    if size >= 2**31 - 64 or size < 64:
        return None
    b = np.frombuffer(block, np.uint8)
    w = _words(b)  # valid word starts: 0 .. size - 8
    # Every '!' (opener, closer), '"' (attribute bounds) and LF (line numbers)
    # in one pass; `kind` says which.
    hits = _hits(b)
    kind = b[hits]
    ib = np.flatnonzero(kind == 33)
    bang = hits[ib]
    keep = (bang >= 1) & (bang <= size - 7)
    opener, o_idx = bang[keep] - 1, ib[keep]
    is_open = (w[opener] & _OPEN_M) == _OPEN_W
    opener, o_idx = opener[is_open], o_idx[is_open]
    if bytes(block[size - 7 :]) == b"<![LOG[":  # the last 7 bytes: no whole word
        opener = np.append(opener, size - 7)
        o_idx = np.append(o_idx, ib[-1])
    n = len(opener)
    if n == 0:
        return None
    lf = np.flatnonzero(kind == 10)  # hit indices of the LFs
    found = {
        "openers": opener,
        "lines_before": np.searchsorted(lf, o_idx),
        "newlines": len(lf),
    }
    keep = (bang >= 5) & (bang <= size - 9)
    cand, c_idx = bang[keep] - 5, ib[keep]
    is_close = w[cand] == _CLOSE_A
    cand, c_idx = cand[is_close], c_idx[is_close]
    is_close = w[cand + 6] == _CLOSE_B
    closer, c_idx = cand[is_close], c_idx[is_close]
    nxt = np.empty(n, np.int64)
    nxt[:-1] = opener[1:]
    nxt[-1] = size  # an opener dropped near the end fails the tail check below
    # Chunks holding exactly one closer (the preamble's closers are not ours).
    chunk = np.searchsorted(opener, closer, side="right") - 1
    inside = chunk >= 0
    chunk, closer, c_idx = chunk[inside], closer[inside], c_idx[inside]
    one = np.bincount(chunk, minlength=n) == 1
    r = {"row": np.flatnonzero(one)}
    sel = one[chunk]
    r["closer"], r["k"] = closer[sel], c_idx[sel] + 1
    r["opener"], r["nxt"] = opener[r["row"]], nxt[r["row"]]

    def keep_rows(mask: np.ndarray) -> None:
        if not mask.all():
            for key in r:
                r[key] = r[key][mask]

    keep_rows(r["closer"] + 14 <= r["nxt"])
    # The quote of `time="` is the hit after the closer's '!'; the next 13 hits
    # must all be quotes (no '!' or LF among the attributes) ...
    keep_rows(r["k"] + 13 < len(hits))
    if len(r["row"]) == 0:
        found["good"], found["columns"] = r["row"], {}
        return found
    win = np.lib.stride_tricks.sliding_window_view(kind, 13)
    keep_rows((win[r["k"] + 1] == 34).all(axis=1))
    for j in (1, 3, 5, 7, 9, 11, 13):
        r[f"q{j}"] = hits[r["k"] + j]
    # ... and the exact tail below leaves no room for a 14th before the next opener.
    keep_rows(r["q13"] < r["nxt"])
    ok = np.ones(len(r["row"]), bool)
    # The word at quote 11 reaches furthest; clip only when it can leave the block.
    clip = size - 8 if (r["q11"] > size - 8).any() else None
    for j, shift, text in _SEPS:
        at = r[f"q{j}"] + shift
        ok &= w[at if clip is None else np.minimum(at, clip)] == np.uint64(_word(text))
    q13 = r["q13"]
    tail_len = r["nxt"] - q13 - 1
    t1, t2, t3 = (b[np.minimum(q13 + i, size - 1)] for i in (1, 2, 3))
    ok &= (t1 == 62) & (  # '>' then nothing, LF or CRLF
        (tail_len == 1)
        | ((tail_len == 2) & (t2 == 10))
        | ((tail_len == 3) & (t2 == 13) & (t3 == 10))
    )
    keep_rows(ok)
    q = {j: r[f"q{j}"] for j in (1, 3, 5, 7, 9, 11, 13)}
    for j, gap in _SEP_LEN.items():
        q[j + 1] = q[j] + gap
    time_start = r["closer"] + 14
    t = _times(b, w, time_start, q[1])
    days, ok = _dates(b, w, q[2] + 1, q[3])
    ok &= t["ok"] & (np.abs(t["bias"]) <= 1440)
    typ_len = q[9] - q[8] - 1
    typ = b[q[8] + 1] - np.uint8(48)
    ok &= (typ_len == 0) | ((typ_len == 1) & (typ <= 9))
    thr_len = q[11] - q[10] - 1
    ok &= thr_len <= _THREAD_W
    thread, thread_ok = _thread(b, w, q[11], np.where(ok, thr_len, 0))
    ok &= thread_ok
    i64 = np.int64
    clock = (t["h"].astype(i64) * 60 + t["mi"]) * 60 + t["s"]
    r.update(
        local_us=days * _US_PER_DAY + clock * 1_000_000 + t["frac_us"],
        bias=t["bias"].astype(i64),
        has_bias=t["has_bias"],
        thread=thread,
        thr_len=thr_len,
        typ=typ.astype(np.int8),
        typ_len=typ_len,
    )
    r.update((f"q{j}", v) for j, v in q.items())
    keep_rows(ok)
    found["good"] = r["row"]
    if not len(r["row"]):
        found["columns"] = {}
        return found
    data = pa.py_buffer(block)
    found["columns"] = {
        "message": _strings(data, r["opener"] + 7, r["closer"]),
        "component": _strings(data, r["q4"] + 1, r["q5"]),
        "context": _strings(data, r["q6"] + 1, r["q7"]),
        "file": _strings(data, r["q12"] + 1, r["q13"]),
        "local_us": r["local_us"],
        "bias": r["bias"],
        "has_bias": r["has_bias"],
        "severity": pa.array(r["typ"], pa.int8(), mask=r["typ_len"] == 0),
        "thread": pa.array(r["thread"], pa.int64(), mask=r["thr_len"] == 0),
    }
    return found


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


def _thread(
    b: np.ndarray, w: np.ndarray, end: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(values, ok) of 0-18 ASCII digits ending before `end` (0 when empty).

    Up to 8 digits: the word before the quote, its leading bytes set to '0'.
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
    """`_thread` for any width (digits right-aligned against the quote)."""
    width = int(length.max())
    win = np.lib.stride_tricks.sliding_window_view(b, width)[end - width]
    dig = win.astype(np.int64) - 48
    used = np.arange(width)[None, :] >= (width - length)[:, None]
    ok = ~(((dig < 0) | (dig > 9)) & used).any(axis=1)
    dig[~used] = 0
    return dig @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64)), ok
