"""Find bundles on a share and fetch their bytes, through fsspec.

A *bundle* is one collection from one device at one time (docs/formats.md §7
describes how organisations put them on shares):

- a folder holding loose ConfigMgr logs (and usually one CAB or ZIP): one
  bundle made of every file directly in it;
- an archive with no loose logs beside it: one bundle per archive (a folder of
  lone CABs holds many bundles).

Any fsspec URL works as the root: a local path, ``smb://user:pw@host:port/share``,
``s3://`` and so on. Nothing here parses: it lists, reads and hashes.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import fsspec
from fsspec.core import url_to_fs

from .unpack import ARCHIVE_SUFFIXES

# Loose evidence that makes a folder a bundle (docs/formats.md §7.2): logs and
# their rollovers, registry exports, event logs and their XML/text exports. Other
# files (a CSV, a README) ride along in a bundle but never make one.
_LOOSE = re.compile(r"(\.log|\.lo_|\.reg|\.evtx|\.xml)$", re.IGNORECASE)


@dataclass(frozen=True)
class SourceFile:
    """One file of a bundle on the share."""

    path: str  # as fsspec names it
    name: str  # relative to the bundle (the file name for folder bundles)
    size: int
    mtime: float | None


@dataclass(frozen=True)
class BundleRef:
    """A bundle found on the share, before its bytes are read."""

    uri: str  # folder or archive path, as fsspec names it
    layout: str  # folder | archive
    files: tuple[SourceFile, ...] = field(default_factory=tuple)

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def fingerprint(self) -> str:
        """Cheap identity of what is on the share now (paths, sizes, mtimes)."""
        parts = [self.uri] + [f"{f.name}|{f.size}|{f.mtime}" for f in self.files]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def filesystem(
    root: str, **storage_options: object
) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem for `root` and the root path inside it."""
    return url_to_fs(root, **storage_options)


def _mtime(info: dict) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "time"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return None


def discover(fs: fsspec.AbstractFileSystem, root: str) -> Iterator[BundleRef]:
    """Every bundle under `root`, in a stable (sorted) order."""
    for folder, _dirs, files in sorted(fs.walk(root, detail=True)):
        entries = [
            SourceFile(
                path=info["name"],
                name=PurePosixPath(info["name"]).name,
                size=int(info.get("size") or 0),
                mtime=_mtime(info),
            )
            for _name, info in sorted(files.items())
            if info.get("type", "file") == "file"
        ]
        if not entries:
            continue
        archives = [e for e in entries if e.name.lower().endswith(ARCHIVE_SUFFIXES)]
        loose = [e for e in entries if e not in archives and _LOOSE.search(e.name)]
        if loose:
            yield BundleRef(uri=folder, layout="folder", files=tuple(entries))
        else:
            for archive in archives:
                yield BundleRef(uri=archive.path, layout="archive", files=(archive,))


# Waits between attempts at one read: a share that drops a connection usually
# answers again within seconds, and retrying one file is cheaper than a batch.
READ_RETRY_DELAYS_S = (0.5, 2.0, 5.0)


def read_file(fs: fsspec.AbstractFileSystem, path: str) -> bytes:
    """One file's bytes, retried on I/O errors.

    Raises:
        OSError: the last error, when every attempt failed.
    """
    for delay in READ_RETRY_DELAYS_S:
        try:
            return fs.cat_file(path)
        except FileNotFoundError:
            raise
        except OSError:
            time.sleep(delay)
    return fs.cat_file(path)


def read_bundle(fs: fsspec.AbstractFileSystem, ref: BundleRef) -> dict[str, bytes]:
    """The bytes of every file of `ref`, by bundle-relative name."""
    return {f.name: read_file(fs, f.path) for f in ref.files}


def content_id(files: dict[str, bytes]) -> str:
    """A bundle's identity: SHA-256 over its files' names and contents.

    Folder and file locations are left out, so a moved bundle keeps its id; a
    lone archive is identified by its bytes alone, so a renamed one does too.
    """
    if len(files) == 1:
        return hashlib.sha256(next(iter(files.values()))).hexdigest()
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.lower().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()
