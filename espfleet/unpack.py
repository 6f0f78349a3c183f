"""Bundle files -> members, opening CAB and ZIP archives (nested ones too).

libarchive reads MSZIP and LZX CABs (every real mdmdiagnosticstool CAB is LZX)
and ZIPs, streaming from memory. Member names are checked before anything uses
them: libarchive turns ``..\\..\\x`` into ``../../x`` (docs/formats.md §5.3), so
absolute and parent-relative names are refused.

Archive bombs are stopped by a budget per *bundle* (`Limits`), counted across
every archive of the bundle, nested ones included, and checked block by block
while libarchive decompresses, so a bomb trips before memory grows: a 42.zip
(16 x 16 x 4 x 1 GiB) or a CAB of 6 MB that would expand to 3.6 GB stops
within 256 MB of output. A damaged archive or a broken budget raises
`BundleError`; the flow quarantines the bundle with the reason.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import PurePosixPath

import libarchive
from libarchive.exception import ArchiveError

ARCHIVE_SUFFIXES = (".cab", ".zip")
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one bundle may unpack to (every archive in it counted together).

    Real collections are far inside these: the largest real MDM diagnostics CAB
    known holds 50 members and 45 MB unpacked, at 27:1 (docs/formats.md §5).
    A bundle is held in memory while it is parsed and two batches run at once,
    so the total is what keeps a process under 1 GB whatever a share holds.
    Each field can be set from the environment, as ``ESPFLEET_`` + its name in
    capitals (``ESPFLEET_MAX_UNPACKED_MB=2048``).

    Attributes:
        max_unpacked_mb: bytes decompressed for the bundle, all archives and
            nesting levels added up (nested archives count, then their members).
        max_member_mb: bytes of any one member.
        max_members: files in all its archives together.
        max_ratio: bytes out per byte in, for one archive; checked once the
            archive has given `ratio_floor_mb` (small archives may be as
            compressible as they like).
        ratio_floor_mb: output below which the ratio is not checked.
        max_archives: archives opened for the bundle, nested ones included
            (the nesting fan-out: 42.zip opens 273 before its first file).
        max_depth: archives inside archives inside the bundle's own files.
    """

    max_unpacked_mb: int = 256
    max_member_mb: int = 128
    max_members: int = 10_000
    max_ratio: int = 100
    ratio_floor_mb: int = 64
    max_archives: int = 64
    max_depth: int = 3

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The defaults, with any ``ESPFLEET_<FIELD>`` set in `env` (os.environ).

        Raises:
            ValueError: a set value that is not a positive integer.
        """
        env = os.environ if env is None else env
        values: dict[str, int] = {}
        for f in fields(cls):
            text = env.get(f"ESPFLEET_{f.name.upper()}")
            if text is None:
                continue
            digits = text.strip()
            if not (digits.isascii() and digits.isdigit()) or int(digits) <= 0:
                raise ValueError(
                    f"ESPFLEET_{f.name.upper()}={text!r}: a positive integer"
                )
            values[f.name] = int(digits)
        return cls(**values)


class BundleError(Exception):
    """A bundle that cannot be read: the reason goes to the quarantine."""


def stored_over_budget(sizes: Mapping[str, int], limits: Limits) -> str | None:
    """Why a bundle's files, by their sizes on the share, are too large to read.

    Checked before a byte is read: a loose file counts as a member, and the
    files together (archives as stored) against the bundle's total.

    Returns:
        The quarantine reason, or None when the bundle may be read.
    """
    for name, size in sorted(sizes.items()):
        if size > limits.max_member_mb * MIB:
            return (
                f"{name}: over budget: {size} bytes on the share, more than"
                f" {limits.max_member_mb} MB (ESPFLEET_MAX_MEMBER_MB)"
            )
    total = sum(sizes.values())
    if total > limits.max_unpacked_mb * MIB:
        return (
            f"over budget: the bundle's files hold {total} bytes on the share, more"
            f" than {limits.max_unpacked_mb} MB (ESPFLEET_MAX_UNPACKED_MB)"
        )
    return None


class _Budget:
    """What a bundle has used of its `Limits` so far."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.unpacked = 0
        self.members = 0
        self.archives = 0

    def open_archive(self, name: str, depth: int) -> None:
        limits = self.limits
        if depth >= limits.max_depth:
            raise BundleError(f"{name}: archives nested deeper than {limits.max_depth}")
        self.archives += 1
        if self.archives > limits.max_archives:
            raise BundleError(
                f"{name}: over budget: more than {limits.max_archives} archives"
                " in one bundle (ESPFLEET_MAX_ARCHIVES)"
            )

    def add_member(self, name: str, declared: int | None) -> None:
        """One more member, refused at once when its header declares too much.

        The declared size can lie (too small): `add_block` counts what comes.
        """
        self.members += 1
        if self.members > self.limits.max_members:
            raise BundleError(
                f"{name}: over budget: more than {self.limits.max_members} members"
                " in one bundle (ESPFLEET_MAX_MEMBERS)"
            )
        if declared and declared > self.limits.max_member_mb * MIB:
            raise BundleError(
                f"{name}: over budget: member declares {declared} bytes, more than"
                f" {self.limits.max_member_mb} MB (ESPFLEET_MAX_MEMBER_MB)"
            )

    def add_block(
        self, name: str, member_size: int, archive_out: int, archive_in: int, n: int
    ) -> None:
        """Count `n` more bytes out; raises as soon as a limit is crossed."""
        limits = self.limits
        self.unpacked += n
        if member_size > limits.max_member_mb * MIB:
            raise BundleError(
                f"{name}: over budget: member larger than {limits.max_member_mb} MB"
                " (ESPFLEET_MAX_MEMBER_MB)"
            )
        if self.unpacked > limits.max_unpacked_mb * MIB:
            raise BundleError(
                f"{name}: over budget: bundle unpacks to more than"
                f" {limits.max_unpacked_mb} MB (ESPFLEET_MAX_UNPACKED_MB)"
            )
        if (
            archive_out > limits.ratio_floor_mb * MIB
            and archive_out > limits.max_ratio * max(archive_in, 1)
        ):
            raise BundleError(
                f"{name}: over budget: compression ratio over {limits.max_ratio}:1"
                f" ({archive_out // MIB} MB out of {archive_in} bytes so far;"
                " ESPFLEET_MAX_RATIO)"
            )


