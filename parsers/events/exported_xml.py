"""Exported event XML: `wevtutil qe /f:xml` streams and Event Viewer "Save as XML".

`wevtutil qe /f:xml` prints ``<Event xmlns=...>`` elements back to back with no
root and no declaration; Event Viewer wraps them in ``<Events>``
(docs/formats.md §7.3). Files are UTF-16LE with BOM (PowerShell 5.1
redirection) or UTF-8.

Each ``<Event>...</Event>`` is cut out and parsed on its own with defusedxml
(no DTD, no entity expansion, no external references): a DOCTYPE is never
honoured, and an event that uses an undeclared entity is skipped with a warning
while the others are kept. Times are the UTC ``SystemTime`` (7 fractional
digits, truncated to microseconds).

Where each column comes from (`schema.EVENTS` declares what it means):
    source_format: always ``xml``.
    channel, provider, event_id, record_id, level, computer: from ``<System>``.
    ts_utc: ``TimeCreated@SystemTime``.
    event_data: EventData as a JSON object (``<Data Name=...>`` -> key; unnamed
        items -> ``{"Data": [...]}``) or UserData as nested objects; values are
        strings (XML carries no types, unlike .evtx).
    name, value: the 62407 Name and Value.
    message: ``RenderingInfo/Message`` when the export has it.
    meaning, error_code, error_code_hex: as for .evtx (`events.rows`, `events.codes`).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .. import schema, textdecode
from ..base import (
    Damage,
    Derivation,
    ParseContext,
    Parser,
    ParseResult,
)
from .evtx import MAGIC as EVTX_MAGIC
from .rows import EventRows, parse_iso_utc

SCHEMA = schema.EVENTS
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
_EVENT = re.compile(r"<Event[\s>].*?</Event\s*>", re.S)


def sniff(head: bytes, name: str = "") -> bool:
    """True for text that holds ``<Event xmlns='...events/event'>`` elements."""
    if head[:8] == EVTX_MAGIC:
        return False
    text = textdecode.decode_head(head[:65536]).text
    if "\x00" in text[:4096]:
        return False
    return bool(re.search(r"<Event\s+xmlns\s*=\s*['\"]" + re.escape(EVENT_NS), text))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(elem: Element | None, name: str) -> Element | None:
    if elem is None:
        return None
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _text(elem: Element | None) -> str | None:
    return None if elem is None else (elem.text or "").strip() or None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _tree(elem: Element):
    """UserData subtree -> nested dict (leaf -> its text)."""
    kids = list(elem)
    if not kids:
        return elem.text or ""
    return {_local(k.tag): _tree(k) for k in kids}


def _event_data(event: Element) -> dict | None:
    data = _child(event, "EventData")
    if data is not None:
        named: dict = {}
        unnamed: list = []
        for item in data:
            tag = _local(item.tag)
            key = item.get("Name")
            if tag == "Data" and key:
                named[key] = item.text or ""
            elif tag == "Data":
                unnamed.append(item.text or "")
            else:  # Binary, ComplexData
                named[tag] = item.text or ""
        if unnamed:
            named["Data"] = unnamed
        return named
    user = _child(event, "UserData")
    if user is not None and len(user):
        return {_local(user[0].tag): _tree(user[0])}
    return None


def _add(rows: EventRows, event: Element) -> None:
    system = _child(event, "System")
    provider = _child(system, "Provider")
    created = _child(system, "TimeCreated")
    rendering = _child(event, "RenderingInfo")
    stamp = created.get("SystemTime") if created is not None else None
    rows.add(
        channel=_text(_child(system, "Channel")),
        provider=provider.get("Name") if provider is not None else None,
        event_id=_int(_text(_child(system, "EventID"))),
        record_id=_int(_text(_child(system, "EventRecordID"))),
        ts_utc=parse_iso_utc(stamp),
        level=_int(_text(_child(system, "Level"))),
        computer=_text(_child(system, "Computer")),
        event_data=_event_data(event),
        message=_text(_child(rendering, "Message")),
    )


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """Parse an exported event XML file (with or without a root element).

    Args:
        data: the file's bytes (UTF-16LE/UTF-8, BOM or not).
        context: unused (times are UTC).

    Returns:
        `events` rows, warnings and the number of events skipped.
    """
    rows = EventRows("xml")
    damage = Damage()
    decoded = textdecode.decode(data)
    text = decoded.text
    if loss := textdecode.loss_warning(decoded):
        damage.warn(None, loss)
    if "<!DOCTYPE" in text[:4096] or "<!ENTITY" in text:
        damage.warn(1, "DTD ignored (entities never expanded)")
    for m in _EVENT.finditer(text):
        try:
            event = fromstring(
                m.group(0), forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except (ParseError, DefusedXmlException, ValueError) as exc:
            line = text.count("\n", 0, m.start()) + 1
            if damage.fail(line, f"event XML rejected: {exc}", m[0]):
                break
            continue
        damage.ok()
        if _local(event.tag) == "Event":
            _add(rows, event)
    if not len(rows) and not damage.skipped:
        damage.warn(None, "no <Event> elements found", text[:80])
    return ParseResult(rows.table(), damage.warnings, damage.skipped)


PARSER = Parser(
    name="eventxml",
    description="Event XML exported by wevtutil /f:xml or Event Viewer (Save as XML)",
    table="events",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
    derives=(Derivation("*", "esp_events"),),
)
