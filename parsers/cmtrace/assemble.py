"""The assembler: records of every reader, in log order, as one `SCHEMA` table.

Records converted by the column readers and records read one at a time are put
in log order by their keys; each gets its member and line in that member, and
its instant: ``ts_utc = grammar.to_utc(ts_local, tz_bias_min)`` when the bias is
trusted (``exact``), else through the device zone when the context has one
(``from_device_zone``; ``untrusted`` for MDT's ``+000``, docs/formats.md §9.1),
else none (``unknown``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..base import ParseContext, ParseWarning
from .grammar import bias_in_range, to_utc
from .records import ColumnRecords, Rows
from .zones import local_to_utc

SCHEMA = schema.CM_LOG_ENTRIES
FORMATS = ("ccm", "sms_trace", "sms_trace_legacy")
_FORMAT_CODE = {name: code for code, name in enumerate(FORMATS)}
CONFIDENCES = ("exact", "from_device_zone", "untrusted", "unknown")
_EXACT, _FROM_ZONE, _UNTRUSTED, _UNKNOWN = range(len(CONFIDENCES))


@cache
def _confidences() -> pa.Array:
    # Built on first use: pa.array() imports pandas (when installed) to check
    # its argument, and importing the CLI must not pay that (docs/scale.md).
    return pa.array(CONFIDENCES)


# MDT's ZTIUtility writes component = file = script name and an empty thread.
_MDT_FILE = r"^(?i:zti\w*|lti\w*|bdd\w*|litetouch|wizard)$"
_STRINGS = ("component", "context", "file", "message")


@dataclass
class _Columns:
    """Every record's values: numpy for the arithmetic, arrow for the texts.

    Attributes:
        local: naive local microseconds (0 where not `ok`).
        ok: the local time reads.
        bias: the written bias in minutes (0 where not `has_bias`).
        has_bias: a bias is written.
        line: line of the record in the stitched log.
        offset: where the record starts in the stitched log.
        fmt: code of its format in `FORMATS`.
        arrow: component, context, file, message, severity, thread.
    """

    local: np.ndarray
    ok: np.ndarray
    bias: np.ndarray
    has_bias: np.ndarray
    line: np.ndarray
    offset: np.ndarray
    fmt: np.ndarray
    arrow: dict[str, Any]

    def numeric(self) -> dict[str, np.ndarray]:
        """The numpy columns by name."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "arrow"
        }


def _from_rows(rows: Rows) -> _Columns:
    """The records read one at a time, as columns."""
    arrow: dict[str, Any] = {
        c: pa.array(getattr(rows, c), pa.string()) for c in _STRINGS
    }
    arrow["severity"] = pa.array(rows.severity, pa.int8())
    arrow["thread"] = pa.array(rows.thread, pa.int64())
    return _Columns(
        local=np.array([v if v is not None else 0 for v in rows.local], np.int64),
        ok=np.array([v is not None for v in rows.local], bool),
        bias=np.array([v if v is not None else 0 for v in rows.bias], np.int64),
        has_bias=np.array([v is not None for v in rows.bias], bool),
        line=np.array(rows.line, np.int64),
        offset=np.array(rows.offset, np.int64),
        fmt=np.array([_FORMAT_CODE[f] for f in rows.fmt], np.int8),
        arrow=arrow,
    )


def _with_converted(converted: ColumnRecords, rows: Rows) -> _Columns:
    """The column readers' records, then the rows, in log order."""
    singles = _from_rows(rows)
    c = converted.columns
    n = len(converted.key)
    columns = _Columns(
        local=c["local_us"],
        ok=np.ones(n, bool),
        bias=c["bias"],
        has_bias=c["has_bias"],
        line=converted.line,
        offset=converted.offset,
        fmt=np.zeros(n, np.int8),
        arrow=c,
    )
    both = {
        k: np.concatenate([v, getattr(singles, k)])
        for k, v in columns.numeric().items()
    }
    arrow = {k: pa.chunked_array(c[k].chunks + [v]) for k, v in singles.arrow.items()}
    if len(rows):
        k0 = np.concatenate([converted.key, np.array([k[0] for k in rows.key])])
        k1 = np.concatenate([np.zeros(n, np.int64), np.array([k[1] for k in rows.key])])
        order = np.lexsort((k1, k0))
        both = {k: v[order] for k, v in both.items()}
        idx = pa.array(order)
        arrow = {k: v.take(idx) for k, v in arrow.items()}
    return _Columns(**both, arrow=arrow)


