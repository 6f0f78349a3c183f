"""The canonical-record reader: byte-exact canonical CCM records, from the bytes.

Records are read straight from a block's bytes with numpy (no string kernels).
A chunk (text after an opener, up to the next) is read here only when it has the
canonical layout of `grammar` in its strictest common form, a subset of what the
regular-record reader (`regular`) accepts:

* exactly one ``]LOG]!><time="`` in the chunk (message | attributes);
* exactly 13 quotes after it, the six `grammar.SEPARATORS` between them, byte for
  byte;
* ``>``, ``>\\n`` or ``>\\r\\n`` after the last quote, then the next opener (or
  the end of the block);
* time and date convertible (`canonical_values`, the same results as
  `timestamps`), ``type`` empty or one ASCII digit, ``thread`` empty or up to
  `grammar.THREAD_DIGITS` ASCII digits.

Other chunks are left to the regular-record reader, so the output is the same
either way. An attribute value holding '!' is legal but sends its chunk there
too (the attributes must hold quotes only, of the three bytes searched). One
mask pass finds every '!' (openers, closers), '"' (attribute bounds) and LF
(line numbers); separators are compared as unaligned 64-bit words; strings are
sliced out of the block with one ``take`` each.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .canonical_values import read_dates, read_threads, read_times, words
from .grammar import (
    ATTRIBUTES,
    CLOSER,
    CLOSER_TIME,
    OPENER,
    SEPARATORS,
    THREAD_DIGITS,
    bias_in_range,
)
from .timestamps import US_PER_DAY

_BANG, _QUOTE, _LF = 33, 34, 10


def _word(text: str) -> np.uint64:
    """Little-endian uint64 of up to 8 bytes."""
    return np.uint64(int.from_bytes(text.encode().ljust(8, b"\0"), "little"))


_OPEN_W = _word(OPENER)
_OPEN_M = np.uint64((1 << (8 * len(OPENER))) - 1)
_OPEN_BANG = OPENER.index("!")
_CLOSE_BANG = CLOSER.index("!")
# ``]LOG]!><time="`` is 14 bytes: the word at its start and the word ending it.
_CLOSE_SECOND = len(CLOSER_TIME) - 8
_CLOSE_A, _CLOSE_B = _word(CLOSER_TIME[:8]), _word(CLOSER_TIME[_CLOSE_SECOND:])
# Quotes after the opening quote of ``time="``: the closing quote of value k is
# quote 2k + 1, the opening quote of value k + 1 is quote 2k + 2.
_QUOTES = 2 * len(ATTRIBUTES) - 1
# Separator k starts at quote 2k + 1: (quote, byte offset from it, word) for the
# word at its start and, when longer than 8 bytes, the word at its end.
_SEPARATOR_WORDS = tuple(
    (2 * k + 1, shift, _word(sep[shift : shift + 8]))
    for k, sep in enumerate(SEPARATORS)
    for shift in sorted({0, len(sep) - 8})
)
_LAST_SEPARATOR = 2 * len(SEPARATORS) - 1  # its word reaches furthest
_TYPE, _THREAD = ATTRIBUTES.index("type"), ATTRIBUTES.index("thread")
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
        np.subtract(x, np.uint8(_BANG), out=diff[:n])  # '!' and '"' become 0 and 1
        np.less(diff[:n], 2, out=mask[:n])
        np.equal(x, _LF, out=lf[:n])
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


class _Candidates:
    """Aligned arrays, one row per chunk still in the running.

    Quote j of a row (quote 0 is the opening quote of time=; the closing quote
    of value k is quote 2k + 1) is column ``q<j>``.
    """

    def __init__(self, **columns: np.ndarray) -> None:
        self.cols = columns

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __len__(self) -> int:
        return len(self.cols["row"])

    def add(self, **columns: np.ndarray) -> None:
        """More columns, aligned with the rows."""
        self.cols.update(columns)

    def keep(self, mask: np.ndarray) -> None:
        """Drop the rows where `mask` is False."""
        if not mask.all():
            self.cols = {k: v[mask] for k, v in self.cols.items()}

    def span(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Where value k (of `grammar.ATTRIBUTES`) starts and ends."""
        return self.cols[f"q{2 * k}"] + 1, self.cols[f"q{2 * k + 1}"]


