"""Where a warehouse lives (espfleet/storage.py): folders stay Paths, object
storage URLs become UPaths, and credentials never ride in a URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from upath import UPath

from espfleet.errors import UserError
from espfleet.storage import absolute, atomic_write, is_remote, location


def test_folders_are_paths_and_urls_are_upaths(tmp_path):
    assert location(str(tmp_path)) == tmp_path
    assert location(f"file://{tmp_path}") == tmp_path
    remote = location("s3://fleet-warehouse/espfleet/")
    assert isinstance(remote, UPath) and not isinstance(remote, Path)
    assert is_remote(remote) and not is_remote(tmp_path)
    assert absolute(remote) == "s3://fleet-warehouse/espfleet"
    assert absolute(Path("wh")) == str(Path.cwd() / "wh")


def test_a_warehouse_url_with_credentials_is_refused_without_showing_them():
    with pytest.raises(UserError) as caught:
        location("s3://AKIAEXAMPLE:wJalrXUtnFEMI-s3cr3t@fleet/wh")
    text = str(caught.value)
    assert "wJalrXUtnFEMI-s3cr3t" not in text
    assert text.startswith("the warehouse URL s3://AKIAEXAMPLE@fleet/wh holds")


def test_a_local_write_leaves_only_the_finished_file(tmp_path):
    target = tmp_path / "sub" / "table.parquet"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"whole"))
    assert target.read_bytes() == b"whole"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.parquet"]
    with pytest.raises(RuntimeError):

        def broken(tmp: Path) -> None:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk gone")

        atomic_write(tmp_path / "sub" / "other.parquet", broken)
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.parquet"]
