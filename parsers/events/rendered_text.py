"""Events rendered as text: ``[ETW]`` lines and `wevtutil qe /f:text` blocks.

``[ETW] [Microsoft-Windows-Shell-Core] [Informational] - CloudExperienceHost Web
App Event 2. Name: '<name>', Value: '<value>'.`` is the rendering of Shell-Core
62407 quoted by Microsoft (docs/formats.md §3.1, §7.4); a variant carries a
UTC time, ``[ETW [2022-08-02T13:28:10.3350735Z] [Provider] [Level] - msg``
(bracket after ETW missing or not). Pasted text may wrap a record over several
lines: lines up to the next ``[ETW`` (or a blank line) are joined with a space,
or with nothing when every wrapped line has the same width (a hard console
wrap). The Value may contain ``'``: it is anchored on ``Name: '``,
``', Value: '`` and the final ``'.``.

`wevtutil qe /f:text` prints ``Event[N]:`` then indented ``Log Name / Source /
Date / Event ID / Task / Level / Opcode / Keyword / User / User Name / Computer
/ Description`` with the message on the following lines (docs/formats.md
§7.3). Its ``Date`` is local time without offset: it becomes UTC only when the
context gives the device zone, else ts_utc is null (one warning says so).

Where each column comes from (`schema.EVENTS` declares what it means):
    source_format: always ``text``.
    channel: ``Log Name`` (wevtutil), or the provider's usual channel for
        ``[ETW]`` lines of known providers; null otherwise.
    provider: ``Source`` / the ``[Provider]`` bracket.
    event_id: ``Event ID``, or 62400/62404/62407 recognised from the message.
    record_id: null (text renderings carry none).
    ts_utc: the ``[ETW [ts]]`` UTC time, or the converted wevtutil ``Date``.
    level: from the level name (Critical 1, Error 2, Warning 3, Information 4,
        Verbose 5).
    computer: ``Computer`` (wevtutil).
    event_data: ``{"Name": .., "Value": ..}`` for 62407 (``CXID``; ``Source`` and
        ``Experience`` for 62404/62400), else null.
    name, value: the 62407 Name and Value.
    message: the rendered message text.
    meaning, error_code, error_code_hex: as for .evtx (`events.rows`, `events.codes`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import schema, textdecode
from ..base import (
    Damage,
    Derivation,
    ParseContext,
    Parser,
    ParseResult,
)
from .channels import PROVIDER_CHANNELS
from .evtx import MAGIC as EVTX_MAGIC
from .rows import LEVELS, EventRows, parse_iso_utc

SCHEMA = schema.EVENTS

# Control characters but tab, LF and CR: more than 8 in a head mean binary.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ETW_START = re.compile(r'^\s*"?\[ETW\b')
_ETW = re.compile(
    r'^\s*"?\[ETW\]?\s*(?:\[(?P<ts>\d{4}-\d\d-\d\d[T ][^\]]*)\]\s*)?\]?\s*'
    r"\[(?P<prov>[^\]]+)\]\s*\[(?P<lvl>[^\]]+)\]\s*-\s*(?P<msg>.*?)\"?\s*$",
    re.S,
)
_WEV_START = re.compile(r"^Event\[(\d+)\]:\s*$")
_FIELD = re.compile(
    r"^\s*(Log Name|Source|Date|Event ID|Task|Level|Opcode|Keywords?|"
    r"User|User Name|Computer|Description):\s?(.*)$"
)
_MESSAGES = (
    (
        62407,
        re.compile(
            r"^CloudExperienceHost Web App Event 2\. Name: '(?P<Name>.*?)', "
            r"Value: '(?P<Value>.*)'\.?\s*$",
            re.S,
        ),
    ),
    (
        62404,
        re.compile(
            r"^CloudExperienceHost Web App Activity started\. "
            r"CXID: '(?P<CXID>.*)'\.?\s*$",
            re.S,
        ),
    ),
    (
        62400,
        re.compile(
            r"^CloudExperienceHost App Activity started\. Source: '(?P<Source>.*?)', "
            r"Experience: '(?P<Experience>.*)'\.?\s*$",
            re.S,
        ),
    ),
)
_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %I:%M:%S %p")
_HARD_WRAP_MIN = 60


def sniff(head: bytes, name: str = "") -> bool:
    """True for text with an ``[ETW] [..] [..] -`` line or an ``Event[N]:`` block."""
    if head[:8] == EVTX_MAGIC:
        return False
    text = textdecode.decode_head(head[:65536]).text
    sample = text[:8192]
    if "\x00" in sample or len(_CONTROLS.findall(sample)) > 8:
        return False
    for line in text.splitlines()[:2000]:
        if _ETW_START.match(line):
            return bool(_ETW.match(line))
        if _WEV_START.match(line):
            return "Log Name:" in text
    return False


def _decode_message(message: str) -> tuple[int | None, dict | None]:
    """Event id and event data recognised from a Shell-Core rendered message."""
    for event_id, rx in _MESSAGES:
        m = rx.match(message)
        if m:
            return event_id, m.groupdict()
    return None, None


def _join(lines: list[str]) -> str:
    """Re-join a record that a paste wrapped over several lines."""
    if len(lines) == 1:
        return lines[0].strip()
    widths = {len(x) for x in lines[:-1]}
    if len(widths) == 1 and widths.pop() >= _HARD_WRAP_MIN:
        return "".join(lines).strip()  # console hard wrap: nothing was eaten
    return " ".join(x.strip() for x in lines)


def _level(name: str | None) -> int | None:
    return LEVELS.get(name.strip().lower()) if name else None


def _add_etw(rows: EventRows, text: str) -> bool:
    m = _ETW.match(text)
    if not m:
        return False
    provider = m["prov"].strip()
    message = m["msg"].strip()
    event_id, data = _decode_message(message)
    rows.add(
        channel=PROVIDER_CHANNELS.get(provider.lower()),
        provider=provider,
        event_id=event_id,
        record_id=None,
        ts_utc=parse_iso_utc(m["ts"]),
        level=_level(m["lvl"]),
        computer=None,
        event_data=data,
        message=message,
    )
    return True


def _local_to_utc(text: str, zone: ZoneInfo | None) -> datetime | None:
    if zone is None:
        return None
    for fmt in _LOCAL_FORMATS:
        try:
            local = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=zone).astimezone(UTC)
    return None


def _add_wevtutil(rows: EventRows, lines: list[str], zone: ZoneInfo | None) -> bool:
    fields: dict[str, str] = {}
    body: list[str] = []
    for i, line in enumerate(lines):
        m = _FIELD.match(line)
        if not m:
            continue
        fields[m[1]] = m[2].strip()
        if m[1] == "Description":
            body = ([m[2]] if m[2].strip() else []) + lines[i + 1 :]
            break
    if "Event ID" not in fields and "Source" not in fields:
        return False
    message = "\n".join(body).strip("\r\n ") or None
    # Event IDs are 16-bit; "²" passes isdigit() and int() refuses it.
    given = fields.get("Event ID", "")
    ok = given.isascii() and given.isdigit() and len(given) <= 5
    event_id = int(given) if ok and int(given) <= 0xFFFF else None
    data = None
    if message:
        found, data = _decode_message(message)
        if found is None:  # a wrapped paste: try the message on one line
            found, data = _decode_message(" ".join(message.split()))
        event_id = event_id or found
    rows.add(
        channel=fields.get("Log Name") or None,
        provider=fields.get("Source") or None,
        event_id=event_id,
        record_id=None,
        ts_utc=_local_to_utc(fields.get("Date", ""), zone),
        level=_level(fields.get("Level")),
        computer=fields.get("Computer") or None,
        event_data=data,
        message=message,
        zone_dated=zone is not None,
    )
    return True


def _starts_viewer_block(line: str, records: list) -> bool:
    """An Event Viewer text export starts each event at ``Log Name:``."""
    if not line.lstrip().startswith("Log Name:"):
        return False
    if not records or records[-1][0] != "wev":
        return True
    return any(x.lstrip().startswith("Log Name:") for x in records[-1][2])


def _zone(context: ParseContext | None) -> ZoneInfo | None:
    if context is None or not context.device_zone:
        return None
    try:
        return ZoneInfo(context.device_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """Parse a text file of ``[ETW]`` lines and/or wevtutil ``Event[N]:`` blocks.

    Args:
        data: the file's bytes (any encoding textdecode recognises).
        context: its `device_zone` turns wevtutil local dates into UTC.

    Returns:
        `events` rows, warnings and the number of records skipped.
    """
    rows = EventRows("text")
    zone = _zone(context)
    decoded = textdecode.decode(data)
    lines = decoded.text.splitlines()
    records: list[tuple[str, int, list[str]]] = []  # (kind, first line, lines)
    stray = 0
    for no, line in enumerate(lines, 1):
        if _ETW_START.match(line):
            records.append(("etw", no, [line]))
        elif _WEV_START.match(line) or _starts_viewer_block(line, records):
            records.append(("wev", no, [] if line.startswith("Event[") else [line]))
        elif records and records[-1][0] == "wev":
            records[-1][2].append(line)
        elif records and records[-1][0] == "etw" and line.strip():
            records[-1][2].append(line)
        elif line.strip():
            stray += 1
        elif records and records[-1][0] == "etw":
            records.append(("gap", no, []))  # a blank line ends a wrapped record
    damage = Damage()
    undated = 0
    for kind, no, rec in records:
        if kind == "gap":
            continue
        if kind == "etw":
            ok = _add_etw(rows, _join(rec))
        else:
            ok = _add_wevtutil(rows, rec, zone)
            undated += ok and zone is None
        if ok:
            damage.ok()
        elif damage.fail(no, f"unrecognised {kind} record", rec[0] if rec else ""):
            break
    if undated:
        damage.warn(
            None, f"{undated} wevtutil dates are local with no zone: ts_utc null"
        )
    if stray:
        damage.warn(None, f"{stray} lines outside any event ignored")
    if loss := textdecode.loss_warning(decoded):
        damage.warn(None, loss)
    return ParseResult(rows.table(), damage.warnings, damage.skipped)


PARSER = Parser(
    name="eventtext",
    description="Event text renderings: [ETW] lines and wevtutil /f:text blocks",
    table="events",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
    derives=(Derivation("*", "esp_events"),),
    uses_device_zone=True,  # wevtutil text dates are local
)
