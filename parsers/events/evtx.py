"""Windows event logs (.evtx) through pyevtx-rs (the `evtx` package).

Every record becomes one `events` row; Shell-Core 62407 rows also carry the
event's Name and Value (docs/formats.md §3.1-§3.2). Record timestamps are the UTC
``SystemTime``. A record pyevtx-rs cannot decode is counted as skipped with a
warning; after 20 failures in a row the rest of the file is given up.

Speed: a file's records are read first, then one regex match per record
(`_fields`) yields all System fields and the EventData text; a file with any
read failure or record of another shape goes record by record (`_replay`),
with the same output. Costs per record: bench/bench_events.py.

Where each column comes from (`schema.EVENTS` declares what it means):
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
    meaning: decoded meaning (`events.channels`), null when unknown.
    error_code, error_code_hex: HRESULT found in the data (62407 errorCode,
        ``HRESULT``/``ErrorCode`` items), u32 and ``0x%08X``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from itertools import repeat
from operator import itemgetter
from typing import Any

from evtx import PyEvtxParser

from .. import schema
from ..base import (
    MAX_CONSECUTIVE_FAILURES,
    Damage,
    Derivation,
    ParseContext,
    Parser,
    ParseResult,
    ParseWarning,
)
from .rows import EventRows, dumps, loads

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
# The same in one regex call per record, cheaper for the common case: the
# constant head checked with startswith, match from its end; Name, Channel and
# Computer as [^"]* (a backslash found in them sends the file to `_replay`);
# optional Security, then EventData up to the closing "}}". A record it takes
# gets exactly `_fast`'s fields (tests/parsers/events/test_evtx.py). Groups:
# (provider,) "<EventID>,...,"Level":<Level>", SystemTime,
# "<Channel>","Computer":"<Computer>", EventData; the two compound groups
# repeat within a file, so `_fields` splits each distinct one once. Each
# class excludes the character after it, so possessive repeats (``*+``, no
# backtracking state kept) match the same texts about 10% faster.
_HEAD = (
    '{"Event":{"#attributes":{"xmlns":'
    '"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{'
    '"Provider":{"#attributes":{"Name":"'
)
_PROVIDER = r'([^"]*+)"[^}]*+\}\},"EventID":'
_REST = (
    r'(\d+,"Version":[^,]*+,"Level":\d+),"Task":[^,]*+,"Opcode":[^,]*+,'
    r'"Keywords":[^,]*+,"TimeCreated":\{"#attributes":\{"SystemTime":"([^"]*+)"\}\},'
    r'"EventRecordID":\d+,"Correlation":(?:null|\{"#attributes":\{[^}]*+\}\}),'
    r'"Execution":(?:null|\{"#attributes":\{[^}]*+\}\}),'
    r'"Channel":"([^"]*+","Computer":"[^"]*+)"'
    # a Security object (every corpus record has one) then "}", or just "}"
    r'(?:,"Security":\{"#attributes":\{"UserID":"[^"]*+"\}\}\}|\})'
    r',"EventData":(.*)\}\}\Z'
)
_BODY = re.compile(_PROVIDER + _REST, re.DOTALL)
# Most files hold one provider: when every record starts with the first one's
# text up to "EventID": (and that text matches _PROVIDER), match only the rest.
_PROVIDER_ONLY = re.compile(_PROVIDER)
_REST_ONLY = re.compile(_REST, re.DOTALL)
_ID_LEVEL = re.compile(r'(\d+),"Version":[^,]*,"Level":(\d+)')
_COMPUTER = '","Computer":"'
# a None match (a record out of shape) raises TypeError here
_GROUPS: Callable[[Any], tuple] = re.Match.groups
_RECORD_ID = itemgetter("event_record_id")
_DATA = itemgetter("data")


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


def _collect(records) -> tuple[list, list[tuple[int, str]]]:
    """All records pyevtx-rs yields, in order, and its failures.

    ``list.extend`` is the cheap path: a record that fails raises out of it,
    the records before it kept, and iteration resumes on the same iterator.
    Each failure is kept as (records read before it, message); reading stops
    after 20 failures with no record in between, as `_replay` would have
    stopped by then too.
    """
    recs: list = []
    fails: list[tuple[int, str]] = []
    run = 0
    while True:
        try:
            recs.extend(records)  # keeps what it read when the iterator raises
            break
        except Exception as exc:  # one bad record/chunk: note it, keep going
            run = run + 1 if fails and fails[-1][0] == len(recs) else 1
            fails.append((len(recs), str(exc)))
            if run >= MAX_CONSECUTIVE_FAILURES:
                break
    return recs, fails


def _fields(texts: list[str]) -> list | None:
    """Columns (provider, kinds, stamp, channel, computer, event_data) of all
    records by `_BODY`, or None when any record is out of its shape. Kinds are
    the distinct (EventID, Level) pairs as ints and each record's index into
    them; the rest the record's text."""
    if not texts:
        return []
    first = texts[0]
    head = _PROVIDER_ONLY.match(first, len(_HEAD)) if first.startswith(_HEAD) else None
    try:  # a record out of shape gives a None match, which has no groups
        if head and all(map(str.startswith, texts, repeat(first[: head.end()]))):
            matches = map(_REST_ONLY.match, texts, repeat(head.end()))
            id_levels, stamps, places, event_data = zip(
                *map(_GROUPS, matches), strict=True
            )
            providers: Any = (head[1],) * len(texts)
        elif all(map(str.startswith, texts, repeat(_HEAD))):
            matches = map(_BODY.match, texts, repeat(len(_HEAD)))
            providers, id_levels, stamps, places, event_data = zip(
                *map(_GROUPS, matches), strict=True
            )
        else:
            return None
    except TypeError:
        return None
    # Each distinct compound split once, as the regex's own groups would: the
    # rows' (event_id, level) kinds, factorised (`EventRows.kinds`).
    position = {v: i for i, v in enumerate(set(id_levels))}
    kinds = [
        tuple(map(int, _ID_LEVEL.fullmatch(v).groups()))  # type: ignore[union-attr]
        for v in position
    ]
    split = {v: v.split(_COMPUTER, 1) for v in set(places)}
    if any("\\" in s for s in {*providers, *(c for cc in split.values() for c in cc)}):
        return None
    if len(split) == 1:  # one channel and computer (the usual file)
        ((channel, computer),) = split.values()
        channels, computers = [channel] * len(texts), [computer] * len(texts)
    else:
        channels = [split[v][0] for v in places]
        computers = [split[v][1] for v in places]
    return [
        providers,
        (kinds, list(map(position.__getitem__, id_levels))),
        stamps,
        channels,
        computers,
        event_data,
    ]


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
    recs, fails = _collect(records)
    texts = list(map(_DATA, recs))
    columns = _fields(texts)
    if columns is None or fails:
        return _replay(recs, texts, fails)
    raw = rows.raw
    if columns:
        provider, kinds, stamp, channel, computer, event_data = columns
        raw["channel"] = channel
        raw["provider"] = provider
        rows.kinds = kinds
        raw["computer"] = computer
        raw["event_data"] = (  # `in` finds no null record faster than a walk
            [None if d == "null" else d for d in event_data]
            if "null" in event_data
            else event_data
        )
        try:
            raw["record_id"] = list(map(_RECORD_ID, recs))
        except KeyError:
            raw["record_id"] = [rec.get("event_record_id") for rec in recs]
        raw["ts_utc"] = (
            stamp
            if "" not in stamp
            else [s or rec.get("timestamp") for s, rec in zip(stamp, recs, strict=True)]
        )
        raw["message"] = [None] * len(recs)
    return ParseResult(rows.table(), [], 0)


