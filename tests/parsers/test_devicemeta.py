"""Device identity and zone from a bundle's small files."""

from __future__ import annotations

from datetime import UTC, datetime

from espfleet.device import device_info, from_log_metadata
from tests.conftest import corpus_file


def test_real_framework_data_gives_zone_name_serial(corpus):
    data = corpus_file(
        corpus, "cab/extracted_itziktdk-MyRes/DiagnosticsFrameworkData.json"
    ).read_bytes()
    info = device_info({"x.cab/DiagnosticsFrameworkData.json": data})
    assert info.windows_zone == "Israel Standard Time"
    assert info.device_zone == "Asia/Jerusalem"
    assert info.device_name == "PAW-CSM-FKF6D54"
    assert info.serial_number == "2UA2401K1W"


def test_device_hash_csv_gives_serial_and_name():
    csv = b"Device Serial Number,Windows Product ID,Hardware Hash\r\nSN123,,T0Ev\r\n"
    info = device_info({"m.cab/DeviceHash_PC-42.csv": csv})
    assert (info.serial_number, info.device_name) == ("SN123", "PC-42")


def test_report_xml_gives_collection_time_in_utc():
    xml = b"<x><ReportCreationTime>Wednesday, 03 April 2024--07:45:12 (UTC)</ReportCreationTime><SerialNumber>S1</SerialNumber></x>"
    info = device_info({"MDMDiagReport.xml": xml})
    assert info.collected_at == datetime(2024, 4, 3, 7, 45, 12, tzinfo=UTC)


def test_2020_metadata_that_is_not_json_still_gives_nothing_wrong(corpus):
    data = corpus_file(
        corpus, "cab/extracted_joopjaeng-jaeng/MdmDiagLogMetadata.json"
    ).read_bytes()
    assert from_log_metadata(data).os_build is None


def test_2024_metadata_gives_build_and_ubr(corpus):
    data = corpus_file(
        corpus, "cab/extracted_itziktdk-MyRes/MdmDiagLogMetadata.json"
    ).read_bytes()
    assert from_log_metadata(data).os_build == "22631.3296"


def test_unknown_windows_zone_gives_no_iana_zone():
    data = b'{"$schema":[{"categories":[{"items":[{"propertyId":"Timezone","value":"Mars Standard Time"}]}]}]}'
    info = device_info({"DiagnosticsFrameworkData.json": data})
    assert info.windows_zone == "Mars Standard Time" and info.device_zone is None