def _openers(
    block: bytes | memoryview, w: np.ndarray, hits: np.ndarray, bangs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(byte offsets, hit indices) of the openers: a '!' at byte 1 of one."""
    size = len(block)
    bang = hits[bangs]
    keep = (bang >= _OPEN_BANG) & (bang <= size - len(OPENER))
    opener, o_idx = bang[keep] - _OPEN_BANG, bangs[keep]
    is_open = (w[opener] & _OPEN_M) == _OPEN_W
    opener, o_idx = opener[is_open], o_idx[is_open]
    at_end = size - len(OPENER)  # the last bytes of a block hold no whole word
    if bytes(block[at_end:]) == OPENER.encode():
        opener = np.append(opener, at_end)
        o_idx = np.append(o_idx, bangs[-1])
    return opener, o_idx


def _one_closer_chunks(
    w: np.ndarray, hits: np.ndarray, bangs: np.ndarray, opener: np.ndarray, size: int
) -> _Candidates:
    """The chunks holding exactly one ``]LOG]!><time="``, with where it is."""
    bang = hits[bangs]
    keep = (bang >= _CLOSE_BANG) & (bang <= size - (len(CLOSER_TIME) - _CLOSE_BANG))
    cand, c_idx = bang[keep] - _CLOSE_BANG, bangs[keep]
    is_close = w[cand] == _CLOSE_A
    cand, c_idx = cand[is_close], c_idx[is_close]
    is_close = w[cand + _CLOSE_SECOND] == _CLOSE_B
    closer, c_idx = cand[is_close], c_idx[is_close]
    n = len(opener)
    nxt = np.empty(n, np.int64)
    nxt[:-1] = opener[1:]
    nxt[-1] = size  # an opener dropped near the end fails the tail check later
    # The preamble's closers are not ours.
    chunk = np.searchsorted(opener, closer, side="right") - 1
    inside = chunk >= 0
    chunk, closer, c_idx = chunk[inside], closer[inside], c_idx[inside]
    one = np.bincount(chunk, minlength=n) == 1
    row = np.flatnonzero(one)
    sel = one[chunk]
    # `k`: the hit of the opening quote of time=, the one after the closer's '!'.
    return _Candidates(
        row=row, closer=closer[sel], k=c_idx[sel] + 1, opener=opener[row], nxt=nxt[row]
    )


def _check_layout(
    cand: _Candidates, b: np.ndarray, w: np.ndarray, hits: np.ndarray, kind: np.ndarray
) -> None:
    """Keep the candidates in the canonical layout, with their quotes' offsets."""
    cand.keep(cand["closer"] + len(CLOSER_TIME) <= cand["nxt"])
    # The next 13 hits must all be quotes (no '!' or LF among the attributes) ...
    cand.keep(cand["k"] + _QUOTES < len(hits))
    if len(cand) == 0:
        return
    win = np.lib.stride_tricks.sliding_window_view(kind, _QUOTES)
    cand.keep((win[cand["k"] + 1] == _QUOTE).all(axis=1))
    cand.add(**{f"q{j}": hits[cand["k"] + j] for j in range(1, _QUOTES + 1, 2)})
    # ... and the exact tail below leaves no room for a 14th before the next opener.
    last = f"q{_QUOTES}"
    cand.keep(cand[last] < cand["nxt"])
    size = len(b)
    ok = np.ones(len(cand), bool)
    # Clip only when the furthest word can leave the block.
    clip = size - 8 if (cand[f"q{_LAST_SEPARATOR}"] > size - 8).any() else None
    for j, shift, word in _SEPARATOR_WORDS:
        at = cand[f"q{j}"] + shift
        ok &= w[at if clip is None else np.minimum(at, clip)] == word
    tail_len = cand["nxt"] - cand[last] - 1
    t1, t2, t3 = (b[np.minimum(cand[last] + i, size - 1)] for i in (1, 2, 3))
    ok &= (t1 == ord(">")) & (  # '>' then nothing, LF or CRLF
        (tail_len == 1)
        | ((tail_len == 2) & (t2 == _LF))
        | ((tail_len == 3) & (t2 == 13) & (t3 == _LF))
    )
    cand.keep(ok)
    cand.add(q0=cand["closer"] + len(CLOSER_TIME) - 1)
    for k, sep in enumerate(SEPARATORS):
        cand.add(**{f"q{2 * k + 2}": cand[f"q{2 * k + 1}"] + len(sep) - 1})