# libarchive-c reads a member a page (4 KiB) at a time by default: 10,000
# calls and copies for a real-size CAB. 64 KiB blocks unpack it 10% faster
# (55-59 ms against 62-69 ms of CPU); larger ones copy their whole buffer for
# each short block and are slower again.
BLOCK_BYTES = 64 * 1024


def _is_archive(name: str, data: bytes) -> bool:
    lower = name.lower()
    if lower.endswith(".cab"):
        return data[:4] == b"MSCF"
    if lower.endswith(".zip"):
        return data[:2] == b"PK"
    return False


@dataclass(frozen=True)
class PassedOver:
    """A member decompressed to its end but not kept: nothing wanted its bytes.

    What its `members` row needs is counted on the way (`Keep`).
    """

    size: int
    sha256: str


@dataclass(frozen=True)
class Keep:
    """Which archive members are worth holding: `wanted(name, head)` on a
    member's first `head_bytes` decides, for a member longer than that.

    A member nothing wants (an ETL trace, half the bytes of a real collection)
    is then hashed block by block as it is decompressed and let go: it comes
    out as a `PassedOver`, never as bytes. Shorter members and nested archives
    are always kept.
    """

    wanted: Callable[[str, bytes], bool]
    head_bytes: int


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


def _entries(
    path: str,
    data: bytes,
    written_at: dict[str, datetime] | None,
    budget: _Budget,
    keep: Keep | None,
) -> Iterator[tuple[str, bytes | PassedOver]]:
    """The files inside one archive (not recursing) as it decompresses them,
    by their inner names; `written_at` gets each one's stored time (by inner
    name) before it is yielded."""
    archive_out = 0
    seen: set[str] = set()
    try:
        with libarchive.memory_reader(data) as archive:
            for entry in archive:
                if not entry.isfile:
                    continue
                inner = _safe_name(entry.pathname or "")
                if inner is None:
                    raise BundleError(f"{path}: unsafe member name {entry.pathname!r}")
                if inner in seen:  # a ZIP may repeat a name; which one is meant?
                    raise BundleError(f"{path}: two members named {inner!r}")
                seen.add(inner)
                where = f"{path}/{inner}"
                budget.add_member(where, entry.size)
                # BytesIO hands its buffer over without a copy: one member is
                # never held twice (a join of chunks would double the peak).
                buffer: io.BytesIO | None = io.BytesIO()
                digest = hashlib.sha256()  # once the member is passed over
                # nested archives are opened whatever their head says
                nested = inner.lower().endswith(ARCHIVE_SUFFIXES)
                deciding = None if nested else keep
                size = 0
                for block in entry.get_blocks(BLOCK_BYTES):
                    size += len(block)
                    archive_out += len(block)
                    budget.add_block(where, size, archive_out, len(data), len(block))
                    if buffer is None:
                        digest.update(block)
                        continue
                    buffer.write(block)
                    if deciding is not None and size > deciding.head_bytes:
                        head = buffer.getbuffer()[: deciding.head_bytes].tobytes()
                        if not deciding.wanted(where, head):
                            digest.update(buffer.getbuffer())
                            buffer = None
                        deciding = None
                if written_at is not None and (when := _written_at(entry.mtime)):
                    written_at[inner] = when
                if buffer is None:
                    yield inner, PassedOver(size, digest.hexdigest())
                else:
                    yield inner, buffer.getvalue()
                del buffer
    except ArchiveError as error:
        raise BundleError(f"{path}: unreadable archive: {_short(error)}") from error
    if not seen:
        raise BundleError(f"{path}: archive holds no files")


