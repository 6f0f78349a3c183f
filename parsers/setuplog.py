"""Windows setup logs (setupact.log, setuperr.log) -> `setup_log_entries`.

Every line is ``<YYYY-MM-DD HH:MM:SS>, <level><pad><component><pad><message>``
(docs/formats.md §10.1): the date and time are the device's local wall-clock
time, the level is ``Info``, ``Warning``, ``Error`` or ``Fatal Error``, an
optional ``[0x080489]`` message id may follow it, and the component (``CSI``,
``DISM``, ``MIG``, ``SP``, ...) sits in a 7-column field that is blank for most
OOBE lines, whose messages start with the process instead (``[msoobe.exe]``).

Two kinds of line are time anchors (§10.2): CSI lines whose sequence number
carries ``@YYYY/M/D:HH:MM:SS.fff``, the device clock's UTC beside the local
time of the line, and ``Set time zone to [<zone>]`` / ``Successfully set
timezone (<zone>)`` lines, which name the zone from then on. The parser keeps
both in columns (``csi_utc``, ``zone_set``) and gives CSI lines their UTC; the
other lines get theirs from ingestion (`espfleet.clock`), which knows the zone
of each era of the bundle.

Recognised by name (``setupact.log``, ``setuperr.log``) or by a first line in
the layout. Lines in another shape are skipped and counted (continuations are
not part of the format); a last line with no line end is kept with a warning.

Columns: see `schema.SETUP_LOG_ENTRIES`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pyarrow as pa

from . import schema
from .base import Damage, ParseContext, Parser, ParseResult
from .textdecode import decode, decode_head, loss_warning

SCHEMA = schema.SETUP_LOG_ENTRIES
NAMES = ("setupact.log", "setuperr.log")
LEVELS = ("Info", "Warning", "Error", "Fatal Error")

_LINE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2}), "
    r"(?P<level>Fatal Error|Info|Warning|Error)"
    r"(?P<pad>\s(?:\s*\[(?P<msgid>0x[0-9A-Fa-f]+)\])?\s*)(?P<rest>.*)"
)
# The level field is 22 columns wide, the component field 7 (docs/formats.md §10.1).
_LEVEL_WIDTH, _COMPONENT_WIDTH = 22, 7
_COMPONENT_WORD = re.compile(r"([A-Za-z][A-Za-z0-9]{0,6})(?=\s)")
_SPACED_COMPONENT = re.compile(r"([A-Z][A-Z0-9]{1,7}) {2,}")
_PROCESS = re.compile(r"\[([^\]\s]+\.(?:exe|EXE|dll|DLL))\]\s?")
_CSI = re.compile(
    r"(?P<seq>[0-9A-Fa-f]{8})"
    r"(?:@(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2}):"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<ms>\d{1,3}))?)?\s?"
)
_ZONE = re.compile(
    r"Set time zone to \[(?P<a>[^\]]+)\]|Successfully set timezone \((?P<b>[^)]+)\)"
)
_SNIFF_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}, (?:Info|Warning|Error|Fatal Error) "
)


def sniff(head: bytes, name: str = "") -> bool:
    """A setup log by name, or a first line in the setup-log layout."""
    if PurePosixPath(name).name.lower() in NAMES:
        return True
    # the head decoded once for every text sniff (textdecode.decode_head)
    text = decode_head(head[:65536]).text[:200].lstrip("\ufeff")
    return bool(_SNIFF_TEXT.match(text))


def _component(lead: int, rest: str) -> tuple[str | None, str]:
    """(component, message) from what follows the level.

    Args:
        lead: columns from the start of the level to the first character of
            `rest` (22 in the standard layout when a component is written).
        rest: the line after the level's padding.
    """
    if lead == _LEVEL_WIDTH:
        m = _COMPONENT_WORD.match(rest)
        if m and not rest[len(m[1]) : _COMPONENT_WIDTH].strip():
            return m[1], rest[_COMPONENT_WIDTH:].lstrip(" ")
        return None, rest
    if lead >= _LEVEL_WIDTH + _COMPONENT_WIDTH:
        return None, rest
    m = _SPACED_COMPONENT.match(rest)  # a layout with collapsed padding
    if m:
        return m[1], rest[m.end() :]
    return None, rest


def _csi(message: str) -> tuple[int | None, datetime | None, str]:
    m = _CSI.match(message)
    if m is None:
        return None, None, message
    when = None
    if m["y"]:
        try:
            when = datetime(
                int(m["y"]),
                int(m["mo"]),
                int(m["d"]),
                int(m["h"]),
                int(m["mi"]),
                int(m["s"]),
                int((m["ms"] or "0").ljust(3, "0")) * 1000,
                tzinfo=UTC,
            )
        except ValueError:
            when = None
    return int(m["seq"], 16), when, message[m.end() :]


def _row(no: int, m: re.Match[str]) -> dict | None:
    try:
        local = datetime.strptime(f"{m['date']} {m['time']}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    component, message = _component(len(m["level"]) + len(m["pad"]), m["rest"])
    process = None
    if component is None and (p := _PROCESS.match(message)):
        process = p[1]
    seq = csi_utc = None
    if component == "CSI":
        seq, csi_utc, message = _csi(message)
    zone = _ZONE.search(message)
    return {
        "line_no": no,
        "ts_local": local,
        "ts_utc": csi_utc,
        "ts_confidence": "exact" if csi_utc else "unknown",
        "level": m["level"],
        "message_id": m["msgid"],
        "component": component,
        "process": process,
        "csi_sequence": seq,
        "csi_utc": csi_utc,
        "zone_set": (zone["a"] or zone["b"]).strip() if zone else None,
        "message": message.rstrip("\r"),
    }


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """Parse one setup log.

    Args:
        data: the file's bytes (UTF-8 with BOM in practice; UTF-16 and cp1252
            are decoded too).
        context: unused (the zone of each line is ingestion's to decide).

    Returns:
        One row per line in the layout; other lines are skipped and counted.
    """
    decoded = decode(data)
    text = decoded.text.lstrip("\ufeff")
    lines = text.split("\n")
    unterminated = bool(lines) and lines[-1] != "" and not text.endswith("\n")
    if lines and lines[-1] == "":
        lines.pop()
    damage = Damage()
    rows = []
    for no, line in enumerate(lines, 1):
        line = line.rstrip("\r").replace("\x00", "")
        if not line.strip():
            continue
        m = _LINE.fullmatch(line)
        row = _row(no, m) if m else None
        if row is None:
            if damage.fail(no, "not a setup log line", line):
                break
            continue
        damage.ok()
        rows.append(row)
        if unterminated and no == len(lines):
            damage.warn(no, "last line has no line end (file cut?)", line)
    if loss := loss_warning(decoded):
        damage.warn(None, loss)
    return ParseResult(
        pa.Table.from_pylist(rows, schema=SCHEMA), damage.warnings, damage.skipped
    )


PARSER = Parser(
    name="setuplog",
    description="Windows setup logs: setupact.log, setuperr.log (Panther, CBS layout)",
    table="setup_log_entries",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
)
