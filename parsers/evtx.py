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

from evtx import PyEvtxParser

from . import schema
from .base import MAX_CONSECUTIVE_FAILURES, ParseContext, ParseResult, ParseWarning
from .eventrows import EventRows, loads

NAME = "evtx"
DESCRIPTION = "Windows event log (.evtx) records, via pyevtx-rs"
TABLE = "events"
SCHEMA = schema.EVENTS
MAGIC = b"ElfFile\x00"
_EVENTDATA = '},"EventData":'
_USERDATA = '},"UserData":'


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


def _data_part(text: str, event: dict) -> tuple[dict | None, str | None]:
    """EventData/UserData as a dict and as the JSON text sliced from the record.

    Slicing is safe: inside JSON strings a quote is escaped, so ``},"EventData":``
    cannot occur in a value, and EventData is the last member of ``Event``.
    """
    for key, marker in (("EventData", _EVENTDATA), ("UserData", _USERDATA)):
        data = event.get(key)
        if data is None:
            continue
        i = text.rfind(marker)
        if i >= 0 and text.endswith("}}"):
            return data, text[i + len(marker) : -2]
        return data, None
    return None, None


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
    skipped = failures = n = 0
    add = rows.add
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
        try:
            event = loads(text)["Event"]
            system = event["System"]
        except (ValueError, KeyError, TypeError) as exc:
            skipped += 1
            failures += 1
            warnings.append(ParseWarning.at(n, f"record JSON unusable: {exc}", text))
            continue
        failures = 0
        provider = system.get("Provider")
        provider = provider.get("#attributes", {}).get("Name") if provider else None
        created = system.get("TimeCreated") or {}
        stamp = created.get("#attributes", {}).get("SystemTime") or rec.get("timestamp")
        event_data, event_json = _data_part(text, event)
        level = system.get("Level")
        add(
            system.get("Channel"),
            provider,
            _event_id(system.get("EventID")),
            rec.get("event_record_id"),
            stamp,
            level if isinstance(level, int) else None,
            system.get("Computer"),
            event_data,
            None,
            event_json,
        )
    return ParseResult(rows.table(), warnings, skipped)
