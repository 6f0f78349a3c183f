"""Test-only CCM-format reader: log text -> schema.CM_LOG_ENTRIES rows.

The derived-fact tests (ccmsetup, smsts) need `cm_log_entries` tables without
depending on the real CMTrace parser. This is the FORMATS.md 1.1 regex run with
`finditer` over the decoded text; UTC = local + bias (Windows sign, 1.2). It is
deliberately naive (no damage recovery): fixtures are well formed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from espfleet.parsers import schema
from espfleet.parsers.textdecode import decode

CCM = re.compile(
    r'<!\[LOG\[(?P<msg>.*?)\]LOG\]!><time="(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})'
    r'(?:\.(?P<frac>\d+))?(?P<bias>[+-]\d+)?"\s+date="(?P<mo>\d{1,2})-(?P<d>\d{1,2})-'
    r'(?P<y>\d{4})"\s+component="(?P<comp>[^"]*)"(?:\s+context="(?P<ctx>[^"]*)")?'
    r'(?:\s+type="(?P<type>\d*)")?(?:\s+thread="(?P<thr>\d*)")?'
    r'(?:\s+file="(?P<file>[^"]*)")?\s*>',
    re.S,
)


def entries_from_text(text: str) -> pa.Table:
    """Every CCM record of `text` as a CM_LOG_ENTRIES table."""
    rows = []
    for n, m in enumerate(CCM.finditer(text), start=1):
        frac = (m["frac"] or "0")[:6].ljust(6, "0")
        local = datetime(
            int(m["y"]), int(m["mo"]), int(m["d"]),
            int(m["h"]), int(m["mi"]), int(m["s"]), int(frac),
        )  # fmt: skip
        bias = int(m["bias"]) if m["bias"] else None
        utc = None if bias is None else (local + timedelta(minutes=bias))
        rows.append(
            {
                "record_no": n,
                "line_no": text.count("\n", 0, m.start()) + 1,
                "format": "ccm",
                "ts_utc": utc.replace(tzinfo=UTC) if utc else None,
                "ts_local": local,
                "tz_bias_min": bias,
                "ts_confidence": "exact" if bias is not None else "unknown",
                "component": m["comp"],
                "context": m["ctx"],
                "severity": int(m["type"]) if m["type"] else None,
                "thread": int(m["thr"]) if m["thr"] else None,
                "file": m["file"],
                "message": m["msg"],
            }
        )
    return pa.Table.from_pylist(rows, schema=schema.CM_LOG_ENTRIES)


def entries_from_file(path: Path) -> pa.Table:
    """Decode a log file (BOM sniffing) and read its records."""
    return entries_from_text(decode(path.read_bytes()).text)


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
