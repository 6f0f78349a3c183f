"""Vectorised CCM-record scanner: numpy on the raw bytes, then pyarrow compute.

No per-record Python runs here. `scan` first lets `cmtrace_bytes` read the
canonical records of a block straight from its bytes (one mask pass for '!',
quotes and LF; fixed-offset word compares; digit arithmetic). The chunks it
leaves go to the pyarrow reader `_convert_chunks`: each piece is cut once on
``]LOG]!><time="`` (message | attributes) and the short attribute part on
``"`` into exactly 14 pieces when the record is canonical (``time" date="..."
component="..." context="..." type="..." thread="..." file="...">``). The six
separators and the closing ``>`` are checked, then time and date are read by
digit arithmetic (`cmtrace_fields`). Pieces that are not canonical, or whose
fields do not convert, are handed back by index to the careful per-record path
(`cmtrace_slow`). Every step is a linear pass, so the cost is proportional to
the input size whatever the content. `_scan_arrow` is the pyarrow-only scanner
(the reference the numpy reader is tested against).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .byte_reader import scan_canonical
from .fields import combine_time, days_from_civil, parse_date, parse_time

OPENER = "<![LOG["
CLOSER = "]LOG]!>"
_HEAD_END = "]LOG]!><time="
_SEPARATORS = {
    2: " date=",
    4: " component=",
    6: " context=",
    8: " type=",
    10: " thread=",
    12: " file=",
}
__all__ = ["days_from_civil", "convert_time", "scan", "Scan", "OPENER", "CLOSER"]


@dataclass
class Scan:
    """What the vectorised pass found.

    Attributes:
        preamble: text before the first opener (fragment or nothing).
        preamble_newlines: newlines in the preamble.
        n_chunks: number of openers.
        chunk_offsets: byte offset of each opener in the buffer.
        chunk_lines: 1-based line of each opener.
        good: indices (into chunks) of records converted here.
        columns: converted columns for `good`, aligned with it.
        irregular: indices of chunks the per-record path must read.
        chunks: the chunk texts (after the opener), for the per-record path.
        newlines: newlines in the whole block (-1 when not counted).
    """

    preamble: str
    preamble_newlines: int
    n_chunks: int
    chunk_offsets: np.ndarray
    chunk_lines: np.ndarray
    good: np.ndarray
    columns: dict[str, pa.Array] = field(default_factory=dict)
    irregular: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    chunks: Any = None  # pa.Array (or _Chunks) of the chunk texts
    newlines: int = -1  # newlines in the block, when the scan counted them


def _as_array(buf: bytes | memoryview) -> pa.LargeStringArray:
    """One large_string element over `buf` (already valid UTF-8), no copy."""
    offsets = pa.py_buffer(np.array([0, len(buf)], dtype=np.int64).tobytes())
    return pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(buf))


def convert_time(tim: pa.Array, date: pa.Array) -> dict[str, np.ndarray]:
    """Convert `time=` / `date=` texts; raises ArrowInvalid/ValueError on any bad one.

    Returns:
        local_us (int64 microseconds since epoch, naive), bias (int64),
        has_bias (bool) and bad (bool: a field out of range) arrays.
    """
    if len(tim) == 0:
        empty = np.empty(0, np.int64)
        return {
            "local_us": empty,
            "bias": empty,
            "has_bias": empty.astype(bool),
            "bad": empty.astype(bool),
        }
    return combine_time(parse_time(tim), parse_date(date))


_TIME_OK = r"^\d{1,2}:\d{2}:\d{2}(\.\d{1,9})?([+-]\d{1,4})?$"
_DATE_OK = r"^\d{1,2}-\d{1,2}-\d{4}$"


def _row_ok(cols: dict[str, pa.Array]) -> np.ndarray:
    """Per-row validity, only computed when the optimistic conversion failed."""
    ok = pc.and_(
        pc.match_substring_regex(cols["time"], _TIME_OK),
        pc.match_substring_regex(cols["date"], _DATE_OK),
    )
    ok = pc.and_(ok, pc.match_substring_regex(cols["type"], r"^\d?$"))
    ok = pc.and_(ok, pc.match_substring_regex(cols["thread"], r"^\d{0,18}$"))
    return ok.to_numpy(zero_copy_only=False)


def _convert(cols: dict[str, pa.Array]) -> dict[str, object]:
    out: dict[str, object] = dict(convert_time(cols["time"], cols["date"]))
    typ = cols["type"]
    out["severity"] = pc.cast(
        pc.if_else(pc.equal(typ, ""), pa.scalar(None, typ.type), typ), pa.int8()
    )
    thr = cols["thread"]
    out["thread"] = pc.cast(
        pc.if_else(pc.equal(thr, ""), pa.scalar(None, thr.type), thr), pa.int64()
    )
    return out


def _keep(mask: np.ndarray, *arrays: pa.Array) -> list[pa.Array]:
    if mask.all():
        return list(arrays)
    m = pa.array(mask)
    return [a.filter(m) for a in arrays]


class _Chunks:
    """Chunk i of a block, zero-copy: element 2i of a string array whose odd
    elements are the openers between chunks."""

    def __init__(self, buf: bytes | memoryview, openers: np.ndarray) -> None:
        n = len(openers)
        offsets = np.empty(2 * n + 1, np.int64)
        offsets[0:-1:2] = openers + len(OPENER)
        offsets[1:-1:2] = np.append(openers[1:], len(buf))
        offsets[-1] = len(buf)
        self.both = pa.LargeStringArray.from_buffers(
            2 * n, pa.py_buffer(offsets), pa.py_buffer(buf)
        )

    def __len__(self) -> int:
        return len(self.both) // 2

    def __getitem__(self, i: int) -> pa.Scalar:
        return self.both[2 * i]

    def take(self, idx: np.ndarray) -> pa.Array:
        return self.both.take(pa.array(2 * idx)).cast(pa.string())


def scan(buf: bytes | memoryview, offset0: int = 0, line0: int = 1) -> Scan:
    """Records of `buf`: numpy on the bytes for canonical ones, pyarrow for the rest.

    Args:
        buf: the whole (stitched) log, or a block of it, as UTF-8 bytes.
        offset0: byte offset of `buf` in the whole log.
        line0: line number of the first byte of `buf`.

    Returns:
        A `Scan`, the same as `_scan_arrow` gives: `cmtrace_bytes` reads only
        chunks the pyarrow reader converts, with the same values, and the
        pyarrow reader's choices do not depend on the other chunks it is given
        when those are canonical.
    """
    found = scan_canonical(buf)
    if found is None:
        return _scan_arrow(buf, offset0, line0)
    openers = found["openers"]
    first = int(openers[0])
    preamble = bytes(buf[:first]).decode("utf-8")
    n = len(openers)
    good, cols = found["good"], found["columns"]
    result = Scan(
        preamble,
        preamble.count("\n"),
        n,
        offset0 + openers,
        line0 + found["lines_before"],
        good,
        columns=cols,
        newlines=found["newlines"],
    )
    if len(good) == n:
        return result
    chunks = _Chunks(buf, openers)
    result.chunks = chunks  # type: ignore[assignment]
    rest = np.ones(n, dtype=bool)
    rest[good] = False
    rest = np.flatnonzero(rest)
    idx, more = _convert_chunks(chunks.take(rest))
    idx = rest[idx]
    irregular = np.ones(len(rest), dtype=bool)
    irregular[np.searchsorted(rest, idx)] = False
    result.irregular = rest[irregular]
    if len(idx) == 0:
        return result
    if len(good) == 0:
        result.good, result.columns = idx, more
        return result
    # Both readers converted some: interleave them in chunk order.
    order = np.argsort(np.concatenate([good, idx]), kind="stable")
    take = pa.array(order)
    merged: dict[str, object] = {}
    for name, col in cols.items():
        other = more[name]
        if isinstance(col, np.ndarray):
            merged[name] = np.concatenate([col, other])[order]
        else:
            both = pa.chunked_array([col, other.cast(col.type)]).combine_chunks()
            merged[name] = both.take(take)
    result.good = np.concatenate([good, idx])[order]
    result.columns = merged
    return result


def _scan_arrow(buf: bytes | memoryview, offset0: int = 0, line0: int = 1) -> Scan:
    """Split `buf` (valid UTF-8, NUL-free) into records without per-record Python.

    Steps, each one pass: cut on the opener; cut each piece once on the closer
    (message | attributes); cut the attributes on quotes (14 pieces when
    canonical); check the six separators and the closing ``>``; convert.

    Args:
        buf: the whole (stitched) log, or a block of it, as UTF-8 bytes.
        offset0: byte offset of `buf` in the whole log.
        line0: line number of the first byte of `buf`.

    Returns:
        A `Scan` with converted columns for canonical records and the indices of
        the chunks the careful path must handle.
    """
    pieces = pc.split_pattern(_as_array(buf), OPENER).values
    preamble = pieces[0].as_py()
    chunks = pieces.slice(1)
    if len(buf) < 2**31 - 1:  # 32-bit offsets: half the offset traffic
        chunks = chunks.cast(pa.string())
    n = len(chunks)
    lengths = pc.binary_length(chunks).to_numpy(zero_copy_only=False)
    len0 = len(preamble.encode("utf-8"))
    offsets = (
        offset0 + len0 + np.concatenate(([0], np.cumsum(lengths + len(OPENER))[:-1]))
    )
    offsets = offsets.astype(np.int64) if n else np.empty(0, np.int64)
    pre_nl = preamble.count("\n")
    result = Scan(
        preamble,
        pre_nl,
        n,
        offsets,
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        chunks=chunks,
    )
    # Line of each opener: newlines before it (one vectorised pass over the bytes).
    newline_at = np.flatnonzero(np.frombuffer(buf, np.uint8) == 10)
    result.newlines = len(newline_at)
    result.chunk_lines = line0 + np.searchsorted(newline_at, offsets - offset0)
    if n == 0:
        return result
    idx, cols = _convert_chunks(chunks)
    result.good = idx
    result.columns = cols
    irregular = np.ones(n, dtype=bool)
    irregular[idx] = False
    result.irregular = np.flatnonzero(irregular)
    return result


def _convert_chunks(chunks: pa.Array) -> tuple[np.ndarray, dict]:
    """(indices of the chunks converted, their columns) by the pyarrow reader."""
    sp = pc.split_pattern(chunks, _HEAD_END + '"', max_splits=1)
    has2 = pc.equal(pc.list_value_length(sp), 2).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(has2)
    if not has2.all():
        (sp,) = _keep(has2, sp)
    msg, attrs = pc.list_element(sp, 0), pc.list_element(sp, 1)
    del sp
    parts = pc.split_pattern(attrs, '"')
    ok = pc.equal(pc.list_value_length(parts), 14).to_numpy(zero_copy_only=False)
    if not ok.all():
        idx = idx[ok]
        msg, parts = _keep(ok, msg, parts)
    del attrs
    tail = pc.list_element(parts, 13)
    good = pc.equal(pc.utf8_trim_whitespace(tail), ">")
    for k, sep in _SEPARATORS.items():
        good = pc.and_(good, pc.equal(pc.list_element(parts, k - 1), sep))
    good = good.to_numpy(zero_copy_only=False)
    cols = {"message": msg}
    for name, k in (
        ("time", 0),
        ("date", 2),
        ("component", 4),
        ("context", 6),
        ("type", 8),
        ("thread", 10),
        ("file", 12),
    ):
        cols[name] = pc.list_element(parts, k)
    del parts, tail
    if not good.all():
        mask = pa.array(good)
        cols = {k: v.filter(mask) for k, v in cols.items()}
        idx = idx[good]
    if len(idx) == 0:
        return idx, {}
    try:
        conv = _convert(cols)
    except (pa.ArrowInvalid, ValueError):
        row_ok = _row_ok(cols)
        mask = pa.array(row_ok)
        cols = {k: v.filter(mask) for k, v in cols.items()}
        idx = idx[row_ok]
        conv = _convert(cols)
    bad: np.ndarray = conv.pop("bad")  # type: ignore[assignment]
    if bad.any():  # out-of-range fields (month 13, hour 25): careful path
        mask = pa.array(~bad)
        cols = {k: v.filter(mask) for k, v in cols.items()}
        idx = idx[~bad]
        conv = _convert(cols)
        conv.pop("bad")
    for name in ("time", "date", "type", "thread"):
        cols.pop(name)
    cols.update(conv)  # type: ignore[arg-type]
    return idx, cols
