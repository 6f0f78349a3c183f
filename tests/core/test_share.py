"""Share discovery: folder bundles, lone archives, identity by content."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from espfleet.errors import ShareError
from espfleet.share import (
    content_id,
    discover,
    filesystem,
    open_share,
    read_bundle,
    redact,
    resolve,
    split_credentials,
)


def write(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def bundles(root: Path) -> list[tuple[str, str, list[str]]]:
    fs, base = filesystem(str(root))
    return [
        (Path(b.uri).relative_to(root).as_posix(), b.layout, [f.name for f in b.files])
        for b in discover(fs, base)
    ]


def test_folder_with_cab_and_logs_is_one_bundle(tmp_path):
    write(tmp_path / "site/PC1_20261101-0800/mdmlogs.cab", b"MSCF")
    write(tmp_path / "site/PC1_20261101-0800/ccmsetup.log")
    write(tmp_path / "site/PC1_20261101-0800/smsts.log")
    assert bundles(tmp_path) == [
        (
            "site/PC1_20261101-0800",
            "folder",
            ["ccmsetup.log", "mdmlogs.cab", "smsts.log"],
        )
    ]


def test_lone_archives_are_one_bundle_each(tmp_path):
    write(tmp_path / "drop/a.cab", b"MSCF")
    write(tmp_path / "drop/b.zip", b"PK")
    assert bundles(tmp_path) == [
        ("drop/a.cab", "archive", ["a.cab"]),
        ("drop/b.zip", "archive", ["b.zip"]),
    ]


def test_content_id_ignores_location_but_not_content(tmp_path):
    write(tmp_path / "one/PC1/ccmsetup.log", b"abc")
    write(tmp_path / "two/PC1-moved/ccmsetup.log", b"abc")
    fs, base = filesystem(str(tmp_path))
    ids = [content_id(read_bundle(fs, b)) for b in discover(fs, base)]
    assert ids[0] == ids[1]
    assert content_id({"ccmsetup.log": b"abd"}) != ids[0]


def test_fingerprint_changes_when_a_file_grows(tmp_path):
    write(tmp_path / "PC1/ccmsetup.log", b"abc")
    fs, base = filesystem(str(tmp_path))
    before = next(discover(fs, base)).fingerprint
    write(tmp_path / "PC1/ccmsetup.log", b"abcdef")
    assert next(discover(fs, base)).fingerprint != before


def test_renamed_lone_archive_keeps_its_id():
    assert content_id({"a.cab": b"MSCF1"}) == content_id({"renamed.cab": b"MSCF1"})


def test_stray_files_beside_lone_archives_make_no_bundle(tmp_path):
    write(tmp_path / "ground_truth.csv")
    write(tmp_path / "README.txt")
    write(tmp_path / "site/a.cab", b"MSCF")
    assert bundles(tmp_path) == [("site/a.cab", "archive", ["a.cab"])]


# --- credentials and the one line for a share that cannot be listed ---


def test_credentials_are_split_off_the_url_and_redacted_everywhere():
    clean, user, password = split_credentials(
        "smb://svc:S3cr%40t!@files.corp:4445/logs/site"
    )
    assert (clean, user, password) == (
        "smb://files.corp:4445/logs/site",
        "svc",
        "S3cr@t!",
    )
    assert redact("smb://svc:S3cr%40t!@files.corp/logs failed: S3cr@t! S3cr%40t!") == (
        "smb://svc@files.corp/logs failed: *** ***"
    )
    assert split_credentials("/mnt/share") == ("/mnt/share", None, None)


def test_credentials_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ESPFLEET_SHARE_USER", "svc")
    monkeypatch.setenv("ESPFLEET_SHARE_PASSWORD", "from-env")
    clean, options = resolve("smb://files.corp/logs")
    assert clean == "smb://files.corp/logs"
    assert options == {
        "register_session_retries": 0,
        "username": "svc",
        "password": "from-env",
    }
    assert redact("from-env") == "***"


def test_a_missing_share_is_one_line(tmp_path):
    with pytest.raises(
        ShareError, match=r"^share .*nope not found: .*nope does not exist$"
    ):
        open_share(str(tmp_path / "nope"))
    write(tmp_path / "file.cab", b"MSCF")
    with pytest.raises(ShareError, match=r"is a file, not a folder$"):
        open_share(str(tmp_path / "file.cab"))


def test_an_unreachable_share_is_retried_then_one_line_with_the_time_spent(monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ESPFLEET_SHARE_RETRY_DELAYS", "0.2,0.4")
    started = time.monotonic()
    with pytest.raises(ShareError) as caught:
        open_share(f"smb://u:pw@127.0.0.1:{port}/fleet")
    assert time.monotonic() - started >= 0.6
    assert re.fullmatch(
        rf"share smb://127\.0\.0\.1:{port}/fleet unreachable after 3 attempts over \d+ s: .+",
        str(caught.value),
    )
    assert "pw" not in str(caught.value).split(": ", 1)[1].replace("pw@", "")
