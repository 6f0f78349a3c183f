"""The regular-record reader: CCM records in the canonical attribute order.

A regular record has the seven attributes of `grammar.ATTRIBUTES` in order with
the canonical separators, but may differ from the byte-exact layout the
canonical-record reader (`canonical`) takes: '!' in a value, blanks after the
closing ``>``, time and date layouts other than the two fixed ones. They are
read column-wise with pyarrow compute: each chunk (text after an opener) is cut
once on ``]LOG]!><time="`` (message | attributes) and the attribute part on
``"`` into exactly 14 pieces; the six separators and the closing ``>`` are
checked, then time and date are read by `timestamps`. Chunks that are not
regular, or whose fields do not convert, are handed back by index to the careful
reader. Every step is a linear pass, so the cost is proportional to the input
size whatever the content.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .grammar import (
    ATTRIBUTES,
    BIAS_DIGITS,
    CLOSER_TIME,
    FRACTION_DIGITS,
    OPENER,
    SEPARATORS,
    THREAD_DIGITS,
)
from .records import Scan
from .timestamps import convert_time

# Piece 2k + 1 of the attributes cut on quotes is separator k, without its quotes.
_SEPARATOR_PIECES = {2 * k + 1: sep.strip('"') for k, sep in enumerate(SEPARATORS)}
_TIME_OK = (
    rf"^\d{{1,2}}:\d{{2}}:\d{{2}}(\.\d{{1,{FRACTION_DIGITS}}})?"
    rf"([+-]\d{{1,{BIAS_DIGITS}}})?$"
)
_DATE_OK = r"^\d{1,2}-\d{1,2}-\d{4}$"


def _as_array(buf: bytes | memoryview) -> pa.LargeStringArray:
    """One large_string element over `buf` (already valid UTF-8), no copy."""
    offsets = pa.py_buffer(np.array([0, len(buf)], dtype=np.int64).tobytes())
    return pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(buf))


def _row_ok(cols: dict[str, pa.Array]) -> np.ndarray:
    """Per-row validity, only computed when the optimistic conversion failed."""
    ok = pc.and_(
        pc.match_substring_regex(cols["time"], _TIME_OK),
        pc.match_substring_regex(cols["date"], _DATE_OK),
    )
    ok = pc.and_(ok, pc.match_substring_regex(cols["type"], r"^\d?$"))
    ok = pc.and_(
        ok, pc.match_substring_regex(cols["thread"], rf"^\d{{0,{THREAD_DIGITS}}}$")
    )
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


class ChunkTexts:
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
        """The texts of chunks `idx`, as one string array."""
        return self.both.take(pa.array(2 * idx)).cast(pa.string())


def read_block(buf: bytes | memoryview, offset0: int = 0, line0: int = 1) -> Scan:
    """Split `buf` (valid UTF-8, NUL-free) into records without per-record Python.

    Steps, each one pass: cut on the opener; read every chunk (`read_chunks`);
    line numbers of the openers from one pass over the bytes.

    Args:
        buf: the whole (stitched) log, or a block of it, as UTF-8 bytes.
        offset0: byte offset of `buf` in the whole log.
        line0: line number of the first byte of `buf`.

    Returns:
        A `Scan` with converted columns for regular records and the indices of
        the chunks the careful reader must handle.
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
    result = Scan(
        preamble,
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
    idx, cols = read_chunks(chunks)
    result.good = idx
    result.columns = cols
    irregular = np.ones(n, dtype=bool)
    irregular[idx] = False
    result.irregular = np.flatnonzero(irregular)
    return result


def _split_regular(chunks: pa.Array) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """(indices, attribute texts) of the chunks in the regular layout."""
    sp = pc.split_pattern(chunks, CLOSER_TIME, max_splits=1)
    has2 = pc.equal(pc.list_value_length(sp), 2).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(has2)
    if not has2.all():
        (sp,) = _keep(has2, sp)
    msg, attrs = pc.list_element(sp, 0), pc.list_element(sp, 1)
    del sp
    parts = pc.split_pattern(attrs, '"')
    n_pieces = 2 * len(ATTRIBUTES)  # value, separator, ..., value, tail
    ok = pc.equal(pc.list_value_length(parts), n_pieces).to_numpy(zero_copy_only=False)
    if not ok.all():
        idx = idx[ok]
        msg, parts = _keep(ok, msg, parts)
    del attrs
    tail = pc.list_element(parts, n_pieces - 1)
    good = pc.equal(pc.utf8_trim_whitespace(tail), ">")
    for k, sep in _SEPARATOR_PIECES.items():
        good = pc.and_(good, pc.equal(pc.list_element(parts, k), sep))
    good = good.to_numpy(zero_copy_only=False)
    cols = {"message": msg}
    for k, name in enumerate(ATTRIBUTES):
        cols[name] = pc.list_element(parts, 2 * k)
    del parts, tail
    if not good.all():
        mask = pa.array(good)
        cols = {k: v.filter(mask) for k, v in cols.items()}
        idx = idx[good]
    return idx, cols


def read_chunks(chunks: pa.Array) -> tuple[np.ndarray, dict]:
    """Read the regular records among `chunks` (texts after their openers).

    Args:
        chunks: string array of chunk texts.

    Returns:
        (indices of the chunks converted, their columns as in `Scan.columns`).
    """
    idx, cols = _split_regular(chunks)
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
    if bad.any():  # out-of-range fields (month 13, hour 25): careful reader
        mask = pa.array(~bad)
        cols = {k: v.filter(mask) for k, v in cols.items()}
        idx = idx[~bad]
        conv = _convert(cols)
        conv.pop("bad")
    for name in ("time", "date", "type", "thread"):
        cols.pop(name)
    cols.update(conv)  # type: ignore[arg-type]
    return idx, cols
