"""The event channels of a real-size CAB: filler records, real file sizes.

Every channel of the 2024 collection (`real_cab.CHANNELS`) is written with the
project's own EVTX writer: as many records as the samples show for it, of the
informational kinds they show most, stamped in a window before the collection
(`Window`), the file padded with zero chunks to the size an exported log has
(`real_cab.evtx_allocation`). The two channels that carry evidence
(Shell-Core, ModernDeployment Autopilot) keep the scenario's records first:
filler records are appended after them, later in time, so record order and
the evidence's record ids stay as the scenario wrote them.
"""

from __future__ import annotations

import io
import random
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .evtx_writer import CHUNK_SIZE, FILE_HEADER_SIZE, EventRecord, write_evtx
from .evtx_writer import _file_header as file_header
from .real_cab import Channel, draw_records, evtx_allocation

NULL_GUID = "{00000000-0000-0000-0000-000000000000}"
_LOGS = {
    "operational": "Operational",
    "admin": "Admin",
    "autopilot": "Autopilot",
    "diagnostics": "Diagnostics",
    "managementservice": "ManagementService",
    "debug": "Debug",
}
_PREFIX = {  # channel names that differ from their provider's
    "appxdeploymentserver": "Microsoft-Windows-AppXDeploymentServer",
    "assignedaccess": "Microsoft-Windows-AssignedAccess",
    "assignedaccessbroker": "Microsoft-Windows-AssignedAccessBroker",
}
_WORDS = (
    "Microsoft",
    "Windows",
    "Enrollment",
    "Provisioning",
    "Policy",
    "Device",
    "Session",
    "Account",
    "Package",
    "Store",
    "Sync",
    "Manager",
    "Client",
    "Service",
    "Config",
    "Update",
)
# No two records of one event id closer than this on average (the event_floods
# report counts 50 within 10 s as a flood; filler must not make one).
MIN_GAP_S = 15.0


@dataclass(frozen=True)
class Window:
    """When filler records may be stamped: true UTC, as the device clock read it."""

    start: datetime
    end: datetime


def channel_name(stem: str, channel: Channel) -> str:
    """``Microsoft-Windows-AAD/Operational`` for the file stem ``aad-operational``."""
    head, _, log = stem.rpartition("-")
    prefix = _PREFIX.get(head, channel.provider)
    return f"{prefix}/{_LOGS.get(log, log.title())}"


# Data names whose values the events parser reads as error codes: written 0.
_CODE_NAMES = re.compile(r"(?i)^(hresult\d*|hr|errorcode|error|result|status)$")


def _text(rng: random.Random, field: str) -> str:
    if _CODE_NAMES.match(field):
        return "0"
    words = rng.choices(_WORDS, k=rng.randint(2, 14))
    return " ".join(words) + f" {rng.getrandbits(32):08x}"


def _times(window: Window, count: int, rng: random.Random) -> list[datetime]:
    span = (window.end - window.start).total_seconds()
    return sorted(
        window.start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count)
    )


def filler_records(
    stem: str,
    channel: Channel,
    count: int,
    window: Window,
    computer: str,
    rng: random.Random,
) -> list[EventRecord]:
    """`count` informational records of `channel` in time order inside `window`."""
    if not channel.events:
        return []
    span = (window.end - window.start).total_seconds()
    count = min(count, int(span / MIN_GAP_S) * len(channel.events))
    name = channel_name(stem, channel)
    guid = channel.guid or NULL_GUID
    pid, tid = rng.randint(900, 9000), rng.randint(900, 9000)
    records = []
    for at in _times(window, count, rng):
        event_id, level, fields = rng.choice(channel.events)
        data = tuple((f, _text(rng, f)) for f in fields)
        records.append(
            EventRecord(
                event_id,
                at,
                data,
                provider=channel.provider,
                provider_guid=guid,
                channel=name,
                level=level,
                keywords=0x8000000000000000,
                computer=computer,
                process_id=pid,
                thread_id=tid,
            )
        )
    return records


def pad(data: bytes) -> bytes:
    """An .evtx padded with zero chunks to the size Windows exports it at."""
    used = (len(data) - FILE_HEADER_SIZE) // CHUNK_SIZE
    return data + bytes(evtx_allocation(used) - len(data))


def channel_file(
    stem: str, channel: Channel, window: Window, computer: str, rng: random.Random
) -> bytes:
    """One whole filler channel file, at its real size."""
    count = draw_records(channel, rng)
    return pad(write_evtx(filler_records(stem, channel, count, window, computer, rng)))


def last_record_time(data: bytes) -> datetime | None:
    """The TimeCreated of the last record of a writer-made .evtx (None if empty)."""
    from evtx import PyEvtxParser  # the parsers' reader; only needed here

    last: str | None = None
    for record in PyEvtxParser(io.BytesIO(data)).records():
        if record is not None:
            last = str(record["timestamp"])
    if last is None:
        return None
    # "2024-11-14T16:16:37.3244819Z UTC": to the second, one second later
    at = datetime.strptime(last[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return at + timedelta(seconds=1)


def extend(
    evidence: bytes,
    stem: str,
    channel: Channel,
    window: Window,
    computer: str,
    rng: random.Random,
) -> bytes:
    """The scenario's channel file with filler records appended, at real size.

    The evidence's chunks come first, unchanged; the filler's chunks follow
    with record ids continuing from the evidence's next record id; the header
    counts both.
    """
    next_id = struct.unpack_from("<Q", evidence, 24)[0]
    chunks = struct.unpack_from("<H", evidence, 42)[0]
    count = max(0, draw_records(channel, rng) - (next_id - 1))
    records = filler_records(stem, channel, count, window, computer, rng)
    if not records:
        return pad(evidence)
    filler = write_evtx(records, first_record_id=next_id)
    more = (len(filler) - FILE_HEADER_SIZE) // CHUNK_SIZE
    body = evidence[FILE_HEADER_SIZE : FILE_HEADER_SIZE + chunks * CHUNK_SIZE]
    header = file_header(chunks + more, next_id + len(records))
    return pad(header + body + filler[FILE_HEADER_SIZE:])