def _replay(recs: list, texts: list[str], fails: list[tuple[int, str]]) -> ParseResult:
    """Record by record (`_fast`, else `_slow`) with the read failures put back
    in place: warnings, skips and the 20-failures stop as a streaming read."""
    rows = EventRows("evtx")
    raw = rows.raw
    channel, provider, event_id, record_id, ts_utc, level, computer, event_data = (
        raw[name].append for name in EventRows.RAW[:8]
    )
    damage = Damage()
    n = f = 0
    for i in range(len(recs) + 1):
        while f < len(fails) and fails[f][0] == i:
            n += 1
            f += 1
            if damage.fail(n, "evtx record unreadable", fails[f - 1][1]):
                return _result(rows, damage)
        if i == len(recs):
            break
        n += 1
        rec, text = recs[i], texts[i]
        fields = _fast(text)
        if fields is None:
            try:
                fields = _slow(text, loads(text)["Event"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                if damage.fail(n, f"record JSON unusable: {exc}", text):
                    return _result(rows, damage)
                continue
        damage.ok()
        channel(fields[0])
        provider(fields[1])
        event_id(fields[2])
        record_id(rec.get("event_record_id"))
        ts_utc(fields[3] or rec.get("timestamp"))
        level(fields[4])
        computer(fields[5])
        event_data(fields[6])
    return _result(rows, damage)


def _result(rows: EventRows, damage: Damage) -> ParseResult:
    messages = rows.raw["message"]
    messages.extend([None] * (len(rows) - len(messages)))
    return ParseResult(rows.table(), damage.warnings, damage.skipped)


PARSER = Parser(
    name="evtx",
    description="Windows event log (.evtx) records, via pyevtx-rs",
    table="events",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
    derives=(Derivation("*", "esp_events"),),
)
