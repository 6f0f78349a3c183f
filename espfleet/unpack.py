"""Bundle files -> members, opening CAB and ZIP archives (nested ones too).

libarchive reads MSZIP and LZX CABs (every real mdmdiagnosticstool CAB is LZX)
and ZIPs, streaming from memory. Member names are checked before anything uses
them: libarchive turns ``..\\..\\x`` into ``../../x`` (docs/formats.md §5.3), so
absolute and parent-relative names are refused, and sizes are capped against
archive bombs.
A damaged archive raises `BundleError`; the flow quarantines the bundle.
"""

from __future__ import annotations

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


def read_archive(name: str, data: bytes) -> dict[str, bytes]:
    """The files inside one archive (not recursing), by their inner names.

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
    except ArchiveError as error:
        raise BundleError(f"{name}: unreadable archive: {_short(error)}") from error
    if not members:
        raise BundleError(f"{name}: archive holds no files")
    return members


def _short(error: ArchiveError) -> str:
    text = str(error)
    return text.split(" (errno=")[0]


def unpack(files: dict[str, bytes], depth: int = 0) -> dict[str, bytes]:
    """Every member of a bundle, archives opened recursively.

    Archive members are named ``<archive>/<inner name>``; loose files keep their
    names. The archives themselves are not returned as members.

    Raises:
        BundleError: an archive at any depth cannot be read.
    """
    members: dict[str, bytes] = {}
    for name, data in files.items():
        if _is_archive(name, data):
            if depth >= MAX_DEPTH:
                raise BundleError(f"{name}: archives nested deeper than {MAX_DEPTH}")
            inner = unpack(read_archive(name, data), depth + 1)
            members.update({f"{name}/{k}": v for k, v in inner.items()})
        elif name.lower().endswith(ARCHIVE_SUFFIXES) and depth == 0:
            raise BundleError(f"{name}: not a CAB/ZIP (bad signature)")
        else:
            members[name] = data
    return members
