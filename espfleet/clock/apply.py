"""Write the eras' verdicts into the tables: corrected UTC, raw time kept beside it.

Per row placed in era *j* whose clock offset is known: ``ts_utc`` = device
time + offset, ``clock_era`` = *j*, ``clock_offset_s`` = the offset, and
``ts_confidence`` = ``corrected_clock`` when the offset is not zero, else the
confidence of how the row's time was read (a UTC stamp, or a local time
through the era's zone). A row in an era whose offset is unknown, or that no
era could take, keeps its raw time (UTC-stamped rows) or none (local-time
rows) and says ``unknown``. Events keep the time as written in
``ts_device_utc``; CMTrace and setup rows keep ``ts_local`` (and the bias).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from espfleet.parsers.schema import stored_schema

from .eras import Era
from .streams import Stream, micros

UNKNOWN = "unknown"


@dataclass
class Verdict:
    """What placement decided for the rows of one table part.

    Attributes:
        n: rows in the part.
        era: era index per row (-1: none).
        device: the device UTC microseconds each placed row stands for.
        read_as: how the row's time was read (None: keep the row's own label).
    """

    n: int
    era: np.ndarray = field(init=False)
    device: np.ndarray = field(init=False)
    read_as: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.era = np.full(self.n, -1, np.int64)
        self.device = np.zeros(self.n, np.int64)
        self.read_as = np.full(self.n, None, dtype=object)


def record(
    verdicts: dict[tuple[str, int], Verdict],
    stream: Stream,
    n_rows: int,
    era: np.ndarray,
    device: np.ndarray,
    read_as: np.ndarray | None = None,
) -> None:
    """Store a stream's placement in its table part's verdict."""
    v = verdicts.setdefault((stream.table, stream.part), Verdict(n_rows))
    v.era[stream.rows] = era
    v.device[stream.rows] = device
    if read_as is not None:
        v.read_as[stream.rows] = read_as


def _timestamps(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(values, pa.int64(), mask=~valid).cast(pa.timestamp("us", tz="UTC"))


def _stamped(name: str, table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raw device µs, known, row carries a UTC stamp) for one table part."""
    if name == "setup_log_entries":
        raw, known = micros(table.column("csi_utc"))
        return raw, known, known
    raw, known = micros(table.column("ts_utc"))
    if name == "cm_log_entries":
        exact = pc.fill_null(pc.equal(table.column("ts_confidence"), "exact"), False)
        return raw, known, exact.to_numpy(zero_copy_only=False)
    return raw, known, np.ones(table.num_rows, bool)


def rewrite(
    name: str, table: pa.Table, verdict: Verdict | None, eras: list[Era]
) -> pa.Table:
    """One table part with its times corrected and the clock columns filled."""
    n = table.num_rows
    v = verdict or Verdict(n)
    raw, raw_known, stamped = _stamped(name, table)
    per_era = np.array(
        [np.nan if e.offset_s is None else e.offset_s for e in eras] + [np.nan]
    )
    offset = per_era[v.era]  # era -1 takes the trailing NaN
    moved = ~np.isnan(offset)
    offset_us = np.where(moved, np.rint(np.nan_to_num(offset) * 1e6), 0).astype(
        np.int64
    )
    placed = v.era >= 0
    keep_raw = ~moved & stamped & raw_known
    device = np.where(placed, v.device, raw)
    utc = np.where(moved, device + offset_us, raw)
    before = table.column("ts_confidence")
    read_as = pa.array(v.read_as.tolist(), pa.string())
    # a local time read through the era's zone says so, but MDT's +000 stays untrusted
    keep = pc.or_kleene(pc.is_null(read_as), pc.equal(before, "untrusted"))
    own = pc.if_else(keep, before, read_as)
    corrected = pa.array(moved & (offset_us != 0))
    label = pc.if_else(
        corrected, "corrected_clock", pc.if_else(pa.array(moved), own, UNKNOWN)
    )
    out = table.set_column(
        table.schema.get_field_index("ts_utc"),
        "ts_utc",
        _timestamps(utc, moved | keep_raw),
    )
    out = out.set_column(
        out.schema.get_field_index("ts_confidence"), "ts_confidence", label
    )
    extra = {
        "ts_device_utc": _timestamps(raw, raw_known),
        "clock_era": pa.array(v.era, pa.int16(), mask=~placed),
        "clock_offset_s": pa.array(offset, pa.float64(), mask=~moved),
    }
    for f in stored_schema(name):
        if f.name in extra and f.name not in out.column_names:
            out = out.append_column(f, extra[f.name])
    return out


def unchanged(name: str, table: pa.Table) -> pa.Table:
    """A part of a bundle with one era in the zone its parsers used: nothing moves.

    Every row with a time is in era 0 with offset 0; events keep their time as
    ``ts_device_utc`` too.
    """
    known = pc.is_valid(table.column("ts_utc"))
    extra = {
        "ts_device_utc": table.column("ts_utc"),
        "clock_era": pc.if_else(
            known, pa.scalar(0, pa.int16()), pa.scalar(None, pa.int16())
        ),
        "clock_offset_s": pc.if_else(
            known, pa.scalar(0.0, pa.float64()), pa.scalar(None, pa.float64())
        ),
    }
    out = table
    for f in stored_schema(name):
        if f.name in extra and f.name not in out.column_names:
            out = out.append_column(f, extra[f.name])
    return out


def inherit(
    derived: pa.Table, name: str, source: pa.Table, key: str, src_key: str
) -> pa.Table:
    """A derived table's clock columns, from the source row it starts at.

    Args:
        derived: rows a deriver computed from `source` (already corrected).
        name: the derived table's name (its clock columns, `stored_schema`).
        source: the corrected rows it was derived from.
        key: the derived column naming its source row (``record_id`` of an
            event, ``first_record_no`` of a log record, a run's ``started_at``).
        src_key: the matching column of `source` (the first match is taken).
    """
    wanted = [f for f in stored_schema(name) if f.name not in derived.column_names]
    if not wanted or derived.num_rows == 0:
        return derived
    lookup = source.select(
        [src_key] + [f.name for f in wanted if f.name in source.column_names]
    )
    index = pc.index_in(derived.column(key), lookup.column(src_key))
    for f in wanted:
        if f.name in lookup.column_names:
            col = pc.take(lookup.column(f.name), index)
        else:
            col = pa.nulls(derived.num_rows, f.type)
        derived = derived.append_column(f, col.cast(f.type))
    return derived
