"""The careful per-record path for CCM text, and the block loop around the scanner.

`cut_ccm` feeds the log to the vectorised scanner (`cmtrace_fast.scan`) in blocks
of about 8 MB cut at an opener, so memory stays bounded by the block, not the
file. Chunks the scanner hands back (head-truncated fragments, reordered or
missing attributes, broken fields, unterminated records) are read here one at a
time; positions advance incrementally so a pathological chunk costs time
proportional to its length. After 20 consecutive failures the file is abandoned
(STYLE.md 7) and the openers not read are counted as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..base import MAX_CONSECUTIVE_FAILURES, ParseWarning
from .arrow_reader import CLOSER, OPENER, scan
from .clock import parse_ccm_time
from .smstrace import Rows

BLOCK_BYTES = 8 << 20
# Values never hold quotes, line breaks or angle brackets: a block cut short must
# not borrow the next record's text as a value.
_ATTR = re.compile(r'\s*([A-Za-z_][\w.-]*)\s*=\s*"([^"\r\n<>]*)"')
_NON_BLANK = re.compile(r"[^ \t\r\n]")
_OPENER_B = OPENER.encode()


@dataclass
class Fast:
    """Records converted by the scanner, over all blocks.

    Attributes:
        key: global chunk index of each record (orders it among slow records).
        line: line of its opener; offset: byte offset of its opener.
        columns: message, component, context, file (strings), severity, thread
            (arrays), local_us, bias, has_bias (numpy).
    """

    key: np.ndarray
    line: np.ndarray
    offset: np.ndarray
    columns: dict[str, Any] = field(default_factory=dict)


def _attrs(text: str, pos: int) -> tuple[dict[str, str] | None, int]:
    """Attributes of ``<name="v" ...>`` at `pos`: (attrs, end) or (None, stop)."""
    if not text.startswith("<", pos):
        return None, pos
    pos += 1
    found: dict[str, str] = {}
    while True:
        m = _ATTR.match(text, pos)
        if not m:
            break
        found[m.group(1).lower()] = m.group(2)
        pos = m.end()
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    if pos < len(text) and text[pos] == ">":
        return found, pos + 1
    return None, pos


def _record(
    rows: Rows,
    key: tuple[int, int],
    offset: int,
    line: int,
    message: str,
    attrs: dict[str, str],
    warnings: list[ParseWarning],
) -> None:
    value, bias = parse_ccm_time(attrs.get("time"), attrs.get("date"))
    if value is None:
        warnings.append(
            ParseWarning.at(
                line,
                "bad time/date, kept without a timestamp",
                f'time="{attrs.get("time")}" date="{attrs.get("date")}"',
            )
        )
    typ = attrs.get("type", "")
    thr = attrs.get("thread", "")
    rows.add(
        key=key,
        offset=offset,
        line=line,
        fmt="ccm",
        local=value,
        bias=bias,
        component=attrs.get("component"),
        context=attrs.get("context"),
        # ASCII digits only: '²'.isdigit() is True but int('²') raises.
        severity=int(typ) if typ.isascii() and typ.isdigit() and len(typ) < 3 else None,
        thread=int(thr) if thr.isascii() and thr.isdigit() and len(thr) < 19 else None,
        file=attrs.get("file"),
        message=message,
    )


def _tails(
    text: str,
    idx: int,
    base_off: int,
    base_line: int,
    rows: Rows,
    warnings: list[ParseWarning],
    head_cut: bool,
) -> tuple[int, int]:
    """Read ``message]LOG]!><attrs>`` units from the start to the end of `text`.

    Line and byte positions advance incrementally, so a chunk holding many
    closers costs time proportional to its length.

    Returns:
        (records added, fragments skipped).
    """
    added = skipped = failures = 0
    pos = seen = 0
    line, off = base_line, base_off
    while _NON_BLANK.search(text, pos):
        start = pos
        while head_cut and start < len(text) and text[start] in "\r\n":
            start += 1
        line += text.count("\n", seen, start)
        off += len(text[seen:start].encode("utf-8"))
        seen = start
        close = text.find(CLOSER, start)
        if close < 0:
            what = "text outside any record" if head_cut else "unterminated record"
            warnings.append(ParseWarning.at(line, what + " skipped", text[start:]))
            skipped += 1
            break
        attrs, end = _attrs(text, close + len(CLOSER))
        if attrs is None:
            # Cut inside its attributes (a crash or overwrite): drop it; what
            # follows up to the next closer is a fragment of another record.
            warnings.append(
                ParseWarning.at(
                    line,
                    "broken attribute block, record skipped",
                    text[close : end + 10],
                )
            )
            skipped += 1
            failures += 1
            if failures >= MAX_CONSECUTIVE_FAILURES or text.find(CLOSER, end) < 0:
                break
            pos, head_cut = end, True
            continue
        failures = 0
        if head_cut:
            warnings.append(
                ParseWarning.at(
                    line, "head-truncated record (no <![LOG[), kept", text[start:close]
                )
            )
        _record(rows, (idx, added), off, line, text[start:close], attrs, warnings)
        added += 1
        pos = end
        head_cut = True  # anything after a closed record lacks its opener
    return added, skipped


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


def _merge(parts: list[Fast]) -> Fast | None:
    parts = [p for p in parts if len(p.key)]
    if not parts:
        return None
    cols: dict[str, Any] = {}
    for name, first in parts[0].columns.items():
        values = [p.columns[name] for p in parts]
        if isinstance(first, np.ndarray):
            cols[name] = np.concatenate(values)
        else:
            # Chunked, not concatenated: no copy of the message bytes.
            cols[name] = pa.chunked_array(
                [
                    v.cast(pa.string()) if pa.types.is_large_string(v.type) else v
                    for v in values
                ]
            )
    key, line, offset = (
        np.concatenate([getattr(p, a) for p in parts])
        for a in ("key", "line", "offset")
    )
    return Fast(key, line, offset, cols)


def cut_ccm(buf: bytes, warnings: list[ParseWarning]) -> tuple[Rows, Fast | None, int]:
    """Cut CCM records: vectorised for canonical ones, careful for the rest.

    Args:
        buf: the stitched log as NUL-free UTF-8 bytes.
        warnings: receives problems, in input order.

    Returns:
        (records read one at a time, records converted by the scanner, skipped).
    """
    rows = Rows()
    skipped = 0
    parts: list[Fast] = []
    base, failures, prev, line0 = 0, 0, -2, 1
    for offset0, block, is_last in _blocks(buf):
        sc = scan(block, offset0, line0)
        if offset0 == 0 and sc.preamble.strip(" \t\r\n"):
            _, s = _tails(sc.preamble, -1, 0, 1, rows, warnings, head_cut=True)
            if s and warnings[-1].reason == "text outside any record skipped":
                warnings[-1] = ParseWarning.at(
                    warnings[-1].line,
                    "text before the first record skipped (file starts mid-record?)",
                    warnings[-1].excerpt,
                )
            skipped += s
        stop_at = None
        for i in sc.irregular.tolist():
            before = len(rows)
            start = int(sc.chunk_offsets[i])
            added, s = _tails(
                sc.chunks[i].as_py(),
                base + i,
                start + len(OPENER),
                int(sc.chunk_lines[i]),
                rows,
                warnings,
                head_cut=False,
            )
            if (
                s
                and is_last
                and i == sc.n_chunks - 1
                and added == 0
                and (warnings[-1].reason == "unterminated record skipped")
            ):
                warnings[-1] = ParseWarning.at(
                    warnings[-1].line,
                    "unterminated last record skipped",
                    warnings[-1].excerpt,
                )
            skipped += s
            for k in range(before, len(rows)):  # the first record starts at <![LOG[
                if rows.key[k][1] == 0:
                    rows.offset[k], rows.line[k] = start, int(sc.chunk_lines[i])
            g = base + i
            failures = (
                failures + 1 if (added == 0 and g == prev + 1) else int(added == 0)
            )
            prev = g
            if failures >= MAX_CONSECUTIVE_FAILURES:
                stop_at = i
                later = buf.count(_OPENER_B, start + len(OPENER))
                warnings.append(
                    ParseWarning.at(
                        int(sc.chunk_lines[i]),
                        f"stopped after {failures} consecutive failures; "
                        f"{later} later openers not read",
                    )
                )
                skipped += later
                break
        keep = sc.good <= stop_at if stop_at is not None else slice(None)
        cols = {
            k: (
                v.filter(pa.array(keep))
                if isinstance(v, pa.Array) and stop_at is not None
                else v[keep]
                if isinstance(v, np.ndarray)
                else v
            )
            for k, v in sc.columns.items()
        }
        good = sc.good[keep]
        parts.append(
            Fast(base + good, sc.chunk_lines[good], sc.chunk_offsets[good], cols)
        )
        if stop_at is not None:
            break
        base += sc.n_chunks
        if sc.newlines >= 0:
            line0 += sc.newlines
        else:
            line0 += buf.count(b"\n", offset0, offset0 + len(block))
    return rows, _merge(parts), skipped
