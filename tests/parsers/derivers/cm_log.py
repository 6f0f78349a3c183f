"""`cm_log_entries` inputs for the deriver tests, read by the real CMTrace parser.

Record lines are written here in the layout of docs/formats.md §1.1; files and
texts are parsed by `cmtrace.parse`, so a derived fact (an instant, a record
number) is what ingestion would store.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from espfleet.parsers import cmtrace
from espfleet.parsers.base import ParseContext


def entries_from_text(text: str, name: str) -> pa.Table:
    """The `cm_log_entries` rows of a log written as `text`, member `name`."""
    return cmtrace.parse(text.encode("utf-8"), ParseContext(name)).table


def entries_from_file(path: Path) -> pa.Table:
    """The `cm_log_entries` rows of a log file (named by its file name)."""
    return cmtrace.parse(path.read_bytes(), ParseContext(path.name)).table


def record(
    message: str,
    time: str,
    date: str,
    component: str = "TSManager",
    thread: int = 1000,
    type_: int = 1,
) -> str:
    """One CCM record line; `time` is ``HH:MM:SS.fff+BIAS`` as written."""
    return (
        f'<![LOG[{message}]LOG]!><time="{time}" date="{date}" '
        f'component="{component}" context="" type="{type_}" thread="{thread}" '
        f'file="">\r\n'
    )
