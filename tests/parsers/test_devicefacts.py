"""Device identity files -> device_facts rows, and the device decided from them."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from espfleet.device import resolve
from espfleet.parsers import devicefacts, setuplog
from espfleet.parsers.base import ParseContext
from tests.conftest import corpus_file


def facts(name: str, data: bytes) -> pa.Table:
    return devicefacts.parse(data, ParseContext(name)).table


def test_real_framework_data_gives_zone_name_serial(corpus):
    data = corpus_file(
        corpus, "cab/extracted_itziktdk-MyRes/DiagnosticsFrameworkData.json"
    ).read_bytes()
    info = resolve(facts("x.cab/DiagnosticsFrameworkData.json", data))
    assert info.windows_zone == "Israel Standard Time"
    assert info.device_zone == "Asia/Jerusalem"
    assert info.zone_source == "DiagnosticsFrameworkData.json"
    assert info.device_name == "PAW-CSM-FKF6D54"
    assert info.serial_number == "2UA2401K1W"


def test_device_hash_csv_gives_serial_and_name():
    csv = b"Device Serial Number,Windows Product ID,Hardware Hash\r\nSN123,,T0Ev\r\n"
    rows = facts("m.cab/DeviceHash_PC-42.csv", csv).to_pylist()
    assert [(r["attribute"], r["value"]) for r in rows] == [
        ("serial_number", "SN123"),
        ("device_name", "PC-42"),
    ]


def test_report_xml_gives_collection_time_in_utc():
    xml = b"<x><ReportCreationTime>Wednesday, 03 April 2024--07:45:12 (UTC)</ReportCreationTime><SerialNumber>S1</SerialNumber></x>"
    info = resolve(facts("MDMDiagReport.xml", xml))
    assert info.collected_at == datetime(2024, 4, 3, 7, 45, 12, tzinfo=UTC)
    assert info.serial_number == "S1"


def test_2020_metadata_that_is_not_json_still_gives_nothing_wrong(corpus):
    data = corpus_file(
        corpus, "cab/extracted_joopjaeng-jaeng/MdmDiagLogMetadata.json"
    ).read_bytes()
    assert facts("MdmDiagLogMetadata.json", data).num_rows == 0


def test_2024_metadata_gives_build_ubr_edition_and_build_lab(corpus):
    data = corpus_file(
        corpus, "cab/extracted_itziktdk-MyRes/MdmDiagLogMetadata.json"
    ).read_bytes()
    got = {
        r["attribute"]: r["value"]
        for r in facts("MdmDiagLogMetadata.json", data).to_pylist()
    }
    assert got == {
        "os_version": "10.0.22631.3296",
        "os_build": "22631.3296",
        "build_number": "22631",
        "ubr": "3296",
        "edition": "Professional",
        "build_lab": "22621.1.amd64fre.ni_release.220506-1250",
    }


@pytest.mark.parametrize(
    ("path", "gz", "version"),
    [
        (
            "cab/extracted_itziktdk-MyRes/itziktdk-MyRes__MDMDiagReport.xml.gz",
            True,
            "10.0.22631.3296",
        ),
        ("cab/extracted_joopjaeng-jaeng/MDMDiagReport.xml", False, "10.0.19592.1001"),
        (
            "cab/extracted_Gsagar109-Public/Gsagar109-Public__MDMDiagReport.xml.gz",
            True,
            "10.0.26100.8875",
        ),
    ],
)
def test_real_report_xml_gives_the_os_version_build_and_ubr(corpus, path, gz, version):
    data = corpus_file(corpus, path).read_bytes()
    got = {
        r["attribute"]: r["value"]
        for r in facts(
            "x.cab/MDMDiagReport.xml", gzip.decompress(data) if gz else data
        ).to_pylist()
    }
    build, ubr = version.split(".")[2:]
    assert (got["os_version"], got["os_build"], got["build_number"], got["ubr"]) == (
        version,
        f"{build}.{ubr}",
        build,
        ubr,
    )


def test_footprint_start_is_the_collection_time_in_utc(corpus):
    data = corpus_file(
        corpus, "cab/extracted_joopjaeng-jaeng/MdmLogCollectorFootPrint.txt"
    ).read_bytes()
    ((row),) = facts("MdmLogCollectorFootPrint.txt", data).to_pylist()
    assert (row["attribute"], row["value_at"]) == (
        "collected_at",
        datetime(2020, 3, 27, 3, 31, 26, tzinfo=UTC),
    )


def test_unknown_windows_zone_gives_no_iana_zone():
    data = b'{"$schema":[{"categories":[{"items":[{"propertyId":"Timezone","value":"Mars Standard Time"}]}]}]}'
    info = resolve(facts("DiagnosticsFrameworkData.json", data))
    assert info.windows_zone == "Mars Standard Time" and info.device_zone is None


def test_a_known_zone_wins_over_a_more_trusted_unknown_one():
    framework = b'{"$schema":[{"categories":[{"items":[{"propertyId":"Timezone","value":"Mars Standard Time"}]}]}]}'
    setup = b"2026-07-01 09:00:00, Info                         [msoobe.exe] Set time zone to [Tokyo Standard Time]\r\n"
    lines = setuplog.parse(setup, ParseContext("setupact.log")).table
    info = resolve(facts("DiagnosticsFrameworkData.json", framework), setup_log=lines)
    assert (info.windows_zone, info.device_zone, info.zone_source) == (
        "Tokyo Standard Time",
        "Asia/Tokyo",
        "setupact.log",
    )


def test_damaged_framework_file_is_a_warning_not_an_exception():
    result = devicefacts.parse(
        b"{not json", ParseContext("DiagnosticsFrameworkData.json")
    )
    assert result.table.num_rows == 0 and result.skipped == 1
    assert result.warnings[0].reason.startswith(
        "unreadable DiagnosticsFrameworkData.json"
    )