def _untrusted(c: _Columns) -> np.ndarray:
    """Biases not to trust: MDT scripts' ``+000`` with an empty thread (§9.1)."""
    thread_null = pc.is_null(c.arrow["thread"]).to_numpy(zero_copy_only=False)
    file_col = c.arrow["file"]
    mdt = pc.fill_null(pc.equal(file_col, "LiteTouch"), False).to_numpy(
        zero_copy_only=False
    )
    if thread_null.any():  # the script-name test only matters for empty threads
        where = np.flatnonzero(thread_null)
        scripts = pc.match_substring_regex(file_col.take(pa.array(where)), _MDT_FILE)
        mdt[where] |= pc.fill_null(scripts, False).to_numpy(zero_copy_only=False)
    plus_000 = thread_null & c.has_bias & (c.bias == 0) & (c.fmt == 0)
    return c.ok & (mdt | plus_000)


def _instants(
    c: _Columns, context: ParseContext, warnings: list[ParseWarning]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTC microseconds, where they are known, confidence codes) of every record."""
    untrusted = _untrusted(c)
    exact = c.ok & c.has_bias & ~untrusted
    utc = to_utc(c.local, c.bias)
    utc_ok = exact.copy()
    conf = np.full(len(c.local), _UNKNOWN, np.int8)
    conf[exact] = _EXACT
    conf[untrusted] = _UNTRUSTED
    need_zone = c.ok & ~exact
    zone = context.device_zone
    if not zone or not need_zone.any():
        return utc, utc_ok, conf
    try:
        zoned, amb, gap = local_to_utc(c.local[need_zone], zone)
    except Exception:  # unknown or malformed zone name: say so, keep going
        warnings.append(ParseWarning.at(None, f"unknown device zone {zone!r}"))
        return utc, utc_ok, conf
    utc[need_zone] = zoned
    utc_ok |= need_zone
    conf[need_zone & ~untrusted] = _FROM_ZONE
    if amb or gap:
        warnings.append(
            ParseWarning.at(
                None,
                f"{amb} ambiguous (first occurrence used) and {gap} "
                f"non-existent (pre-transition offset used) local times in {zone}",
            )
        )
    return utc, utc_ok, conf


def _decode_codes(codes: np.ndarray, labels: list[str | None]) -> pa.Array:
    dictionary = pa.array(labels, pa.string())
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), dictionary
    ).dictionary_decode()


def assemble(
    rows: Rows,
    converted: ColumnRecords | None,
    names: list[str],
    starts: np.ndarray,
    nl_before: np.ndarray,
    context: ParseContext,
    warnings: list[ParseWarning],
) -> pa.Table:
    """One table of every record, in log order.

    Args:
        rows: records read one at a time (careful or SMS-trace reader).
        converted: records converted by the column readers, if any.
        names: the members of the stitched log, oldest first.
        starts: where each member starts in the stitched log (the unit of
            the records' offsets).
        nl_before: newlines in the stitched log before each member.
        context: the device zone, for records without a trusted bias.
        warnings: receives zone problems.

    Returns:
        A `SCHEMA` table.
    """
    if converted is None:
        if len(rows) == 0:
            return schema.empty(SCHEMA)
        c = _from_rows(rows)
    else:
        c = _with_converted(converted, rows)
    file_idx = np.searchsorted(starts, c.offset, side="right") - 1
    line_in_file = c.line - nl_before[file_idx]
    utc, utc_ok, conf = _instants(c, context, warnings)
    bias_ok = c.has_bias & bias_in_range(c.bias)
    arrays = [
        pa.array(np.arange(1, len(c.local) + 1, dtype=np.int32)),
        _decode_codes(file_idx, [nm or None for nm in names]),
        pa.array(line_in_file.astype(np.int32)),
        _decode_codes(c.fmt, list(FORMATS)),
        pa.array(utc, schema.UTC_TS, mask=~utc_ok),
        pa.array(c.local, schema.LOCAL_TS, mask=~c.ok),
        pa.array(c.bias.astype(np.int16), pa.int16(), mask=~bias_ok),
        pc.take(_confidences(), pa.array(conf)),
        c.arrow["component"].cast(pa.string()),
        c.arrow["context"].cast(pa.string()),
        c.arrow["severity"],
        c.arrow["thread"],
        c.arrow["file"].cast(pa.string()),
        c.arrow["message"].cast(pa.string()),
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
