"""CMTrace (CCM) and SMS-trace logs: ccmsetup, smsts, CcmExec, IME logs, site servers.

FORMATS.md 1 and corpus/FINDINGS.md 1-2. A CCM record is
``<![LOG[message]LOG]!><time="HH:MM:SS.fff+BIAS" date="MM-DD-YYYY" component=""
context="" type="N" thread="N" file="">``; only ``]LOG]!>`` ends a message, so
messages may hold ``]``, ``<``, quotes, CR, LF. Canonical records are cut by the
vectorised scanner (`cmtrace_fast`); anything irregular (head-truncated
fragments, reordered or missing attributes, broken fields, unterminated records)
goes through the careful per-record path (`cmtrace_slow`). SMS-trace files go
to `smstrace`. Rollover sets are stitched by `parse_set` (`rollover`). At most
1000 warnings are listed; the last one then says how many more there were.

Time (pinned by a golden test): ``ts_utc = ts_local + tz_bias_min`` minutes, the
Windows sign (``+480`` is UTC-8). No bias -> the device zone when the context has
one (``from_device_zone``), else ``unknown``. MDT's LiteTouch/ZTI scripts write
``+000`` whatever the zone (FINDINGS.md 1): ``untrusted``, converted through the
device zone when known.

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
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema, textdecode
from ..base import Derivation, ParseContext, Parser, ParseResult, ParseWarning
from . import smstrace
from .arrow_reader import OPENER
from .careful import Fast, cut_ccm
from .clock import local_to_utc
from .rollover import order_members, rollover_groups, rollover_sets  # noqa: F401
from .smstrace import Rows

SCHEMA = schema.CM_LOG_ENTRIES

_TAIL = ']LOG]!><time="'
# A marker ends its line or is followed by the stamp: `$$<COMP><...` / `$$<COMP>`.
_MARKER_LINE = re.compile(rb"\$\$<[^<>\r\n]{1,200}>(?:[ \t]*<|[ \t]*\r?$)", re.M)
# MDT's ZTIUtility writes component = file = script name and an empty thread.
_MDT_FILE = r"^(?i:zti\w*|lti\w*|bdd\w*|litetouch|wizard)$"
MAX_WARNINGS = 1000
_CONF = pa.array(["exact", "from_device_zone", "untrusted", "unknown"])


def sniff(head: bytes, name: str = "") -> bool:
    """True for CCM or SMS-trace text: opener, record tail, or a ``$$<`` marker.

    Args:
        head: the first 64 KiB of the member.
        name: the member name (unused: content decides).

    Returns:
        Whether `parse` should read it.
    """
    text = textdecode.decode(head[:65536]).text
    if OPENER in text or _TAIL in text:
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
    bodies: list[bytes] = []
    for name in names:
        bodies.append(_utf8_body(by_name[name], name, warnings))
    buf = bodies[0] if len(bodies) == 1 else b"".join(bodies)
    starts = np.cumsum([0] + [len(b) for b in bodies])[:-1]
    nl_before = np.cumsum([0] + [b.count(b"\n") for b in bodies[:-1]])
    if OPENER.encode() in buf or _TAIL.encode() in buf or b"$$<" not in buf:
        rows, fast, skipped = cut_ccm(buf, warnings)
    else:
        text = buf.decode("utf-8")
        rows, fast, skipped = Rows(), None, 0
        skipped = smstrace.parse_text(text, rows, warnings)
        # SMS offsets are characters; convert file starts to characters.
        starts = np.cumsum([0] + [len(b.decode("utf-8")) for b in bodies])[:-1]
    table = _assemble(rows, fast, names, starts, nl_before, context, warnings)
    if len(table) == 0 and not skipped and buf.strip(b" \t\r\n"):
        warnings.append(ParseWarning.at(1, "no CMTrace or SMS-trace records", buf[:80]))
    if len(warnings) > MAX_WARNINGS:  # keep the list bounded; say how many more
        more = len(warnings) - MAX_WARNINGS + 1
        warnings = warnings[: MAX_WARNINGS - 1]
        warnings.append(ParseWarning.at(None, f"{more} more warnings not listed"))
    return ParseResult(table, warnings, skipped)


def _utf8_body(data: bytes, name: str, warnings: list[ParseWarning]) -> bytes:
    """The member as NUL-free UTF-8 bytes, decoded per FORMATS.md 1.6."""
    encoding, bom = textdecode.sniff_encoding(data)
    if encoding == "utf-8" and data[bom:].isascii():
        body = data[bom:]  # ASCII is UTF-8: skip building a str
    else:
        decoded = textdecode.decode(data)
        if decoded.lossy:
            warnings.append(ParseWarning.at(None, f"bytes replaced in {name!r}"))
        if decoded.encoding == "utf-8":
            body = data[3:] if decoded.had_bom else data  # validated by decode()
        else:
            body = decoded.text.encode("utf-8")
    if b"\x00" in body:  # pre-allocated files: NUL runs are padding
        body = body.replace(b"\x00", b"")
    return body


# -- assembly ----------------------------------------------------------------------


def _decode_codes(codes: np.ndarray, labels: list[str | None]) -> pa.Array:
    dictionary = pa.array(labels, pa.string())
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), dictionary
    ).dictionary_decode()


def _assemble(
    rows: Rows,
    fast: Fast | None,
    names: list[str],
    starts: np.ndarray,
    nl_before: np.ndarray,
    context: ParseContext,
    warnings: list[ParseWarning],
) -> pa.Table:
    n_fast = len(fast.key) if fast is not None else 0
    n_slow = len(rows)
    n = n_fast + n_slow
    if n == 0:
        return schema.empty(SCHEMA)
    slow_local = np.array([v if v is not None else 0 for v in rows.local], np.int64)
    slow_ok = np.array([v is not None for v in rows.local], bool)
    slow_bias = np.array([v if v is not None else 0 for v in rows.bias], np.int64)
    slow_has = np.array([v is not None for v in rows.bias], bool)
    strings = {
        c: pa.array(getattr(rows, c), pa.string())
        for c in ("component", "context", "file", "message")
    }
    fmt_slow = np.array(
        [{"ccm": 0, "sms_trace": 1}.get(f, 2) for f in rows.fmt], np.int8
    )
    if n_fast:
        assert fast is not None
        c: dict = fast.columns
        local = np.concatenate([c["local_us"], slow_local])
        ok = np.concatenate([np.ones(n_fast, bool), slow_ok])
        bias = np.concatenate([c["bias"], slow_bias])
        has = np.concatenate([c["has_bias"], slow_has])
        line = np.concatenate([fast.line, np.array(rows.line, np.int64)])
        off = np.concatenate([fast.offset, np.array(rows.offset, np.int64)])
        fmt = np.concatenate([np.zeros(n_fast, np.int8), fmt_slow])
        cols = {k: pa.chunked_array(c[k].chunks + [strings[k]]) for k in strings}
        sev = pa.chunked_array(
            c["severity"].chunks + [pa.array(rows.severity, pa.int8())]
        )
        thr = pa.chunked_array(c["thread"].chunks + [pa.array(rows.thread, pa.int64())])
        if n_slow:
            k0 = np.concatenate([fast.key, np.array([k[0] for k in rows.key])])
            k1 = np.concatenate(
                [np.zeros(n_fast, np.int64), np.array([k[1] for k in rows.key])]
            )
            order = np.lexsort((k1, k0))
            local, ok, bias, has, line, off, fmt = (
                a[order] for a in (local, ok, bias, has, line, off, fmt)
            )
            idx = pa.array(order)
            cols = {k: v.take(idx) for k, v in cols.items()}
            sev, thr = sev.take(idx), thr.take(idx)
    else:
        local, ok, bias, has = slow_local, slow_ok, slow_bias, slow_has
        line = np.array(rows.line, np.int64)
        off = np.array(rows.offset, np.int64)
        fmt = fmt_slow
        cols = strings
        sev = pa.array(rows.severity, pa.int8())
        thr = pa.array(rows.thread, pa.int64())
    file_idx = np.searchsorted(starts, off, side="right") - 1
    line_in_file = line - nl_before[file_idx]
    # MDT writes +000 with an empty thread whatever the zone (FINDINGS.md 1).
    thread_null = pc.is_null(thr).to_numpy(zero_copy_only=False)
    file_col = cols["file"]
    mdt = pc.fill_null(pc.equal(file_col, "LiteTouch"), False).to_numpy(
        zero_copy_only=False
    )
    if thread_null.any():  # the script-name test only matters for empty threads
        where = np.flatnonzero(thread_null)
        scripts = pc.match_substring_regex(file_col.take(pa.array(where)), _MDT_FILE)
        mdt[where] |= pc.fill_null(scripts, False).to_numpy(zero_copy_only=False)
    untrusted = ok & (mdt | (thread_null & has & (bias == 0) & (fmt == 0)))
    exact = ok & has & ~untrusted
    utc = local + bias * 60_000_000
    utc_ok = exact.copy()
    conf = np.full(n, 3, np.int8)
    conf[exact] = 0
    conf[untrusted] = 2
    need_zone = ok & ~exact
    if context.device_zone and need_zone.any():
        try:
            zoned, amb, gap = local_to_utc(local[need_zone], context.device_zone)
        except Exception:  # unknown or malformed zone name: say so, keep going
            warnings.append(
                ParseWarning.at(None, f"unknown device zone {context.device_zone!r}")
            )
        else:
            utc[need_zone] = zoned
            utc_ok |= need_zone
            conf[need_zone & ~untrusted] = 1
            if amb or gap:
                warnings.append(
                    ParseWarning.at(
                        None,
                        f"{amb} ambiguous (first occurrence used) and {gap} "
                        "non-existent (pre-transition offset used) local times in "
                        f"{context.device_zone}",
                    )
                )
    log_names = [nm or None for nm in names]
    bias_ok = has & (np.abs(bias) <= 1440)
    arrays = [
        pa.array(np.arange(1, n + 1, dtype=np.int32)),
        _decode_codes(file_idx, log_names),
        pa.array(line_in_file.astype(np.int32)),
        _decode_codes(fmt, ["ccm", "sms_trace", "sms_trace_legacy"]),
        pa.array(utc, schema.UTC_TS, mask=~utc_ok),
        pa.array(local, schema.LOCAL_TS, mask=~ok),
        pa.array(bias.astype(np.int16), pa.int16(), mask=~bias_ok),
        pc.take(_CONF, pa.array(conf)),
        cols["component"].cast(pa.string()),
        cols["context"].cast(pa.string()),
        sev,
        thr,
        cols["file"].cast(pa.string()),
        cols["message"].cast(pa.string()),
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


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
    ),
    uses_device_zone=True,
    member_sets=rollover_sets,
    parse_set=parse_set,
)