def read_archive(
    name: str,
    data: bytes,
    written_at: dict[str, datetime] | None = None,
    budget: _Budget | None = None,
) -> dict[str, bytes]:
    """The files inside one archive (not recursing), by their inner names.

    Args:
        name: the archive's name (for messages).
        data: its bytes.
        written_at: when given, receives each member's stored time (naive local
            time for CAB and ZIP members, docs/formats.md §8.3).
        budget: the bundle's budget so far; a fresh one of the default
            `Limits` when None.

    Raises:
        BundleError: the archive is truncated, corrupt, or breaks a limit.
    """
    budget = budget or _Budget(Limits())
    return dict(_entries(name, data, written_at, budget, None))  # type: ignore[arg-type]


def _short(error: ArchiveError) -> str:
    text = str(error)
    return text.split(" (errno=")[0]


def iter_members(
    files: Mapping[str, bytes],
    written_at: dict[str, datetime] | None = None,
    limits: Limits | None = None,
    keep: Keep | None = None,
) -> Iterator[tuple[str, bytes | PassedOver]]:
    """Every member of a bundle, in archive order, as it is decompressed.

    Archives are opened recursively; their members are named
    ``<archive>/<inner name>``, loose files keep their names, and the archives
    themselves are not members. A member is yielded as soon as it is whole,
    so a consumer that is done with it before asking for the next holds one
    member at a time, not the bundle. With `keep`, members nothing wants come
    out as `PassedOver` (their size and SHA-256) instead of bytes.

    Args:
        files: the bundle's files by name.
        written_at: when given, receives the stored time of every archive
            member by member name (loose files have none), each before the
            member is yielded.
        limits: the bundle's budget (default `Limits()`), counted across all
            of its archives.
        keep: which long members to hold (default: all).

    Raises:
        BundleError: an archive at any depth cannot be read, or the bundle
            breaks its budget (raised when the iteration reaches it).
    """
    return _members(files, 0, written_at, _Budget(limits or Limits()), "", keep)


def unpack(
    files: Mapping[str, bytes],
    written_at: dict[str, datetime] | None = None,
    limits: Limits | None = None,
) -> dict[str, bytes]:
    """Every member of a bundle as bytes, by name (`iter_members`, all kept).

    Raises:
        BundleError: an archive at any depth cannot be read, or the bundle
            breaks its budget.
    """
    return dict(iter_members(files, written_at, limits))  # type: ignore[arg-type]


def _members(
    files: Mapping[str, bytes],
    depth: int,
    written_at: dict[str, datetime] | None,
    budget: _Budget,
    prefix: str,
    keep: Keep | None,
) -> Iterator[tuple[str, bytes | PassedOver]]:
    """`iter_members` at nesting `depth`; `prefix` names the archive `files`
    came from (with its trailing slash), so names come out whole."""
    for name, data in files.items():
        if _is_archive(name, data):
            path = prefix + name
            budget.open_archive(path, depth)
            times: dict[str, datetime] = {}
            for inner, value in _entries(path, data, times, budget, keep):
                if written_at is not None and inner in times:
                    written_at[f"{path}/{inner}"] = times[inner]
                if isinstance(value, bytes) and _is_archive(inner, value):
                    yield from _members(
                        {inner: value}, depth + 1, written_at, budget, path + "/", keep
                    )
                else:
                    yield f"{path}/{inner}", value
                del value  # not held while the next member is decompressed
        elif name.lower().endswith(ARCHIVE_SUFFIXES) and depth == 0:
            raise BundleError(f"{name}: not a CAB/ZIP (bad signature)")
        else:
            yield prefix + name, data
