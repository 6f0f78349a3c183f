"""parsers/autopilotjson.py: AutopilotDDSZTDFile.json into esp_tracking rows."""

from __future__ import annotations

from datetime import UTC, datetime

from espfleet.parsers import autopilotjson, schema
from espfleet.parsers.base import ParseContext
from tests.conftest import corpus_file

ERROR_908 = (
    '{"ErrorCode":908,"ErrorReason":"HardwareMarkerMismatch, SerialNumberMismatch",'
    '"PolicyDownloadDate":"2026-01-05T10:00:00Z"}'
)
DATE_ONLY = '{"PolicyDownloadDate":"2023-12-26T19:32:49Z"}'


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


def by_setting(data: bytes) -> dict[str, dict]:
    result = autopilotjson.parse(data)
    assert result.table.schema == schema.ESP_TRACKING and result.warnings == []
    return {r["setting"]: r for r in result.table.to_pylist()}


def test_sniff_utf16_profile():
    assert autopilotjson.sniff(utf16('{"CloudAssignedTenantId":"x"}'))
    assert autopilotjson.sniff(utf16(DATE_ONLY))


def test_sniff_rejects_other_json():
    assert not autopilotjson.sniff(
        utf16('{"MdmDiagVersion":"1.0","BuildNumber":22621}')
    )
    assert not autopilotjson.sniff(b"[HKEY_LOCAL_MACHINE\\x]\r\n")


def test_error_shape_keeps_code_and_dds_meaning():
    rows = by_setting(utf16(ERROR_908))
    err = rows["ErrorCode"]
    assert (err["value_int"], err["state"], err["scale"]) == (
        908,
        "HardwareMarkerMismatch",
        "dds",
    )
    assert rows["ErrorReason"]["value_text"].startswith("HardwareMarkerMismatch")
    assert err["snapshot_at"] == datetime(2026, 1, 5, 10, tzinfo=UTC)


def test_not_registered_code_807():
    rows = by_setting(
        utf16('{"ErrorCode":807,"ErrorReason":"ZtdDeviceIsNotRegistered"}')
    )
    assert rows["ErrorCode"]["state"] == "ZtdDeviceIsNotRegistered"


def test_date_only_shape():
    rows = by_setting(utf16(DATE_ONLY))
    assert list(rows) == ["PolicyDownloadDate"]
    assert rows["PolicyDownloadDate"]["kind"] == "autopilot_profile"


def test_bad_json_warns():
    result = autopilotjson.parse(utf16('{"ErrorCode":'))
    assert result.table.num_rows == 0 and result.skipped == 1
    assert result.warnings[0].reason.startswith("not JSON")


def test_member_name_is_the_key_path():
    ctx = ParseContext(member_name="AutopilotDDSZTDFile.json")
    rows = autopilotjson.parse(utf16(DATE_ONLY), ctx).table.to_pylist()
    assert rows[0]["key_path"] == "AutopilotDDSZTDFile.json"


def test_real_full_profile(corpus):
    path = corpus_file(corpus, "json/AutopilotDDSZTDFile_djailz-Repo1_1.json")
    rows = by_setting(path.read_bytes())
    assert len(rows) == 18
    assert rows["CloudAssignedDomainJoinMethod"]["state"] == "entra_joined"
    assert (
        rows["DeploymentProfileName"]["value_text"] == "PROFILE_AUTOPILOT_DEPLOYMENT_V1"
    )
    assert rows["CloudAssignedOobeConfig"]["value_int"] == 284
    assert rows["IsExplicitProfileAssignment"]["value_int"] == 1
    assert rows["CloudAssignedTenantId"]["snapshot_at"] == datetime(
        2023, 4, 12, 9, 1, 57, tzinfo=UTC
    )