def _read_values(cand: _Candidates, b: np.ndarray, w: np.ndarray) -> None:
    """Time, date, type and thread of the candidates; keep those that convert."""
    t = read_times(b, w, *cand.span(0))
    days, ok = read_dates(b, w, *cand.span(1))
    ok &= t["ok"] & bias_in_range(t["bias"])
    typ_at, typ_end = cand.span(_TYPE)
    typ_len = typ_end - typ_at
    typ = b[typ_at] - np.uint8(48)
    ok &= (typ_len == 0) | ((typ_len == 1) & (typ <= 9))
    thr_at, thr_end = cand.span(_THREAD)
    thr_len = thr_end - thr_at
    ok &= thr_len <= THREAD_DIGITS
    thread, thread_ok = read_threads(b, w, thr_end, np.where(ok, thr_len, 0))
    ok &= thread_ok
    i64 = np.int64
    clock = (t["h"].astype(i64) * 60 + t["mi"]) * 60 + t["s"]
    cand.add(
        local_us=days * US_PER_DAY + clock * 1_000_000 + t["frac_us"],
        bias=t["bias"].astype(i64),
        has_bias=t["has_bias"],
        thread=thread,
        thr_len=thr_len,
        typ=typ.astype(np.int8),
        typ_len=typ_len,
    )
    cand.keep(ok)


def _columns(block: bytes | memoryview, cand: _Candidates) -> dict[str, Any]:
    """The converted columns, as `records.Scan.columns`."""
    data = pa.py_buffer(block)

    def text(name: str) -> pa.Array:
        return _strings(data, *cand.span(ATTRIBUTES.index(name)))

    return {
        "message": _strings(data, cand["opener"] + len(OPENER), cand["closer"]),
        "component": text("component"),
        "context": text("context"),
        "file": text("file"),
        "local_us": cand["local_us"],
        "bias": cand["bias"],
        "has_bias": cand["has_bias"],
        "severity": pa.array(cand["typ"], pa.int8(), mask=cand["typ_len"] == 0),
        "thread": pa.array(cand["thread"], pa.int64(), mask=cand["thr_len"] == 0),
    }


def scan_canonical(block: bytes | memoryview) -> dict[str, Any] | None:
    """Read the canonical records of `block`; say which chunks are left.

    Args:
        block: UTF-8 bytes (NUL-free), less than 2 GiB.

    Returns:
        None when the block has no opener (or is too small or too large), else
        a dict: ``openers`` (byte offsets in `block`), ``lines_before`` (LFs
        before each opener), ``newlines`` (LFs in the block), ``good`` (indices
        of the chunks read here, ascending) and ``columns`` for them, as
        `records.Scan.columns` expects.
    """
    size = len(block)
    if size >= 2**31 - 64 or size < 64:
        return None
    b = np.frombuffer(block, np.uint8)
    w = words(b)  # valid word starts: 0 .. size - 8
    # Every '!' (opener, closer), '"' (attribute bounds) and LF (line numbers)
    # in one pass; `kind` says which.
    hits = _hits(b)
    kind = b[hits]
    bangs = np.flatnonzero(kind == _BANG)
    opener, o_idx = _openers(block, w, hits, bangs)
    if len(opener) == 0:
        return None
    lf = np.flatnonzero(kind == _LF)  # hit indices of the LFs
    found: dict[str, Any] = {
        "openers": opener,
        "lines_before": np.searchsorted(lf, o_idx),
        "newlines": len(lf),
        "columns": {},
    }
    cand = _one_closer_chunks(w, hits, bangs, opener, size)
    _check_layout(cand, b, w, hits, kind)
    if len(cand):
        _read_values(cand, b, w)
        if len(cand):
            found["columns"] = _columns(block, cand)
    found["good"] = cand["row"]
    return found
