"""Windows event logs (.evtx) through pyevtx-rs (the `evtx` package).

Every record becomes one `events` row; Shell-Core 62407 rows also carry the
event's Name and Value (FORMATS.md 3.1-3.2). Record timestamps are the UTC
``SystemTime``. A record pyevtx-rs cannot decode is counted as skipped with a
warning; after 20 failures in a row the rest of the file is given up.

Columns (schema.EVENTS):
    source_format: always ``evtx``.
    channel: ``System/Channel`` (``Microsoft-Windows-Shell-Core/Operational``).
    provider: ``System/Provider@Name``.
    event_id: ``System/EventID`` (int32).
    record_id: ``EventRecordID`` (int64).
    ts_utc: ``TimeCreated@SystemTime``, timestamp[us, UTC].
    level: ``System/Level`` (1 critical, 2 error, 3 warning, 4 info, 5 verbose).
    computer: ``System/Computer``.
    event_data: EventData (or UserData) as the JSON text pyevtx-rs renders.
    name, value: the 62407 Name and Value (null for other events).
    message: null (an .evtx holds no rendered text).
    meaning: decoded meaning (parsers/channels.py), null when unknown.
    error_code, error_code_hex: HRESULT found in the data (62407 errorCode,
        ``HRESULT``/``ErrorCode`` items), u32 and ``0x%08X``.
"""

from __future__ import annotations

import io
import re

from evtx import PyEvtxParser

from . import schema
from .base import MAX_CONSECUTIVE_FAILURES, ParseContext, ParseResult, ParseWarning
from .eventrows import EventRows, dumps, loads

NAME = "evtx"
DESCRIPTION = "Windows event log (.evtx) records, via pyevtx-rs"
TABLE = "events"
SCHEMA = schema.EVENTS
MAGIC = b"ElfFile\x00"
_EVENTDATA = '},"EventData":'
# The System object as pyevtx-rs renders it for ordinary records; no nested
# quantifiers, so a mismatch fails fast and falls back to a full JSON decode.
_SYSTEM = re.compile(
    r'\{"Event":\{"#attributes":\{"xmlns":"[^"]*"\},"System":\{'
    r'"Provider":\{"#attributes":\{"Name":"([^"\\]*)"[^}]*\}\},'
    r'"EventID":(\d+),"Version":[^,]*,"Level":(\d+),"Task":[^,]*,"Opcode":[^,]*,'
    r'"Keywords":[^,]*,"TimeCreated":\{"#attributes":\{"SystemTime":"([^"]*)"\}\},'
    r'"EventRecordID":\d+,"Correlation":(?:null|\{"#attributes":\{[^}]*\}\}),'
    r'"Execution":(?:null|\{"#attributes":\{[^}]*\}\}),'
    r'"Channel":"([^"\\]*)","Computer":"([^"\\]*)"'
)


def sniff(head: bytes, name: str = "") -> bool:
    """True for the EVTX file header magic ``ElfFile\\0``."""
    return head[:8] == MAGIC


def _event_id(raw) -> int | None:
    if isinstance(raw, dict):  # {"#attributes": {"Qualifiers": ..}, "#text": 7036}
        raw = raw.get("#text")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _fast(text: str) -> tuple | None:
    """System fields and the EventData JSON straight from the record's JSON text.

    pyevtx-rs writes System members in XML order; inside JSON strings quotes
    are escaped, so these markers cannot match inside a value. Anything out of
    the common shape (escapes, Qualifiers on EventID, null members, UserData)
    returns None and the record goes through `_slow`.
    """
    m = _SYSTEM.match(text)
    if m is None:
        return None
    end = text.find(_EVENTDATA, m.end())
    if end < 0 or not text.endswith("}}"):
        return None
    provider, event_id, level, stamp, channel, computer = m.groups()
    data = text[end + len(_EVENTDATA) : -2]
    return (
        channel,
        provider,
        int(event_id),
        stamp,
        int(level),
        computer,
        None if data == "null" else data,
    )


def _slow(text: str, event: dict) -> tuple:
    """The same fields through the decoded JSON (any record shape)."""
    system = event["System"]
    provider = system.get("Provider") or {}
    created = system.get("TimeCreated") or {}
    level = system.get("Level")
    data = None
    for key in ("EventData", "UserData"):
        if event.get(key) is not None:
            data = dumps(event[key])
            break
    return (
        system.get("Channel"),
        (provider.get("#attributes") or {}).get("Name"),
        _event_id(system.get("EventID")),
        (created.get("#attributes") or {}).get("SystemTime"),
        level if isinstance(level, int) else None,
        system.get("Computer"),
        data,
    )


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """Parse a whole .evtx file.

    Args:
        data: the file's bytes.
        context: unused (event times are UTC already).

    Returns:
        `events` rows, warnings and the number of records skipped.
    """
    rows = EventRows("evtx")
    warnings: list[ParseWarning] = []
    if not sniff(data):
        warnings.append(ParseWarning.at(None, "not an evtx file", data[:80]))
        return ParseResult(rows.table(), warnings, 0)
    try:
        records = PyEvtxParser(io.BytesIO(data)).records_json()
    except Exception as exc:  # pyevtx-rs raises RuntimeError on a bad header
        warnings.append(ParseWarning.at(None, "evtx header unreadable", str(exc)))
        return ParseResult(rows.table(), warnings, 0)
    raw = rows.raw
    channel, provider, event_id, record_id, ts_utc, level, computer, event_data = (
        raw[name].append for name in EventRows.RAW[:8]
    )
    messages = raw["message"]
    skipped = failures = n = 0
    while True:
        n += 1
        try:
            rec = next(records)
        except StopIteration:
            break
        except Exception as exc:  # one bad record/chunk: note it, keep going
            skipped += 1
            failures += 1
            warnings.append(ParseWarning.at(n, "evtx record unreadable", str(exc)))
            if failures >= MAX_CONSECUTIVE_FAILURES:
                warnings.append(ParseWarning.at(n, "gave up after 20 failures"))
                break
            continue
        text = rec["data"]
        fields = _fast(text)
        if fields is None:
            try:
                fields = _slow(text, loads(text)["Event"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                skipped += 1
                failures += 1
                warnings.append(
                    ParseWarning.at(n, f"record JSON unusable: {exc}", text)
                )
                continue
        failures = 0
        channel(fields[0])
        provider(fields[1])
        event_id(fields[2])
        record_id(rec.get("event_record_id"))
        ts_utc(fields[3] or rec.get("timestamp"))
        level(fields[4])
        computer(fields[5])
        event_data(fields[6])
    messages.extend([None] * (len(rows) - len(messages)))
    return ParseResult(rows.table(), warnings, skipped)
