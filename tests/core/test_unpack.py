"""Bundle unpacking: real LZX CABs, MSZIP CABs we write, nesting, damage."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import pytest
from cabarchive import CabArchive, CabFile

from espfleet.ingest import KEEP
from espfleet.unpack import (
    BundleError,
    Keep,
    Limits,
    PassedOver,
    iter_members,
    read_archive,
    unpack,
)
from tests.conftest import corpus_file
from tests.core import bombs


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


def test_a_real_cab_streams_its_etl_traces_past_as_digests(corpus):
    """The ETL traces, which no parser reads, come out as their size and
    SHA-256 (sizes as cabextract lists them), never as bytes; every other
    member, and the time each was stored, as unpack gives them."""
    data = corpus_file(
        corpus, "cab/MDMDiagReport_joopjaeng-jaeng_2020.cab"
    ).read_bytes()
    whole = unpack({"x.cab": data})
    times: dict = {}
    seen_time = {}
    streamed = {}
    for name, value in iter_members({"x.cab": data}, times, keep=KEEP):
        seen_time[name] = times.get(name)  # the time is there when the member is
        streamed[name] = value
    passed = {n: v for n, v in streamed.items() if isinstance(v, PassedOver)}
    assert {n: v.size for n, v in passed.items()} == {
        "x.cab/CloudExperienceHostOobe.etl.008": 327680,
        "x.cab/CloudExperienceHostOobe.etl.009": 851968,
        "x.cab/DiagnosticLogCSP_Collector_Autopilot.etl": 524288,
        "x.cab/DiagnosticLogCSP_Collector_DeviceProvisioning_2020_3_19_20_0_18.etl": 262144,
        "x.cab/DiagnosticLogCSP_Collector_DeviceProvisioning_2020_3_21_19_15_17.etl": 262144,
        "x.cab/DiagnosticLogCSP_Collector_DeviceProvisioning_2020_3_27_5_55_40.etl": 262144,
        "x.cab/DiagnosticLogCSP_Collector_DeviceProvisioning_2020_3_27_9_5_7.etl": 262144,
    }
    for name, digest in passed.items():
        assert digest.sha256 == hashlib.sha256(whole[name]).hexdigest(), name
    kept = {n: v for n, v in streamed.items() if n not in passed}
    assert kept == {n: v for n, v in whole.items() if n not in passed}
    assert len(streamed) == 29
    assert (
        str(seen_time["x.cab/CloudExperienceHostOobe.etl.008"]) == "2020-03-27 05:41:00"
    )


def test_only_long_members_nothing_wants_are_passed_over():
    asked = []

    def wanted(name: str, head: bytes) -> bool:
        asked.append((name, len(head)))
        return name.endswith(".log")

    inner = zip_bytes({"deep.etl": b"e" * 200})
    cab = mszip_cab(
        {
            "short.etl": b"s" * 100,  # whole within its head: kept
            "trace.etl": b"t" * 70000,
            "big.log": b"l" * 70000,
            "nested.zip": inner + b"\0" * 70000,  # archives are always opened
        }
    )
    out = dict(iter_members({"b.cab": cab}, keep=Keep(wanted, 1024)))
    assert out == {
        "b.cab/short.etl": b"s" * 100,
        "b.cab/trace.etl": PassedOver(70000, hashlib.sha256(b"t" * 70000).hexdigest()),
        "b.cab/big.log": b"l" * 70000,
        "b.cab/nested.zip/deep.etl": b"e" * 200,
    }
    assert sorted(asked) == [("b.cab/big.log", 1024), ("b.cab/trace.etl", 1024)]


def test_an_archive_that_repeats_a_member_name_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z, pytest.warns(UserWarning):
        z.writestr("ccmsetup.log", b"first")
        z.writestr("ccmsetup.log", b"second")
    with pytest.raises(BundleError, match="two members named 'ccmsetup.log'"):
        unpack({"logs.zip": buffer.getvalue()})


# --- the budget of one bundle (Limits), counted across all of its archives ---

MIB = 1 << 20


def test_member_count_is_counted_across_the_archives_of_a_bundle():
    limits = Limits(max_members=5)
    three = zip_bytes({f"{n}.log": b"x" for n in range(3)})
    assert (
        len(unpack({"a.zip": three, "b.zip": three[:]}, limits=Limits(max_members=6)))
        == 6
    )
    with pytest.raises(
        BundleError, match=r"b\.zip/2\.log: over budget: more than 5 members"
    ):
        unpack({"a.zip": three, "b.zip": three}, limits=limits)


def test_unpacked_bytes_are_counted_across_archives_and_nesting():
    mib = zip_bytes({"big.log": bytes(MIB)})
    nested = zip_bytes({"inner.zip": mib})
    limits = Limits(max_unpacked_mb=2)
    assert len(unpack({"a.zip": mib}, limits=limits)) == 1
    # the nested archive's own bytes count, then its member's: 2 MiB + a little
    with pytest.raises(
        BundleError, match=r"more than 2 MB \(ESPFLEET_MAX_UNPACKED_MB\)"
    ):
        unpack({"a.zip": mib, "n.zip": nested}, limits=limits)


def test_a_member_declaring_too_much_is_refused_before_decompressing():
    cab = mszip_cab({"zeros.log": bytes(3 * MIB)})
    with pytest.raises(
        BundleError,
        match=r"^x\.cab/zeros\.log: over budget: member declares 3145728 bytes, more than 1 MB",
    ):
        unpack({"x.cab": cab}, limits=Limits(max_member_mb=1))


def test_a_member_lying_about_its_size_stops_while_it_decompresses():
    stream, crc = bombs._deflated_zeros(3 * MIB)
    liar = bombs._stored_deflate_zip(["a.bin"], stream, crc, 1000)  # declares 1000
    with pytest.raises(
        BundleError, match=r"^z\.zip/a\.bin: over budget: member larger than 1 MB"
    ):
        unpack({"z.zip": liar}, limits=Limits(max_member_mb=1))


def test_compression_ratio_is_checked_past_its_floor():
    zeros = zip_bytes({"zeros.log": bytes(4 * MIB)})  # about 1000:1
    assert unpack({"z.zip": zeros}, limits=Limits(ratio_floor_mb=8))
    with pytest.raises(
        BundleError, match=r"compression ratio over 100:1 \(2 MB out of \d+ bytes"
    ):
        unpack({"z.zip": zeros}, limits=Limits(ratio_floor_mb=2))


def test_nesting_fan_out_and_depth():
    leaf = zip_bytes({"a.log": b"x"})
    fan = zip_bytes({f"{n}.zip": leaf for n in range(4)})
    with pytest.raises(
        BundleError, match=r"fan\.zip/3\.zip: over budget: more than 4 archives"
    ):
        unpack({"fan.zip": fan}, limits=Limits(max_archives=4))
    deep = zip_bytes({"2.zip": zip_bytes({"3.zip": leaf})})
    with pytest.raises(
        BundleError, match=r"1\.zip/2\.zip/3\.zip: archives nested deeper than 2"
    ):
        unpack({"1.zip": deep}, limits=Limits(max_depth=2))


def test_limits_from_the_environment():
    env = {"ESPFLEET_MAX_UNPACKED_MB": "2048", "ESPFLEET_MAX_RATIO": "50"}
    assert Limits.from_env(env) == Limits(max_unpacked_mb=2048, max_ratio=50)
    assert Limits.from_env({}) == Limits()
    with pytest.raises(
        ValueError, match="ESPFLEET_MAX_MEMBERS='lots': a positive integer"
    ):
        Limits.from_env({"ESPFLEET_MAX_MEMBERS": "lots"})


def test_real_cabs_are_inside_the_default_budget(corpus):
    for name in ("itziktdk-MyRes_2024", "joopjaeng-jaeng_2020"):
        data = corpus_file(corpus, f"cab/MDMDiagReport_{name}.cab").read_bytes()
        assert len(unpack({"x.cab": data}, limits=Limits())) in (29, 50)
