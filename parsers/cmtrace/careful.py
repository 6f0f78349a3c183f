"""The careful reader: CCM text the column readers leave, read one record at a time.

It takes what the canonical and regular layouts do not: head-truncated fragments
(a tail with no opener), attributes in any order or missing, any whitespace
between them, broken fields (kept without a timestamp). Only ``]LOG]!>`` ends a
message (docs/formats.md §1.4); `parse_ccm_time` reads a record's time and date
with a regex. Positions advance incrementally so a pathological chunk costs time
proportional to its length.
"""

from __future__ import annotations

import re

from ..base import MAX_CONSECUTIVE_FAILURES, ParseWarning
from .grammar import (
    BIAS_DIGITS,
    CLOSER,
    FRACTION_DIGITS,
    THREAD_DIGITS,
    TYPE_DIGITS,
    bias_in_range,
    clock_in_range,
)
from .records import Rows
from .timestamps import frac_to_us, local_us

# Values never hold quotes, line breaks or angle brackets: a block cut short must
# not borrow the next record's text as a value.
_ATTR = re.compile(r'\s*([A-Za-z_][\w.-]*)\s*=\s*"([^"\r\n<>]*)"')
_NON_BLANK = re.compile(r"[^ \t\r\n]")
TIME_RE = re.compile(
    rf"\s*(\d{{1,2}}):(\d{{2}}):(\d{{2}})(?:\.(\d{{1,{FRACTION_DIGITS}}}))?"
    rf"\s*([+-]\d{{1,{BIAS_DIGITS}}})?\s*"
)
DATE_RE = re.compile(r"\s*(\d{1,2})-(\d{1,2})-(\d{4})\s*", re.ASCII)


def parse_ccm_time(time: str | None, date: str | None) -> tuple[int | None, int | None]:
    """CCM `time=` and `date=` texts -> (local microseconds, bias) or Nones.

    Args:
        time: the ``time`` attribute (``13:28:46.510+480``), None when absent.
        date: the ``date`` attribute (``01-13-2023``), None when absent.

    Returns:
        (naive local microseconds since 1970, bias in minutes): both None when
        the texts do not read; the time None when they read but name no instant
        (February 30); the bias None when none is written or it is out of range
        (`grammar.MAX_BIAS_MIN`).
    """
    if time is None or date is None:
        return None, None
    tm = TIME_RE.fullmatch(time)
    dm = DATE_RE.fullmatch(date)
    if not tm or not dm:
        return None, None
    h, mi, s, frac, bias = tm.groups()
    mo, d, y = (int(x) for x in dm.groups())
    if not clock_in_range(int(h), int(mi), int(s)):
        return None, None
    value = local_us(y, mo, d, int(h), int(mi), int(s), frac_to_us(frac))
    bias_min = int(bias) if bias is not None else None
    if bias_min is not None and not bias_in_range(bias_min):
        return value, None
    return value, bias_min


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


def _number(text: str, digits: int) -> int | None:
    """The value of up to `digits` ASCII digits, None for anything else."""
    # ASCII digits only: '²'.isdigit() is True but int('²') raises.
    ok = text.isascii() and text.isdigit() and len(text) <= digits
    return int(text) if ok else None


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
    rows.add(
        key=key,
        offset=offset,
        line=line,
        fmt="ccm",
        local=value,
        bias=bias,
        component=attrs.get("component"),
        context=attrs.get("context"),
        severity=_number(attrs.get("type", ""), TYPE_DIGITS),
        thread=_number(attrs.get("thread", ""), THREAD_DIGITS),
        file=attrs.get("file"),
        message=message,
    )


def read_tails(
    text: str,
    idx: int,
    base_off: int,
    base_line: int,
    rows: Rows,
    warnings: list[ParseWarning],
    head_cut: bool,
) -> tuple[int, int]:
    """Read ``message]LOG]!><attrs>`` units from the start to the end of `text`.

    Args:
        text: a chunk (after its opener) or the text before the first opener.
        idx: the chunk's global index (the first part of each record's key).
        base_off: byte offset of `text` in the log.
        base_line: line of the first character of `text`.
        rows: receives the records.
        warnings: receives problems, in input order.
        head_cut: `text` does not start with a message (no opener before it).

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
