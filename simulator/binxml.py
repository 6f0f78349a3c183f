"""BinXML building blocks for the EVTX writer: names, templates, value encodings.

Everything here follows docs/formats.md §3.7 (subsection numbers in comments).
Offsets are chunk-relative, so every definition is built for the exact chunk offset
where it will land. A :class:`ChunkState` remembers which names and templates a
chunk already holds, and can undo the ones a record registered if that record
turns out not to fit (docs/formats.md §3.7.10).
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

# Value types (docs/formats.md §3.7.7.6).
T_NULL = 0x00
T_STRING = 0x01
T_UINT8 = 0x04
T_UINT16 = 0x06
T_UINT32 = 0x08
T_UINT64 = 0x0A
T_GUID = 0x0F
T_FILETIME = 0x11
T_SID = 0x13
T_HEXINT64 = 0x15
T_BINXML = 0x21

NO_DEP = 0xFFFF
FRAGMENT_HEADER = b"\x0f\x01\x01\x00"

_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_INSTANCE = struct.Struct("<BBII")  # 0x0C, 0x01, template id, definition offset


@dataclass(frozen=True)
class Lit:
    """A literal UTF-16 string value token (docs/formats.md §3.7.7.4)."""

    text: str


@dataclass(frozen=True)
class Sub:
    """A substitution token: optional 0x0E or normal 0x0D (docs/formats.md §3.7.7.5)."""

    index: int
    vtype: int
    optional: bool = True


@dataclass(frozen=True)
class Elem:
    """An element of a template body (docs/formats.md §3.7.7.2).

    ``content`` None means an empty element closed with 0x03.
    """

    name: str
    dep: int = NO_DEP
    attrs: tuple[tuple[str, Lit | Sub], ...] = ()
    content: tuple[Elem | Lit | Sub, ...] | None = None


def name_hash(name: str) -> int:
    """The 16-bit name hash Windows stores (docs/formats.md §3.7.5)."""
    h = 0
    for unit in _U16.iter_unpack(name.encode("utf-16-le")):
        h = (h * 65599 + unit[0]) & 0xFFFFFFFF
    return h & 0xFFFF


@lru_cache(maxsize=4096)
def guid_bytes(text: str) -> bytes:
    """A GUID string (braces optional) as the 16 stored bytes (u32, u16, u16, 8)."""
    return uuid.UUID(text.strip("{}")).bytes_le


@lru_cache(maxsize=4096)
def sid_bytes(text: str) -> bytes:
    """A textual SID ("S-1-5-21-...") as type 0x13 bytes (docs/formats.md §3.7.7.6)."""
    parts = text.split("-")
    if len(parts) < 3 or parts[0].upper() != "S":
        raise ValueError(f"not a SID: {text!r}")
    revision, authority = int(parts[1]), int(parts[2])
    subs = [int(p) for p in parts[3:]]
    return (
        bytes((revision, len(subs)))
        + authority.to_bytes(6, "big")
        + struct.pack(f"<{len(subs)}I", *subs)
    )


def template_guid(key: object) -> bytes:
    """A stable 16-byte template GUID derived from the template key.

    Readers accept any 16 bytes (docs/formats.md §3.7.6); a digest keeps files
    reproducible.
    """
    return hashlib.md5(repr(key).encode("utf-8"), usedforsecurity=False).digest()


@dataclass
class ChunkState:
    """Names and templates defined so far in one chunk.

    See docs/formats.md §3.7.5, §3.7.6 and §3.7.12.
    """

    names: dict[str, int] = field(default_factory=dict)
    name_heads: list[int] = field(default_factory=lambda: [0] * 64)
    templates: dict[object, bytes] = field(default_factory=dict)  # key -> instance
    template_heads: list[int] = field(default_factory=lambda: [0] * 32)
    undo: list[tuple[str, object, int, int]] = field(default_factory=list)

    def commit(self) -> None:
        """Keep everything registered since the last commit."""
        self.undo.clear()

    def rollback(self) -> None:
        """Forget names/templates registered since the last commit (newest first)."""
        for kind, key, bucket, previous in reversed(self.undo):
            if kind == "name":
                del self.names[key]  # type: ignore[arg-type]
                self.name_heads[bucket] = previous
            else:
                del self.templates[key]
                self.template_heads[bucket] = previous
        self.undo.clear()


class _Fragment:
    """A growing BinXML buffer that knows its chunk offset (for name offsets)."""

    def __init__(self, state: ChunkState, base: int) -> None:
        self.state = state
        self.base = base
        self.buf = bytearray()

    def name(self, name: str) -> None:
        """A name reference, defined inline on first use (docs/formats.md §3.7.5)."""
        state = self.state
        offset = state.names.get(name)
        if offset is not None:
            self.buf += _U32.pack(offset)
            return
        offset = self.base + len(self.buf) + 4
        encoded = name.encode("utf-16-le")
        h = name_hash(name)
        bucket = h % 64
        previous = state.name_heads[bucket]
        self.buf += _U32.pack(offset)
        self.buf += struct.pack("<IHH", previous, h, len(encoded) // 2)
        self.buf += encoded + b"\x00\x00"
        state.names[name] = offset
        state.name_heads[bucket] = offset
        state.undo.append(("name", name, bucket, previous))

    def value(self, token: Lit | Sub) -> None:
        if isinstance(token, Lit):
            encoded = token.text.encode("utf-16-le")
            self.buf += b"\x05\x01" + _U16.pack(len(encoded) // 2) + encoded
        else:
            code = 0x0E if token.optional else 0x0D
            self.buf += struct.pack("<BHB", code, token.index, token.vtype)

    def element(self, elem: Elem) -> None:
        buf = self.buf
        buf += struct.pack("<BH", 0x41 if elem.attrs else 0x01, elem.dep)
        size_at = len(buf)
        buf += b"\x00\x00\x00\x00"
        self.name(elem.name)
        if elem.attrs:
            attr_size_at = len(buf)
            buf += b"\x00\x00\x00\x00"
            last = len(elem.attrs) - 1
            for i, (attr_name, token) in enumerate(elem.attrs):
                buf.append(0x46 if i < last else 0x06)
                self.name(attr_name)
                self.value(token)
            _U32.pack_into(buf, attr_size_at, len(buf) - attr_size_at - 4)
        if elem.content is None:
            buf.append(0x03)
        else:
            buf.append(0x02)
            for item in elem.content:
                if isinstance(item, Elem):
                    self.element(item)
                else:
                    self.value(item)
            buf.append(0x04)
        _U32.pack_into(buf, size_at, len(buf) - size_at - 4)


def template_instance(
    state: ChunkState, key: object, root: Elem | None, token_offset: int
) -> bytes:
    """The TemplateInstance token for ``key``, with the definition inline if new.

    Args:
        state: the chunk's names and templates.
        key: identifies the template within the chunk (same key, same body).
        root: the template's root element; only read when the key is new, so a
            caller may pass None after checking ``key in state.templates``.
        token_offset: chunk offset where the 0x0C token will be written.

    Returns:
        ``0C 01 id offset`` plus the 24-byte definition header and body when the
        template is defined here (docs/formats.md §3.7.6).
    """
    instance = state.templates.get(key)
    if instance is not None:
        return instance
    if root is None:
        raise KeyError(key)
    definition_offset = token_offset + 10
    body = _Fragment(state, definition_offset + 24)
    body.buf += FRAGMENT_HEADER
    body.element(root)
    body.buf.append(0x00)
    guid = template_guid(key)
    template_id = _U32.unpack_from(guid)[0]
    # Windows' bucket function is unknown; readers accept any bucket
    # (docs/formats.md §3.7.6).
    bucket = template_id % 32
    previous = state.template_heads[bucket]
    instance = _INSTANCE.pack(0x0C, 0x01, template_id, definition_offset)
    state.templates[key] = instance
    state.template_heads[bucket] = definition_offset
    state.undo.append(("template", key, bucket, previous))
    header = _U32.pack(previous) + guid + _U32.pack(len(body.buf))
    return instance + header + bytes(body.buf)
