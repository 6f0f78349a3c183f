"""What the readers hand on: records read one at a time, scanned blocks, columns.

The careful and SMS-trace readers append to `Rows`; the column readers describe a
block as a `Scan`; the block loop gathers their converted records of every block
into `ColumnRecords`. The assembler (`assemble`) turns `Rows` and
`ColumnRecords` into one table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa


@dataclass
class Rows:
    """Column lists for records read one at a time (careful and SMS-trace readers).

    Attributes:
        key: (chunk index, record within the chunk): orders them among the
            column readers' records.
        offset: where the record starts (bytes; characters for SMS trace).
        line: 1-based line where the record starts.
        fmt: ccm | sms_trace | sms_trace_legacy.
        local: naive local microseconds, None when the time does not read.
        bias: the written bias in minutes, None when none.
        component, context, severity, thread, file, message: the fields.
    """

    key: list[tuple[int, int]] = field(default_factory=list)
    offset: list[int] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    fmt: list[str] = field(default_factory=list)
    local: list[int | None] = field(default_factory=list)
    bias: list[int | None] = field(default_factory=list)
    component: list[str | None] = field(default_factory=list)
    context: list[str | None] = field(default_factory=list)
    severity: list[int | None] = field(default_factory=list)
    thread: list[int | None] = field(default_factory=list)
    file: list[str | None] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    def add(self, **values: object) -> None:
        """Append one record: a value for every attribute."""
        for name, value in values.items():
            getattr(self, name).append(value)

    def __len__(self) -> int:
        return len(self.message)


@dataclass
class Scan:
    """What the column readers found in one block.

    Attributes:
        preamble: text before the first opener (fragment or nothing).
        n_chunks: number of openers.
        chunk_offsets: byte offset of each opener in the whole log.
        chunk_lines: 1-based line of each opener.
        good: indices (into chunks) of records converted here.
        columns: converted columns for `good`, aligned with it: message,
            component, context, file (strings), severity, thread (arrays),
            local_us, bias, has_bias (numpy).
        irregular: indices of chunks the careful reader must read.
        chunks: the chunk texts (after the opener), indexable by chunk.
        newlines: newlines in the whole block (-1 when not counted).
    """

    preamble: str
    n_chunks: int
    chunk_offsets: np.ndarray
    chunk_lines: np.ndarray
    good: np.ndarray
    columns: dict[str, Any] = field(default_factory=dict)
    irregular: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    chunks: Any = None  # pa.Array or regular.ChunkTexts of the chunk texts
    newlines: int = -1


@dataclass
class ColumnRecords:
    """Records converted by the column readers, over all blocks.

    Attributes:
        key: global chunk index of each record (orders it among `Rows`).
        line: line of its opener.
        offset: byte offset of its opener.
        columns: as `Scan.columns`, the string columns chunked by block.
    """

    key: np.ndarray
    line: np.ndarray
    offset: np.ndarray
    columns: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def merge(cls, parts: list[ColumnRecords]) -> ColumnRecords | None:
        """The parts of every block as one, None when none holds a record."""
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
        return cls(key, line, offset, cols)
