"""Find bundles on a share and fetch their bytes, through fsspec.

A *bundle* is one collection from one device at one time (docs/formats.md §7
describes how organisations put them on shares):

- a folder holding loose ConfigMgr logs (and usually one CAB or ZIP): one
  bundle made of every file directly in it;
- an archive with no loose logs beside it: one bundle per archive (a folder of
  lone CABs holds many bundles).

Any fsspec URL works as the root: a local path, ``smb://host:port/share``,
``s3://`` and so on. Nothing here parses: it lists, reads and hashes.

Credentials are never part of what is stored or shown (docs: README "Share
credentials"). `resolve` takes them, in this order, from the URL (a quick try:
``smb://user:pw@host/share``; the CLI strips them before anything records the
URL), from ``ESPFLEET_SHARE_USER`` / ``ESPFLEET_SHARE_PASSWORD``, or from the
Prefect Secret block named by ``ESPFLEET_SHARE_SECRET`` (a password, or a JSON
object with ``username`` and ``password``); fsspec's own ``FSSPEC_SMB_USERNAME``
/ ``FSSPEC_SMB_PASSWORD`` work too. Every password met is remembered by this
process so that `redact` removes it from any text before it is written.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit, urlunsplit

import fsspec
from fsspec.core import url_to_fs

from .errors import ShareError
from .unpack import ARCHIVE_SUFFIXES

USER_ENV, PASSWORD_ENV, SECRET_ENV = (
    "ESPFLEET_SHARE_USER",
    "ESPFLEET_SHARE_PASSWORD",
    "ESPFLEET_SHARE_SECRET",
)
# Waits between attempts to reach the share before giving up (the times spent
# are in the message); ESPFLEET_SHARE_RETRY_DELAYS="1,3" overrides them.
CONNECT_RETRY_DELAYS_S = (2.0, 5.0, 10.0)
_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:]*):[^/@\s]*@"
)
_SECRETS: set[str] = set()


def redact(text: str) -> str:
    """`text` with every URL password and every password this process met removed."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}@", text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def remember_secret(secret: str | None) -> None:
    """Have `redact` remove `secret` (and its URL-encoded spelling) from now on."""
    if secret:
        _SECRETS.update({secret, *({s} if (s := _quoted(secret)) else set())})


def _quoted(secret: str) -> str | None:
    from urllib.parse import quote

    encoded = quote(secret, safe="")
    return encoded if encoded != secret else None


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """(url without user and password, user, password) of a share URL."""
    if "://" not in url:
        return url, None, None
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url, None, None
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit(parts._replace(netloc=netloc))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    remember_secret(password)
    remember_secret(parts.password)  # as typed in the URL
    return clean, user, password


def _from_secret_block(name: str) -> tuple[str | None, str | None]:
    from prefect.blocks.system import Secret

    # _sync: a plain call even inside the flow's event loop (sync_compatible).
    block = Secret.load(name, _sync=True)  # type: ignore[call-arg]
    value = block.get()  # type: ignore[union-attr]
    if isinstance(value, dict):
        return value.get("username"), value.get("password")
    return None, str(value)


def resolve(source: str) -> tuple[str, dict]:
    """(url with no credentials, fsspec storage options) for `source`.

    Raises:
        ShareError: the Prefect Secret block named by ESPFLEET_SHARE_SECRET
            cannot be loaded.
    """
    clean, user, password = split_credentials(source)
    user = user or os.environ.get(USER_ENV) or None
    password = password if password is not None else os.environ.get(PASSWORD_ENV)
    block = os.environ.get(SECRET_ENV)
    if password is None and block:
        try:
            block_user, password = _from_secret_block(block)
        except Exception as error:  # Prefect raises ValueError, httpx errors...
            raise ShareError(
                f"cannot load the Prefect Secret block {block!r}"
                f" ({SECRET_ENV}): {type(error).__name__}: {redact(str(error))}"
            ) from None
        user = user or block_user
    remember_secret(password)
    options: dict = {}
    if clean.startswith("smb://"):
        # One attempt per call: `open_share` retries, and says how long it tried.
        options["register_session_retries"] = 0
        if user:
            options["username"] = user
        if password is not None:
            options["password"] = password
    return clean, options


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
    """The fsspec filesystem for `root` and the root path inside it.

    Credentials come from `resolve` (the URL, the environment, a Secret block).
    """
    clean, options = resolve(root)
    return url_to_fs(clean, **(options | storage_options))


def _retry_delays() -> tuple[float, ...]:
    text = os.environ.get("ESPFLEET_SHARE_RETRY_DELAYS")
    if not text:
        return CONNECT_RETRY_DELAYS_S
    return tuple(float(t) for t in text.split(",") if t.strip())


def _is_auth_failure(error: BaseException) -> bool:
    names = {type(e).__name__ for e in (error, error.__cause__, error.__context__)}
    return bool(names & {"LogonFailure", "SMBAuthenticationError", "AccessDenied"})


def open_share(source: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The share's filesystem and root, checked to be there and reachable.

    Connection failures are retried (`CONNECT_RETRY_DELAYS_S`); a missing root
    and refused credentials are not.

    Raises:
        ShareError: one line: missing, unreachable after the retries (with the
            time spent), or credentials refused.
    """
    clean = redact(resolve(source)[0])
    started = time.monotonic()
    delays = _retry_delays()
    for attempt in range(len(delays) + 1):
        try:
            fs, root = filesystem(source)
            if not fs.isdir(root):
                what = (
                    "is a file, not a folder" if fs.exists(root) else "does not exist"
                )
                raise ShareError(f"share {clean} not found: {root} {what}")
            return fs, root
        except ShareError:
            raise
        except Exception as error:  # smbprotocol, socket and fsspec errors alike
            if _is_auth_failure(error):
                raise ShareError(
                    f"share {clean} refused the credentials"
                    f" ({type(error).__name__}); check {USER_ENV} /"
                    f" {PASSWORD_ENV} or the Secret block in {SECRET_ENV}"
                ) from None
            if attempt == len(delays):
                spent = time.monotonic() - started
                raise ShareError(
                    f"share {clean} unreachable after {attempt + 1} attempts over"
                    f" {spent:.0f} s: {type(error).__name__}: {redact(str(error))}"
                ) from None
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")  # the loop returns or raises


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


def _streamed_sha256(fs: fsspec.AbstractFileSystem, path: str) -> bytes:
    """SHA-256 of one file, read in 8 MiB chunks (never held whole)."""
    for delay in (*READ_RETRY_DELAYS_S, None):
        try:
            digest = hashlib.sha256()
            with fs.open(path, "rb") as handle:
                while chunk := handle.read(8 << 20):
                    digest.update(chunk)
            return digest.digest()
        except FileNotFoundError:
            raise
        except OSError:
            if delay is None:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


def streamed_content_id(fs: fsspec.AbstractFileSystem, ref: BundleRef) -> str:
    """`content_id` of a bundle too large to read, at bounded memory.

    Raises:
        OSError: a file could not be read, even after retries.
    """
    if len(ref.files) == 1:
        return _streamed_sha256(fs, ref.files[0].path).hex()
    digest = hashlib.sha256()
    for f in sorted(ref.files, key=lambda f: f.name):
        digest.update(f.name.lower().encode())
        digest.update(b"\0")
        digest.update(_streamed_sha256(fs, f.path))
    return digest.hexdigest()


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
