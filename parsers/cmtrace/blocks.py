"""The block loop: a CCM log cut into blocks, the readers driven over each block.

`cut_ccm` feeds the log to `scan` in blocks of about 8 MB cut at an opener, so
memory stays bounded by the block, not the file. `scan` lets the
canonical-record reader (`canonical`) take what it can and the regular-record
reader (`regular`) the chunks it leaves; the chunks neither converts
(head-truncated fragments, reordered or missing attributes, broken fields,
unterminated records) go to the careful reader (`careful`). After
`base.MAX_CONSECUTIVE_FAILURES` consecutive failures the file is abandoned and
the openers not read are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..base import MAX_CONSECUTIVE_FAILURES, ParseWarning
from .canonical import scan_canonical
from .careful import read_tails
from .grammar import OPENER
from .records import ColumnRecords, Rows, Scan
from .regular import ChunkTexts, read_block, read_chunks

BLOCK_BYTES = 8 << 20
_OPENER_B = OPENER.encode()


def scan(buf: bytes | memoryview, offset0: int = 0, line0: int = 1) -> Scan:
    """Records of `buf`: the canonical-record reader first, the regular one after.

    Args:
        buf: the whole (stitched) log, or a block of it, as UTF-8 bytes.
        offset0: byte offset of `buf` in the whole log.
        line0: line number of the first byte of `buf`.

    Returns:
        A `Scan`, the same as `regular.read_block` gives: the canonical reader
        reads only chunks the regular reader converts, with the same values, and
        the regular reader's choices do not depend on the other chunks it is
        given when those are canonical.
    """
    found = scan_canonical(buf)
    if found is None:
        return read_block(buf, offset0, line0)
    openers = found["openers"]
    preamble = bytes(buf[: int(openers[0])]).decode("utf-8")
    n = len(openers)
    good, cols = found["good"], found["columns"]
    result = Scan(
        preamble,
        n,
        offset0 + openers,
        line0 + found["lines_before"],
        good,
        columns=cols,
        newlines=found["newlines"],
    )
    if len(good) == n:
        return result
    chunks = ChunkTexts(buf, openers)
    result.chunks = chunks
    rest = np.ones(n, dtype=bool)
    rest[good] = False
    rest = np.flatnonzero(rest)
    idx, more = read_chunks(chunks.take(rest))
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


def _blocks(buf: bytes) -> Iterator[tuple[int, memoryview, bool]]:
    """(offset, block, is_last) pieces of `buf`, each cut right before an opener."""
    view = memoryview(buf)
    start = 0
    while True:
        cut = (
            buf.find(_OPENER_B, start + BLOCK_BYTES)
            if start + BLOCK_BYTES < len(buf)
            else -1
        )
        if cut < 0:
            yield start, view[start:], True
            return
        yield start, view[start:cut], False
        start = cut


def _read_preamble(sc: Scan, rows: Rows, warnings: list[ParseWarning]) -> int:
    """Read the text before the first opener of the log; the fragments skipped."""
    _, skipped = read_tails(sc.preamble, -1, 0, 1, rows, warnings, head_cut=True)
    if skipped and warnings[-1].reason == "text outside any record skipped":
        warnings[-1] = ParseWarning.at(
            warnings[-1].line,
            "text before the first record skipped (file starts mid-record?)",
            warnings[-1].excerpt,
        )
    return skipped


@dataclass
class _Run:
    """Consecutive failures of the careful reader, across blocks."""

    failures: int = 0
    prev: int = -2  # global index of the last chunk read

    def count(self, chunk: int, added: int) -> int:
        """Record the result of reading `chunk`; the failures in a row so far."""
        if added:
            self.failures = 0
        elif chunk == self.prev + 1:
            self.failures += 1
        else:
            self.failures = 1
        self.prev = chunk
        return self.failures


def _read_irregular(
    buf: bytes,
    sc: Scan,
    base: int,
    is_last: bool,
    run: _Run,
    rows: Rows,
    warnings: list[ParseWarning],
) -> tuple[int, int | None]:
    """Read a block's irregular chunks with the careful reader.

    Returns:
        (fragments skipped, the chunk the file was abandoned at or None).
    """
    skipped = 0
    for i in sc.irregular.tolist():
        before = len(rows)
        start, line = int(sc.chunk_offsets[i]), int(sc.chunk_lines[i])
        text = sc.chunks[i].as_py()
        off = start + len(OPENER)
        added, s = read_tails(text, base + i, off, line, rows, warnings, head_cut=False)
        if s and is_last and i == sc.n_chunks - 1 and added == 0:
            if warnings[-1].reason == "unterminated record skipped":
                warnings[-1] = ParseWarning.at(
                    warnings[-1].line,
                    "unterminated last record skipped",
                    warnings[-1].excerpt,
                )
        skipped += s
        for k in range(before, len(rows)):  # the first record starts at <![LOG[
            if rows.key[k][1] == 0:
                rows.offset[k], rows.line[k] = start, line
        failures = run.count(base + i, added)
        if failures >= MAX_CONSECUTIVE_FAILURES:
            later = buf.count(_OPENER_B, off)
            warnings.append(
                ParseWarning.at(
                    line,
                    f"stopped after {failures} consecutive failures; "
                    f"{later} later openers not read",
                )
            )
            return skipped + later, i
    return skipped, None


def _converted(sc: Scan, base: int, stop_at: int | None) -> ColumnRecords:
    """The block's converted records, up to the chunk the file was abandoned at."""
    if stop_at is None:
        good, cols = sc.good, sc.columns
    else:
        keep = sc.good <= stop_at
        good = sc.good[keep]
        mask = pa.array(keep)
        cols = {
            k: v[keep] if isinstance(v, np.ndarray) else v.filter(mask)
            for k, v in sc.columns.items()
        }
    return ColumnRecords(
        base + good, sc.chunk_lines[good], sc.chunk_offsets[good], cols
    )


def cut_ccm(
    buf: bytes, warnings: list[ParseWarning]
) -> tuple[Rows, ColumnRecords | None, int]:
    """Cut CCM records: the column readers for regular ones, careful for the rest.

    Args:
        buf: the stitched log as NUL-free UTF-8 bytes.
        warnings: receives problems, in input order.

    Returns:
        (records read one at a time, records converted by the column readers,
        fragments skipped).
    """
    rows = Rows()
    skipped = 0
    parts: list[ColumnRecords] = []
    run = _Run()
    base, line0 = 0, 1
    for offset0, block, is_last in _blocks(buf):
        sc = scan(block, offset0, line0)
        if offset0 == 0 and sc.preamble.strip(" \t\r\n"):
            skipped += _read_preamble(sc, rows, warnings)
        s, stop_at = _read_irregular(buf, sc, base, is_last, run, rows, warnings)
        skipped += s
        parts.append(_converted(sc, base, stop_at))
        if stop_at is not None:
            break
        base += sc.n_chunks
        if sc.newlines >= 0:
            line0 += sc.newlines
        else:
            line0 += buf.count(b"\n", offset0, offset0 + len(block))
    return rows, ColumnRecords.merge(parts), skipped
