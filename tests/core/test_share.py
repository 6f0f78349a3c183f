"""Share discovery: folder bundles, lone archives, identity by content."""

from __future__ import annotations

from pathlib import Path

from espfleet.share import content_id, discover, filesystem, read_bundle


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
