"""Bundle files -> members, opening CAB and ZIP archives (nested ones too).

libarchive reads MSZIP and LZX CABs (every real mdmdiagnosticstool CAB is LZX)
and ZIPs, streaming from memory. Member names are checked before anything uses
them: libarchive turns ``..\\..\\x`` into ``../../x`` (docs/formats.md §5.3), so
absolute and parent-relative names are refused, and sizes are capped against
archive bombs.
A damaged archive raises `BundleError`; the flow quarantines the bundle.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

import libarchive
from libarchive.exception import ArchiveError

ARCHIVE_SUFFIXES = (".cab", ".zip")
MAX_DEPTH = 3
MAX_MEMBER_BYTES = 1 << 30
MAX_BUNDLE_BYTES = 4 << 30


class BundleError(Exception):
    """A bundle that cannot be read: the reason goes to the quarantine."""


def _is_archive(name: str, data: bytes) -> bool:
    lower = name.lower()
    if lower.endswith(".cab"):
        return data[:4] == b"MSCF"
    if lower.endswith(".zip"):
        return data[:2] == b"PK"
    return False


def _safe_name(name: str) -> str | None:
    clean = name.replace("\\", "/")
    parts = PurePosixPath(clean).parts
    if not parts or clean.startswith("/") or ".." in parts or ":" in parts[0]:
        return None
    return "/".join(p for p in parts if p not in ("", "."))


def _written_at(mtime: float | None) -> datetime | None:
    """A member's stored time as the naive wall-clock time the archive holds.

    CAB and ZIP members carry MS-DOS local times; libarchive turns them into an
    epoch through this process's local zone, so the same zone turns them back.
    """
    if mtime is None:
        return None
    return datetime.fromtimestamp(mtime)


def read_archive(
    name: str, data: bytes, written_at: dict[str, datetime] | None = None
) -> dict[str, bytes]:
    """The files inside one archive (not recursing), by their inner names.

    Args:
        name: the archive's name (for messages).
        data: its bytes.
        written_at: when given, receives each member's stored time (naive local
            time for CAB and ZIP members, docs/formats.md §8.3).

    Raises:
        BundleError: the archive is truncated, corrupt, or breaks a limit.
    """
    members: dict[str, bytes] = {}
    total = 0
    try:
        with libarchive.memory_reader(data) as archive:
            for entry in archive:
                if not entry.isfile:
                    continue
                inner = _safe_name(entry.pathname or "")
                if inner is None:
                    raise BundleError(f"{name}: unsafe member name {entry.pathname!r}")
                chunks = []
                size = 0
                for block in entry.get_blocks():
                    size += len(block)
                    if size > MAX_MEMBER_BYTES:
                        raise BundleError(f"{name}: member {inner} exceeds 1 GiB")
                    chunks.append(block)
                total += size
                if total > MAX_BUNDLE_BYTES:
                    raise BundleError(f"{name}: more than 4 GiB unpacked")
                members[inner] = b"".join(chunks)
                if written_at is not None and (when := _written_at(entry.mtime)):
                    written_at[inner] = when
    except ArchiveError as error:
        raise BundleError(f"{name}: unreadable archive: {_short(error)}") from error
    if not members:
        raise BundleError(f"{name}: archive holds no files")
    return members


def _short(error: ArchiveError) -> str:
    text = str(error)
    return text.split(" (errno=")[0]


def unpack(
    files: dict[str, bytes],
    depth: int = 0,
    written_at: dict[str, datetime] | None = None,
) -> dict[str, bytes]:
    """Every member of a bundle, archives opened recursively.

    Archive members are named ``<archive>/<inner name>``; loose files keep their
    names. The archives themselves are not returned as members.

    Args:
        files: the bundle's files by name.
        depth: nesting depth of `files` (0 for a bundle's own files).
        written_at: when given, receives the stored time of every archive
            member, by member name (loose files have none).

    Raises:
        BundleError: an archive at any depth cannot be read.
    """
    members: dict[str, bytes] = {}
    for name, data in files.items():
        if _is_archive(name, data):
            if depth >= MAX_DEPTH:
                raise BundleError(f"{name}: archives nested deeper than {MAX_DEPTH}")
            times: dict[str, datetime] = {}
            inner_files = read_archive(name, data, times)
            inner = unpack(inner_files, depth + 1, times)
            members.update({f"{name}/{k}": v for k, v in inner.items()})
            if written_at is not None:
                written_at.update({f"{name}/{k}": v for k, v in times.items()})
        elif name.lower().endswith(ARCHIVE_SUFFIXES) and depth == 0:
            raise BundleError(f"{name}: not a CAB/ZIP (bad signature)")
        else:
            members[name] = data
    return members
