"""A bundle's timed rows as streams: rows written one after another by one writer.

A stream is one event channel of one member in EventRecordID order, one CMTrace
log in record order (rows with a written bias and rows without one apart), or
one setup log in line order. Within a stream, time only moves forward unless
the clock was set back, and a row's era can never be earlier than the era of
the row before it: that is what lets record order place rows whose time alone
cannot say which side of a clock correction they were written on.

Times are int64 microseconds since 1970 (UTC for device times, naive for local
times), with a mask saying which are known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

UTC_KIND, LOCAL_KIND = "utc", "local"


@dataclass
class Stream:
    """One writer's rows in the order it wrote them.

    Attributes:
        table: the table the rows are in (events, cm_log_entries, ...).
        part: index of the (member, table) pair in the bundle's list for it.
        member: the member the rows came from.
        label: member and channel, for evidence notes.
        rows: row indices in that table, in stream order.
        seq: record_id / record_no / line_no per row (for notes).
        kind: ``utc`` (the device's UTC is written) or ``local``.
        device: device UTC microseconds (utc streams; CSI rows of setup logs).
        has_device: where `device` is known.
        local: naive local microseconds (local streams).
        has_local: where `local` is known.
        ordered: the order is the writer's (False for event text renderings,
            which have no EventRecordID and may list newest first).
    """

    table: str
    part: int
    member: str
    label: str
    rows: np.ndarray
    seq: np.ndarray
    kind: str
    device: np.ndarray
    has_device: np.ndarray
    local: np.ndarray
    has_local: np.ndarray
    ordered: bool = True

    def __len__(self) -> int:
        return len(self.rows)


def micros(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(int64 microseconds, known mask) of a timestamp column."""
    arr = column.cast(pa.timestamp("us", tz="UTC") if column.type.tz else column.type)
    ints = pc.cast(arr, pa.int64())
    mask = pc.is_valid(ints).to_numpy(zero_copy_only=False)
    values = pc.fill_null(ints, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return values, mask


def _order(seq: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Row indices sorted by `seq` (stable; rows without one keep their place)."""
    if known.all():
        return np.argsort(seq, kind="stable")
    return np.arange(len(seq))


def _ints(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    mask = pc.is_valid(column).to_numpy(zero_copy_only=False)
    values = pc.fill_null(column, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return values, mask


def _stream(
    table: str,
    part: int,
    member: str,
    label: str,
    rows: np.ndarray,
    seq: np.ndarray,
    kind: str,
    device: tuple[np.ndarray, np.ndarray],
    local: tuple[np.ndarray, np.ndarray] | None = None,
) -> Stream:
    n = len(rows)
    loc = local if local is not None else (np.zeros(n, np.int64), np.zeros(n, bool))
    return Stream(
        table, part, member, label, rows, seq, kind, device[0], device[1], *loc
    )


def event_streams(parts: list[tuple[str, pa.Table]]) -> list[Stream]:
    """One utc stream per (member, channel), in EventRecordID order."""
    out = []
    for part, (member, t) in enumerate(parts):
        if t.num_rows == 0:
            continue
        dev, known = micros(t.column("ts_utc"))
        rec, rec_known = _ints(t.column("record_id"))
        channel_column = pc.fill_null(t.column("channel"), "").combine_chunks()
        coded = channel_column.dictionary_encode()
        codes = coded.indices.to_numpy(zero_copy_only=False)
        for code, channel in enumerate(coded.dictionary.to_pylist()):
            rows = np.flatnonzero(codes == code)
            rows = rows[_order(rec[rows], rec_known[rows])]
            stream = _stream(
                "events",
                part,
                member,
                f"{member} ({channel})" if channel else member,
                rows,
                rec[rows],
                UTC_KIND,
                (dev[rows], known[rows]),
            )
            stream.ordered = bool(rec_known[rows].all())
            out.append(stream)
    return out


def cm_streams(parts: list[tuple[str, pa.Table]]) -> list[Stream]:
    """Per log: a utc stream of rows with a trusted bias, a local stream of the rest."""
    out = []
    for part, (member, t) in enumerate(parts):
        if t.num_rows == 0:
            continue
        dev, dev_known = micros(t.column("ts_utc"))
        loc, loc_known = micros(t.column("ts_local"))
        seq, _ = _ints(t.column("record_no"))
        exact = pc.equal(t.column("ts_confidence"), "exact")
        exact_np = pc.fill_null(exact, False).to_numpy(zero_copy_only=False)
        order = np.argsort(seq, kind="stable")
        for kind, pick in ((UTC_KIND, exact_np), (LOCAL_KIND, ~exact_np)):
            rows = order[pick[order]]
            if len(rows) == 0:
                continue
            out.append(
                _stream(
                    "cm_log_entries",
                    part,
                    member,
                    member,
                    rows,
                    seq[rows],
                    kind,
                    (dev[rows], dev_known[rows] & (kind == UTC_KIND)),
                    (loc[rows], loc_known[rows]),
                )
            )
    return out


def setup_streams(parts: list[tuple[str, pa.Table]]) -> list[Stream]:
    """One local stream per setup log, in line order; CSI rows carry device UTC."""
    out = []
    for part, (member, t) in enumerate(parts):
        if t.num_rows == 0:
            continue
        dev, dev_known = micros(t.column("csi_utc"))
        loc, loc_known = micros(t.column("ts_local"))
        seq, _ = _ints(t.column("line_no"))
        rows = np.argsort(seq, kind="stable")
        out.append(
            _stream(
                "setup_log_entries",
                part,
                member,
                member,
                rows,
                seq[rows],
                LOCAL_KIND,
                (dev[rows], dev_known[rows]),
                (loc[rows], loc_known[rows]),
            )
        )
    return out
