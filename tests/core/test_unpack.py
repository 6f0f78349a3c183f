"""Bundle unpacking: real LZX CABs, MSZIP CABs we write, nesting, damage."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from cabarchive import CabArchive, CabFile

from espfleet.unpack import BundleError, read_archive, unpack
from tests.conftest import corpus_file


def mszip_cab(files: dict[str, bytes]) -> bytes:
    cab = CabArchive()
    for name, data in files.items():
        cab[name] = CabFile(data)
    return cab.save(compress=True)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_real_lzx_cab_unpacks_every_member(corpus):
    data = corpus_file(
        corpus, "cab/MDMDiagReport_joopjaeng-jaeng_2020.cab"
    ).read_bytes()
    members = read_archive("x.cab", data)
    assert len(members) == 29
    assert members["MdmDiagLogMetadata.json"].startswith(b"{")
    assert len(members["MdmDiagReport_RegistryDump.reg"]) == 2015720


def test_mszip_cab_round_trips():
    cab = mszip_cab({"a.txt": b"hello", "sub\\b.log": b"x" * 70000})
    assert unpack({"mdmlogs.cab": cab}) == {
        "mdmlogs.cab/a.txt": b"hello",
        "mdmlogs.cab/sub/b.log": b"x" * 70000,
    }


def test_nested_cab_inside_intune_zip_is_opened():
    inner = mszip_cab({"MdmDiagReport_RegistryDump.reg": b"[HKEY_LOCAL_MACHINE\\x]"})
    outer = zip_bytes(
        {
            "(77) FoldersFiles temp MDMDiagnostics mdmlogs.cab": inner,
            "results.xml": b"<x/>",
        }
    )
    members = unpack({"DiagLogs-PC1-20261101T010203Z.zip": outer})
    assert sorted(members) == [
        "DiagLogs-PC1-20261101T010203Z.zip/(77) FoldersFiles temp MDMDiagnostics mdmlogs.cab/MdmDiagReport_RegistryDump.reg",
        "DiagLogs-PC1-20261101T010203Z.zip/results.xml",
    ]


def test_truncated_cab_is_refused_with_reason():
    cab = mszip_cab({"a.log": bytes(range(256)) * 2000})
    with pytest.raises(BundleError, match="unreadable archive"):
        unpack({"mdmlogs.cab": cab[: len(cab) // 2]})


def test_file_named_cab_without_signature_is_refused():
    with pytest.raises(BundleError, match="bad signature"):
        unpack({"mdmlogs.cab": b"not a cab at all"})


def test_parent_relative_member_names_are_refused():
    evil = zip_bytes({"../../etc/passwd": b"x"})
    with pytest.raises(BundleError, match="unsafe member name"):
        unpack({"logs.zip": evil})


def test_loose_files_pass_through_unchanged():
    assert unpack({"ccmsetup.log": b"<![LOG[x]LOG]!>"}) == {
        "ccmsetup.log": b"<![LOG[x]LOG]!>"
    }


@pytest.mark.parametrize("name", ["itziktdk-MyRes_2024", "joopjaeng-jaeng_2020"])
def test_real_lzx_cab_members_equal_the_extracted_copies(corpus, name):
    """libarchive's LZX output, byte for byte, against members extracted elsewhere."""
    members = read_archive(
        "x.cab", corpus_file(corpus, f"cab/MDMDiagReport_{name}.cab").read_bytes()
    )
    folder = corpus / "cab" / f"extracted_{name.rsplit('_', 1)[0]}"
    compared = 0
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        member = path.name.split("__", 1)[-1]
        if member.endswith(".gz"):
            member, data = member[: -len(".gz")], gzip.decompress(data)
        if member in members:
            assert members[member] == data, member
            compared += 1
    assert compared >= 5


def test_member_times_are_the_wall_clock_times_the_cab_stores(corpus):
    """cabextract lists MDMDiagReport.xml of this CAB at 27.03.2020 10:31:00."""
    data = corpus_file(
        corpus, "cab/MDMDiagReport_joopjaeng-jaeng_2020.cab"
    ).read_bytes()
    times: dict = {}
    unpack({"x.cab": data}, written_at=times)
    assert str(times["x.cab/MDMDiagReport.xml"]) == "2020-03-27 10:31:00"
    assert str(times["x.cab/CloudExperienceHostOobe.etl.008"]) == "2020-03-27 05:41:00"
