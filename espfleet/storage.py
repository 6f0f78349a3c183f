"""Where a warehouse lives: a local folder, or a prefix on object storage.

``--warehouse /srv/espfleet`` is a folder; ``--warehouse s3://bucket/espfleet``
is a prefix in a bucket, reached through fsspec and s3fs (universal-pathlib
gives it the pathlib API the warehouse code uses for folders). Credentials
never go in the URL: s3fs takes them from the environment (``AWS_ACCESS_KEY_ID``
/ ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` for an S3-compatible server,
or any botocore credential source), or from the Prefect Secret block named by
``ESPFLEET_S3_SECRET`` (a JSON object with ``key`` and ``secret``, and
optionally ``endpoint_url``). Either way the secret is handed to
`espfleet.share.redact`, so no log or message shows it.

What holds on object storage (docs/scale.md "Beyond one machine"):

- no partial object is ever visible: S3 makes an object visible whole when its
  PUT (or multipart upload) completes, so a file is written once at its final
  key from a local temporary file (`atomic_write`), never renamed;
- the manifest commits a batch exactly as on a folder (the views read only
  batches whose manifest object exists);
- the run lock is a lease object (`espfleet.lease`), not a flock.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from upath import UPath

from .errors import UserError

# A warehouse's root or a path in it: a local Path, or a UPath on object storage.
Location: TypeAlias = Path | UPath
S3_SECRET_ENV = "ESPFLEET_S3_SECRET"
REMOTE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "memory")


def _from_environment() -> dict:
    """The AWS_* variables s3fs would read, as options: then fsspec's cache of
    filesystems tells two endpoints or two keys apart."""
    options: dict = {}
    if key := os.environ.get("AWS_ACCESS_KEY_ID"):
        options["key"] = key
        options["secret"] = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if endpoint := os.environ.get("AWS_ENDPOINT_URL"):
        options["client_kwargs"] = {"endpoint_url": endpoint}
    return options


def s3_options() -> dict:
    """s3fs storage options: the Secret block named by ESPFLEET_S3_SECRET, else
    the AWS_* environment (else botocore's own credential chain)."""
    from .share import remember_secret

    remember_secret(os.environ.get("AWS_SECRET_ACCESS_KEY"))
    name = os.environ.get(S3_SECRET_ENV)
    if not name:
        return _from_environment()
    from prefect.blocks.system import Secret

    try:
        block = Secret.load(name, _sync=True)  # type: ignore[call-arg]
        value = block.get()  # type: ignore[union-attr]
        if isinstance(value, str):
            value = json.loads(value)
    except Exception as error:  # Prefect raises ValueError, httpx errors...
        raise UserError(
            f"cannot load the Prefect Secret block {name!r} ({S3_SECRET_ENV}):"
            f" {type(error).__name__}"
        ) from None
    remember_secret(value.get("secret"))
    options: dict = {"key": value.get("key"), "secret": value.get("secret")}
    if value.get("endpoint_url"):
        options["client_kwargs"] = {"endpoint_url": value["endpoint_url"]}
    return options


def location(root: str | Path | UPath) -> Location:
    """The warehouse root `root` names: a Path, or a UPath for ``s3://...``.

    Raises:
        UserError: the URL carries credentials (they belong in the environment
            or a Secret block, never in something that is recorded).
    """
    if isinstance(root, Path | UPath):
        return root
    scheme = root.split("://", 1)[0].lower() if "://" in root else ""
    if scheme in ("", "file"):
        return Path(root.removeprefix("file://"))
    from .share import redact, split_credentials

    clean, _user, password = split_credentials(root)
    if password is not None:
        raise UserError(
            f"the warehouse URL {redact(root)} holds credentials: give them in"
            f" the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or"
            f" the Prefect Secret block named by {S3_SECRET_ENV}"
        )
    options = s3_options() if scheme in ("s3", "s3a") else {}
    return UPath(clean.rstrip("/"), **options)


def is_remote(path: Location) -> bool:
    """Whether `path` is on object storage rather than a local disk."""
    return not isinstance(path, Path)


def absolute(path: Location) -> str:
    """`path` as DuckDB and Prefect parameters name it (absolute, or the URL)."""
    return str(path.resolve()) if isinstance(path, Path) else str(path)


def atomic_write(path: Location, write: Callable[[Path], object]) -> None:
    """Have `write` fill a local temporary file, then make it `path` at once.

    A folder: the file is renamed into place. Object storage: it is uploaded
    once to its final key (an object appears whole when its upload completes).
    """
    if isinstance(path, Path):
        import uuid

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return
    with tempfile.TemporaryDirectory(prefix="espfleet-") as folder:
        tmp = Path(folder) / path.name
        write(tmp)
        path.fs.put_file(str(tmp), path.path)


def download(path: UPath, target: Path) -> None:
    """Copy the object `path` to the local file `target`."""
    path.fs.get_file(path.path, str(target))
