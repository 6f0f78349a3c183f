"""Write genuine Windows .evtx files (event log format 3.2) for the fleet simulator.

Records have the shape Windows gives them (docs/formats.md §3.7.8): a fragment
header and a TemplateInstance of a "System" template whose 18 substitution values
carry the System fields, value 17 being a nested BinXml fragment: a
TemplateInstance of an "EventData" template with one ``<Data Name="k">`` element
per data item, filled by normal string substitutions. Templates and names are
defined inline in the first record of each 64 KiB chunk that uses them and
referenced afterwards, so a record costs little more than its values. Any
provider, channel, event id or Data names may be mixed in one file.

Limits (the format's, docs/formats.md §3.7.10): a record must fit in an empty
chunk (65024 bytes including ~1.5 KB of template definitions), so the Data values
of one event total at most about 31,600 UTF-16 units; ``write_evtx`` raises
ValueError otherwise. Readers cut a string at its first NUL character, so values
should not contain "\\x00".
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache

from .binxml import (
    FRAGMENT_HEADER,
    T_BINXML,
    T_FILETIME,
    T_GUID,
    T_HEXINT64,
    T_NULL,
    T_SID,
    T_STRING,
    T_UINT8,
    T_UINT16,
    T_UINT32,
    T_UINT64,
    ChunkState,
    Elem,
    Lit,
    Sub,
    guid_bytes,
    sid_bytes,
    template_instance,
)

SHELLCORE_PROVIDER = "Microsoft-Windows-Shell-Core"
SHELLCORE_GUID = "{30336ED4-E327-447C-9DE0-51B652C86108}"
SHELLCORE_CHANNEL = "Microsoft-Windows-Shell-Core/Operational"
# Every real 62407 in the public samples carries these keywords
# (docs/formats.md §3.7.8).
SHELLCORE_62407_KEYWORDS = 0x2000000800010000

CHUNK_SIZE = 65536
FILE_HEADER_SIZE = 4096
CHUNK_HEADER_SIZE = 512
MAX_RECORD_SIZE = CHUNK_SIZE - CHUNK_HEADER_SIZE
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"

_EPOCH_1601 = datetime(1601, 1, 1, tzinfo=UTC)
_RECORD_HEAD = struct.Struct("<IIQQ")  # magic, size, record id, written FILETIME
_FIXED_VALUES = struct.Struct("<BBHHQQIIQB")  # values 0-3, 5, 6, 8-11 (4, 7 null)
_U32 = struct.Struct("<I")
_DESCRIPTOR = struct.Struct("<HBB")


@dataclass(frozen=True)
class EventRecord:
    """One event to write; System fields default to a Shell-Core event."""

    event_id: int
    ts_utc: datetime  # timezone-aware; stored as FILETIME (100 ns, so µs exact)
    data: Sequence[tuple[str, str]]  # EventData <Data Name=k>v</Data>, in order
    provider: str = SHELLCORE_PROVIDER
    provider_guid: str = SHELLCORE_GUID
    channel: str = SHELLCORE_CHANNEL
    level: int = 4  # 4 Information, 3 Warning, 2 Error
    task: int = 0
    opcode: int = 0
    keywords: int = SHELLCORE_62407_KEYWORDS
    computer: str = "DESKTOP-0000000"
    process_id: int = 0
    thread_id: int = 0
    user_sid: str | None = "S-1-5-18"
    version: int = 0


def shellcore_62407(ts_utc: datetime, name: str, value: str, **kw) -> EventRecord:
    """Shell-Core 'CloudExperienceHost Web App Event 2' with Data Name/Value.

    Args:
        ts_utc: event time, timezone-aware.
        name: the ``Name`` data item (e.g. "ESPProgress_...").
        value: the ``Value`` data item (often JSON text).
        **kw: any other EventRecord field (computer, process_id, user_sid, ...).

    Returns:
        An EventRecord with event id and task 62407, like the real event.
    """
    record = EventRecord(
        event_id=62407, ts_utc=ts_utc, data=(("Name", name), ("Value", value))
    )
    return replace(record, **{"task": 62407, **kw})


def _system_root(computer: str) -> Elem:
    """The System template body Windows uses, dependency ids too.

    See docs/formats.md §3.7.8.
    """
    s = Sub
    leaf = {
        "Version": (11, T_UINT8),
        "Level": (0, T_UINT8),
        "Task": (2, T_UINT16),
        "Opcode": (1, T_UINT8),
        "Keywords": (5, T_HEXINT64),
    }
    children = [
        Elem(
            "Provider",
            attrs=(("Name", s(14, T_STRING)), ("Guid", s(15, T_GUID))),
        ),
        Elem(
            "EventID",
            dep=3,
            attrs=(("Qualifiers", s(4, T_UINT16)),),
            content=(s(3, T_UINT16),),
        ),
        *(Elem(n, dep=i, content=(s(i, t),)) for n, (i, t) in leaf.items()),
        Elem("TimeCreated", attrs=(("SystemTime", s(6, T_FILETIME)),)),
        Elem("EventRecordID", dep=10, content=(s(10, T_UINT64),)),
        Elem(
            "Correlation",
            attrs=(("ActivityID", s(7, T_GUID)), ("RelatedActivityID", s(13, T_GUID))),
        ),
        Elem(
            "Execution",
            attrs=(("ProcessID", s(8, T_UINT32)), ("ThreadID", s(9, T_UINT32))),
        ),
        Elem("Channel", dep=16, content=(s(16, T_STRING),)),
        # Windows bakes the computer name into the template as literal text.
        Elem("Computer", content=(Lit(computer),)),
        Elem("Security", attrs=(("UserID", s(12, T_SID)),)),
    ]
    return Elem(
        "Event",
        dep=17,
        attrs=(("xmlns", Lit(EVENT_NS)),),
        content=(Elem("System", content=tuple(children)), s(17, T_BINXML)),
    )


def _event_data_root(names: tuple[str, ...]) -> Elem:
    """The EventData template body: one Data element per name (normal subs)."""
    if not names:
        return Elem("EventData")
    return Elem(
        "EventData",
        content=tuple(
            Elem("Data", attrs=(("Name", Lit(n)),), content=(Sub(i, T_STRING, False),))
            for i, n in enumerate(names)
        ),
    )


@lru_cache(maxsize=1024)
def _static_values(
    provider: str, provider_guid: str, channel: str, user_sid: str | None
) -> tuple[bytes, bytes, bytes]:
    """Count + descriptors 0-16, SID bytes, and values 14-16 (constant per source)."""
    sid = sid_bytes(user_sid) if user_sid else b""
    provider_b = provider.encode("utf-16-le")
    channel_b = channel.encode("utf-16-le")
    guid = guid_bytes(provider_guid)
    descriptors = [
        (1, T_UINT8),
        (1, T_UINT8),
        (2, T_UINT16),
        (2, T_UINT16),
        (0, T_NULL),  # Qualifiers
        (8, T_HEXINT64),
        (8, T_FILETIME),
        (0, T_NULL),  # ActivityID
        (4, T_UINT32),
        (4, T_UINT32),
        (8, T_UINT64),
        (1, T_UINT8),
        (len(sid), T_SID if sid else T_NULL),
        (0, T_NULL),  # RelatedActivityID
        (len(provider_b), T_STRING),
        (16, T_GUID),
        (len(channel_b), T_STRING),
    ]
    head = _U32.pack(18) + b"".join(_DESCRIPTOR.pack(n, t, 0) for n, t in descriptors)
    return head, sid, provider_b + guid + channel_b


def _filetime(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError(f"ts_utc must be timezone-aware, got naive {ts!r}")
    delta = ts - _EPOCH_1601
    return ((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds) * 10


def _event_data(state: ChunkState, data: Sequence[tuple[str, str]], at: int) -> bytes:
    """Value 17: fragment header + EventData TemplateInstance + values + EOF."""
    names = tuple(k for k, _ in data)
    key = ("EventData", names)
    root = None if key in state.templates else _event_data_root(names)
    instance = template_instance(state, key, root, at + 4)
    encoded = [v.encode("utf-16-le") for _, v in data]
    sizes = [len(e) for e in encoded]
    if sizes and max(sizes) > 0xFFFF:
        raise ValueError("a Data value exceeds 32767 UTF-16 units (format limit)")
    descriptors = struct.pack(
        "<I" + "HBB" * len(sizes), len(sizes), *(x for n in sizes for x in (n, 1, 0))
    )
    return b"".join((FRAGMENT_HEADER, instance, descriptors, *encoded, b"\x00"))


def _encode_record(
    state: ChunkState, rec: EventRecord, record_id: int, offset: int
) -> bytes:
    """One whole record (header, BinXML, padding to 8, size copy) at ``offset``."""
    binxml_at = offset + 24
    key = ("System", rec.computer)
    root = None if key in state.templates else _system_root(rec.computer)
    instance = template_instance(state, key, root, binxml_at + 4)
    head, sid, tail = _static_values(
        rec.provider, rec.provider_guid, rec.channel, rec.user_sid
    )
    filetime = _filetime(rec.ts_utc)
    try:
        fixed = _FIXED_VALUES.pack(
            rec.level,
            rec.opcode,
            rec.task,
            rec.event_id,
            rec.keywords,
            filetime,
            rec.process_id,
            rec.thread_id,
            record_id,
            rec.version,
        )
    except struct.error as exc:  # e.g. event_id > 65535, level > 255
        raise ValueError(f"record {record_id}: a System field is out of range") from exc
    # Value 17 starts after the instance, 18 descriptors and values 0-16.
    data_at = binxml_at + 4 + len(instance) + len(head) + 4 + len(fixed)
    data_at += len(sid) + len(tail)
    event_data = _event_data(state, rec.data, data_at)
    if len(event_data) > 0xFFFF:
        raise ValueError("EventData exceeds 65535 bytes (format limit)")
    size = 24 + 4 + len(instance) + len(head) + 4 + len(fixed) + len(sid)
    size += len(tail) + len(event_data) + 1 + 4
    padding = -size % 8
    size += padding
    return b"".join(
        (
            _RECORD_HEAD.pack(0x00002A2A, size, record_id, filetime),
            FRAGMENT_HEADER,
            instance,
            head,
            _DESCRIPTOR.pack(len(event_data), T_BINXML, 0),
            fixed,
            sid,
            tail,
            event_data,
            bytes(1 + padding),  # EOF token, then zero padding
            _U32.pack(size),
        )
    )


def _finish_chunk(
    state: ChunkState, records: list[bytes], first_id: int, last_offset: int
) -> bytes:
    """A whole 64 KiB chunk; CRCs computed last, over final bytes.

    See docs/formats.md §3.7.3.
    """
    body = b"".join(records)
    free = CHUNK_HEADER_SIZE + len(body)
    if records:
        last_id = first_id + len(records) - 1
        ids = (first_id, last_id, first_id, last_id)
    else:  # an empty log's chunk, as Windows writes it
        ids = (first_id, 2**64 - 1, 2**64 - 1, 2**64 - 1)
    header = bytearray(CHUNK_HEADER_SIZE)
    header[0:8] = b"ElfChnk\x00"
    struct.pack_into("<4Q4I", header, 8, *ids, 128, last_offset, free, zlib.crc32(body))
    struct.pack_into("<I", header, 120, 1)  # Windows sets flag 1 on every chunk
    struct.pack_into("<64I", header, 128, *state.name_heads)
    struct.pack_into("<32I", header, 384, *state.template_heads)
    crc = zlib.crc32(header[128:], zlib.crc32(header[:120]))
    struct.pack_into("<I", header, 124, crc)
    return b"".join((header, body, bytes(CHUNK_SIZE - free)))


def _file_header(chunk_count: int, next_record_id: int) -> bytes:
    header = bytearray(FILE_HEADER_SIZE)
    struct.pack_into(
        "<8sQQQIHHHH",
        header,
        0,
        b"ElfFile\x00",
        0,
        chunk_count - 1,
        next_record_id,
        128,
        2,  # minor: 3.2 as Windows 10 2004+ writes it
        3,
        FILE_HEADER_SIZE,
        chunk_count,
    )
    struct.pack_into("<I", header, 124, zlib.crc32(header[:120]))
    return bytes(header)


def write_evtx(records: Sequence[EventRecord], first_record_id: int = 1) -> bytes:
    """A whole .evtx file: header + as many 64 KiB chunks as needed.

    Args:
        records: events in the order they should get record ids.
        first_record_id: EventRecordID of the first record; the rest follow on.

    Returns:
        The file bytes: chunk CRCs and the header CRC are set, record ids are
        consecutive, and no record spans chunks. With no records the file holds
        one empty chunk, as an empty Windows log does.

    Raises:
        ValueError: a timestamp is naive, a System field is out of its type's
            range (event id/task u16, level/opcode/version u8), or a record
            cannot fit in a chunk.
    """
    chunks: list[bytes] = []
    state = ChunkState()
    pending: list[bytes] = []
    chunk_first_id = first_record_id
    offset = CHUNK_HEADER_SIZE
    last_offset = 0
    for number, rec in enumerate(records):
        record_id = first_record_id + number
        encoded = _encode_record(state, rec, record_id, offset)
        if offset + len(encoded) > CHUNK_SIZE:
            state.rollback()
            if not pending:
                raise ValueError(
                    f"record {record_id} needs {len(encoded)} bytes; a chunk holds "
                    f"{MAX_RECORD_SIZE}"
                )
            chunks.append(_finish_chunk(state, pending, chunk_first_id, last_offset))
            state, pending, chunk_first_id = ChunkState(), [], record_id
            offset = CHUNK_HEADER_SIZE
            encoded = _encode_record(state, rec, record_id, offset)
            if offset + len(encoded) > CHUNK_SIZE:
                raise ValueError(
                    f"record {record_id} needs {len(encoded)} bytes; a chunk holds "
                    f"{MAX_RECORD_SIZE}"
                )
        state.commit()
        pending.append(encoded)
        last_offset = offset
        offset += len(encoded)
    if pending or not chunks:
        chunks.append(_finish_chunk(state, pending, chunk_first_id, last_offset))
    if len(chunks) > 0xFFFF:
        raise ValueError(f"{len(chunks)} chunks exceed the header's u16 count")
    next_id = first_record_id + len(records)
    return b"".join((_file_header(len(chunks), next_id), *chunks))
