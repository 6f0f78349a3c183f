"""CMTrace (CCM) and SMS-trace logs: ccmsetup, smsts, CcmExec, IME logs, site servers.

docs/formats.md §1 and §9.1-9.2. A CCM record is
``<![LOG[message]LOG]!><time="HH:MM:SS.fff+BIAS" date="MM-DD-YYYY" component=""
context="" type="N" thread="N" file="">``; only ``]LOG]!>`` ends a message, so
messages may hold ``]``, ``<``, quotes, CR, LF. Here members are decoded and a
rollover set (`rollover`) stitched into one stream; CCM text goes to the block
loop (`blocks`), which drives the canonical-record reader (`canonical`), the
regular-record reader (`regular`) and the careful reader (`careful`) for
anything irregular (head-truncated fragments, reordered or missing attributes,
broken fields, unterminated records); SMS-trace text goes to `smstrace`; the
assembler (`assemble`) makes one table. Layout and limits are in `grammar`, time
and date texts are read by `timestamps`, device zones by `zones`. At most 1000
warnings are listed; the last one then says how many more there were.

Time (pinned by a golden test): ``ts_utc = ts_local + tz_bias_min`` minutes, the
Windows sign (``+480`` is UTC-8), computed by `grammar.to_utc` and nowhere else.
No bias -> the device zone when the context has one (``from_device_zone``), else
``unknown``. MDT's LiteTouch/ZTI scripts write ``+000`` whatever the zone
(docs/formats.md §9.1): ``untrusted``, converted through the device zone when
known.

Columns:
    record_no (int32): 1-based, in stitched (oldest to newest) order.
    log_file (string): the member of a rollover set where the record starts.
    line_no (int32): line (in log_file) where the record starts.
    format (string): ccm | sms_trace | sms_trace_legacy.
    ts_utc (timestamp[us, UTC]): the instant, when it can be known.
    ts_local (timestamp[us]): the wall-clock time as written, full precision
        to the microsecond (7-digit fractions truncated).
    tz_bias_min (int16): the written bias (Windows sign), or the bias of a named
        zone in an SMS 2.0 stamp; null when none.
    ts_confidence (string): exact | from_device_zone | untrusted | unknown.
    component (string): as written (spaces, dots, case kept).
    context (string): the context attribute.
    severity (int8): CMTrace type 0-3; null when absent (always for SMS trace).
    thread (int64): thread id; null when empty.
    file (string): source file attribute (``ccmsetup.cpp:10632``).
    message (string): the text, line breaks kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .. import textdecode
from ..base import Derivation, ParseContext, Parser, ParseResult, ParseWarning
from . import smstrace
from .assemble import SCHEMA, assemble
from .blocks import cut_ccm
from .grammar import CLOSER_TIME, OPENER
from .records import ColumnRecords, Rows
from .rollover import order_members, rollover_groups, rollover_sets

__all__ = [
    "PARSER",
    "SCHEMA",
    "order_members",
    "parse",
    "parse_set",
    "rollover_groups",
    "rollover_sets",
    "sniff",
]

# A marker ends its line or is followed by the stamp: `$$<COMP><...` / `$$<COMP>`.
_MARKER_LINE = re.compile(rb"\$\$<[^<>\r\n]{1,200}>(?:[ \t]*<|[ \t]*\r?$)", re.M)
MAX_WARNINGS = 1000


def sniff(head: bytes, name: str = "") -> bool:
    """True for CCM or SMS-trace text: opener, record tail, or a ``$$<`` marker.

    Args:
        head: the first 64 KiB of the member.
        name: the member name (unused: content decides).

    Returns:
        Whether `parse` should read it.
    """
    text = textdecode.decode_head(head[:65536]).text
    if OPENER in text or CLOSER_TIME in text:
        return True
    raw = text.encode("utf-8", "replace")
    if raw.count(b"\x00") > len(raw) // 10 or _binary(raw):
        return False
    return _MARKER_LINE.search(raw) is not None


def _binary(raw: bytes) -> bool:
    """Control bytes other than tab/CR/LF/NUL/FF in more than 1% of the sample."""
    sample = raw[:4096]
    ctrl = sum(
        sample.count(bytes([c])) for c in range(1, 32) if c not in (9, 10, 12, 13)
    )
    return ctrl > len(sample) // 100


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """Parse one CMTrace or SMS-trace log.

    Args:
        data: the member's bytes (any BOM / UTF-16 / cp1252).
        context: member name (becomes ``log_file``) and device zone.

    Returns:
        `ParseResult` with `SCHEMA` rows, warnings and the skipped count.
    """
    context = context or ParseContext()
    return parse_set([(context.member_name, data)], context)


def parse_set(
    files: Sequence[tuple[str, bytes]], context: ParseContext | None = None
) -> ParseResult:
    """Parse a rollover set as one stream (history, then ``.lo_``, then ``.log``).

    The members are decoded one by one and concatenated before records are
    cut, so a record split across the boundary comes out whole.

    Args:
        files: (member name, bytes) pairs in any order; ordered by
            `rollover.order_members`.
        context: device zone (member_name is ignored; each file names itself).

    Returns:
        One `ParseResult`; ``log_file`` says where each record started.
    """
    context = context or ParseContext()
    by_name = dict(files)
    names = order_members(by_name) if len(files) > 1 else [f[0] for f in files]
    warnings: list[ParseWarning] = []
    bodies = [_utf8_body(by_name[name], name, warnings) for name in names]
    buf = bodies[0] if len(bodies) == 1 else b"".join(bodies)
    starts = np.cumsum([0] + [len(b) for b in bodies])[:-1]
    nl_before = np.cumsum([0] + [b.count(b"\n") for b in bodies[:-1]])
    converted: ColumnRecords | None = None
    if OPENER.encode() in buf or CLOSER_TIME.encode() in buf or b"$$<" not in buf:
        rows, converted, skipped = cut_ccm(buf, warnings)
    else:
        rows = Rows()
        skipped = smstrace.parse_text(buf.decode("utf-8"), rows, warnings)
        # SMS offsets are characters; convert file starts to characters.
        starts = np.cumsum([0] + [len(b.decode("utf-8")) for b in bodies])[:-1]
    table = assemble(rows, converted, names, starts, nl_before, context, warnings)
    if len(table) == 0 and not skipped and buf.strip(b" \t\r\n"):
        warnings.append(ParseWarning.at(1, "no CMTrace or SMS-trace records", buf[:80]))
    if len(warnings) > MAX_WARNINGS:  # keep the list bounded; say how many more
        more = len(warnings) - MAX_WARNINGS + 1
        warnings = warnings[: MAX_WARNINGS - 1]
        warnings.append(ParseWarning.at(None, f"{more} more warnings not listed"))
    return ParseResult(table, warnings, skipped)


def _utf8_body(data: bytes, name: str, warnings: list[ParseWarning]) -> bytes:
    """The member as NUL-free UTF-8 bytes, decoded per docs/formats.md §1.6."""
    encoding, bom = textdecode.sniff_encoding(data)
    if encoding == "utf-8" and data[bom:].isascii():
        body = data[bom:]  # ASCII is UTF-8: skip building a str
    else:
        decoded = textdecode.decode(data)
        if (lost := textdecode.loss_warning(decoded)) is not None:
            warnings.append(ParseWarning.at(None, f"{lost} in {name!r}"))
        if decoded.encoding == "utf-8":
            body = data[3:] if decoded.had_bom else data  # validated by decode()
        else:
            body = decoded.text.encode("utf-8")
    if b"\x00" in body:  # pre-allocated files: NUL runs are padding
        body = body.replace(b"\x00", b"")
    return body


PARSER = Parser(
    name="cmtrace",
    description="CMTrace/CCM and SMS-trace logs (ConfigMgr client/server, smsts, IME)",
    table="cm_log_entries",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
    derives=(
        Derivation("ccmsetup*", "ccmsetup_runs"),
        Derivation("smsts*", "task_sequence"),
        Derivation("IntuneManagementExtension*", "ime_apps"),
        Derivation("AppWorkload*", "ime_apps"),
    ),
    uses_device_zone=True,
    member_sets=rollover_sets,
    parse_set=parse_set,
)
