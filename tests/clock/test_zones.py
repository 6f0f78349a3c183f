"""Zones of eras: setup log zone lines and CSI stamps, the CAB member-time fallback,
contradictions, and the real bundles of the corpus."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from espfleet.ingest import ingest_bundle
from espfleet.unpack import unpack
from tests.conftest import corpus_file

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "setuplog"
SETUPACT = (FIXTURE / "setupact_csi_zone_change.log").read_bytes()
IME = (
    '<![LOG[Agent is starting]LOG]!><time="17:30:00.0000000" date="10-21-2025" '
    'component="IntuneManagementExtension" context="" type="1" thread="5" file="">\r\n'
)


def table(out, name: str) -> pa.Table:
    return pa.concat_tables(t for _m, t in out.tables[name])


def framework(zone: str) -> bytes:
    return (
        '{"$schema":[{"categories":[{"items":[{"propertyId":"Timezone","value":"'
        + zone
        + '"}]}]}]}'
    ).encode()


def test_the_zone_change_line_cuts_the_log_into_two_eras():
    out = ingest_bundle({"x.cab/setupact.log": SETUPACT})
    lines = table(out, "setup_log_entries").to_pylist()
    got = {
        r["line_no"]: (r["ts_utc"], r["ts_confidence"], r["clock_era"]) for r in lines
    }
    utc = lambda *hms: datetime(2025, 10, 21, *hms, tzinfo=UTC)  # noqa: E731
    assert got[1] == (utc(15, 0, 1), "from_log_offset", 0)  # UTC-7 from the CSI stamps
    assert got[3] == (datetime(2025, 10, 21, 15, 0, 5, 122000, tzinfo=UTC), "exact", 0)
    assert got[8] == (utc(15, 2, 14), "from_log_offset", 0)
    assert got[9] == (utc(15, 2, 14), "from_device_zone", 1)  # W. Europe, CEST
    assert got[11] == (utc(15, 2, 20), "from_device_zone", 1)
    assert got[15] == (utc(15, 6, 31), "from_device_zone", 1)
    eras = table(out, "clock_eras").to_pylist()
    assert [
        (
            e["era_no"],
            e["opened_by"],
            e["windows_zone"],
            e["utc_offset_min"],
            e["zone_source"],
        )
        for e in eras
    ] == [
        (0, "bundle_start", None, -420, "setupact.log CSI"),
        (1, "zone_change", "W. Europe Standard Time", None, "setupact.log"),
    ]
    assert all(e["clock_offset_s"] == 0 for e in eras)


def test_a_csi_stamp_that_contradicts_the_named_zone_leaves_the_zone_unknown():
    bad = SETUPACT.replace(b"@2025/10/21:15:05:00.250", b"@2025/10/21:14:05:00.250")
    out = ingest_bundle({"x.cab/setupact.log": bad})
    lines = table(out, "setup_log_entries").to_pylist()
    after = [r for r in lines if r["line_no"] >= 9 and r["csi_utc"] is None]
    assert after and all(
        (r["ts_utc"], r["ts_confidence"]) == (None, "unknown") for r in after
    )
    anchors = table(out, "clock_anchors").to_pylist()
    assert any("contradicts W. Europe Standard Time" in a["note"] for a in anchors)


def test_a_collection_zone_the_setup_log_never_set_makes_later_local_times_unknown():
    out = ingest_bundle(
        {
            "x.cab/setupact.log": SETUPACT,
            "x.cab/DiagnosticsFrameworkData.json": framework("Tokyo Standard Time"),
            "x.cab/IntuneManagementExtension.log": IME.encode(),
        }
    )
    ((ime,),) = [t.to_pylist() for _m, t in out.tables["cm_log_entries"]]
    assert (ime["ts_utc"], ime["ts_confidence"]) == (None, "unknown")
    eras = table(out, "clock_eras").to_pylist()
    assert eras[-1]["zone_source"] == "unknown"
    assert "not the one x.cab/setupact.log set last" in eras[-1]["evidence"]


def test_a_setup_log_agreeing_with_the_collection_zone_converts_the_ime_log():
    out = ingest_bundle(
        {
            "x.cab/setupact.log": SETUPACT,
            "x.cab/DiagnosticsFrameworkData.json": framework("W. Europe Standard Time"),
            "x.cab/IntuneManagementExtension.log": IME.encode(),
        }
    )
    ((ime,),) = [t.to_pylist() for _m, t in out.tables["cm_log_entries"]]
    assert ime["ts_utc"] == datetime(2025, 10, 21, 15, 30, tzinfo=UTC)
    assert (ime["ts_confidence"], ime["clock_era"]) == ("from_device_zone", 1)


def test_real_cab_without_a_zone_source_takes_plus_7_from_its_member_times(corpus):
    path = corpus_file(corpus, "cab/MDMDiagReport_joopjaeng-jaeng_2020.cab")
    written: dict[str, datetime] = {}
    members = unpack({path.name: path.read_bytes()}, written_at=written)
    out = ingest_bundle(members, written)
    device = out.device
    assert (device.device_zone, device.utc_offset_min, device.zone_source) == (
        None,
        420,
        "cab_member_times",
    )
    lines = table(out, "setup_log_entries").to_pylist()
    first = lines[0]
    assert first["ts_local"] == datetime(2020, 3, 27, 5, 40, 10)
    assert (first["ts_utc"], first["ts_confidence"]) == (
        datetime(2020, 3, 26, 22, 40, 10, tzinfo=UTC),
        "from_collection_offset",
    )
    (era,) = table(out, "clock_eras").to_pylist()
    assert (era["utc_offset_min"], era["zone_source"]) == (420, "cab_member_times")


def test_real_cab_with_a_named_zone_records_the_member_times_as_agreeing(corpus):
    path = corpus_file(corpus, "cab/MDMDiagReport_itziktdk-MyRes_2024.cab")
    written: dict[str, datetime] = {}
    out = ingest_bundle(
        unpack({path.name: path.read_bytes()}, written_at=written), written
    )
    assert (out.device.device_zone, out.device.utc_offset_min) == (
        "Asia/Jerusalem",
        180,
    )
    anchors = {a["kind"]: a for a in table(out, "clock_anchors").to_pylist()}
    assert anchors["cab_member_times"]["note"].endswith(
        "agrees with Israel Standard Time"
    )
    assert anchors["cab_member_times"]["used"] is False


def _zip(members: list[tuple[str, bytes]], stamp: tuple) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
    return buf.getvalue()


def test_zip_member_times_are_utc_so_they_give_no_offset():
    xml = b"<x><ReportCreationTime>Thursday, 20 August 2026--07:59:11 (UTC)</ReportCreationTime></x>"
    data = _zip([("MDMDiagReport.xml", xml)], (2026, 8, 20, 7, 59, 10))
    written: dict[str, datetime] = {}
    out = ingest_bundle(
        unpack({"MDMDiagReport.zip": data}, written_at=written), written
    )
    assert (
        written and out.device.utc_offset_min is None and out.device.zone_source is None
    )


def gsagar(corpus) -> dict[str, bytes]:
    members = {}
    for path in sorted((corpus / "evtx").glob("zip_Gsagar109-Public__*.evtx")):
        members["zip/" + path.name.split("__")[1]] = path.read_bytes()
    base = "cab/extracted_Gsagar109-Public/"
    members["zip/setupact.log"] = corpus_file(
        corpus, base + "setupact.log"
    ).read_bytes()
    xml = corpus_file(corpus, base + "Gsagar109-Public__MDMDiagReport.xml.gz")
    members["zip/MDMDiagReport.xml"] = gzip.decompress(xml.read_bytes())
    return members


@pytest.fixture(scope="module")
def real_753(corpus):
    return ingest_bundle(gsagar(corpus))


def test_real_753_corrects_the_clock_by_server_minus_client_time(real_753):
    eras = table(real_753, "clock_eras").to_pylist()
    assert [(e["clock_offset_s"], e["clock_evidence"]) for e in eras] == [
        (-44860.0, "exact"),
        (0.0, "none"),
    ]
    assert eras[1]["started_at"] == datetime(2026, 8, 19, 13, 40, 18, tzinfo=UTC)


def test_real_753_moves_the_records_before_the_sync_in_every_channel(real_753):
    moved = {}
    for member, part in real_753.tables["events"]:
        offsets = part.column("clock_offset_s").to_pylist()
        moved[member.removeprefix("zip/")] = offsets.count(-44860.0)
    assert moved == {
        # records 1-549, then the jump back to the server's time
        "devicemanagement-enterprise-diagnostics-provider-admin.evtx": 549,
        "devicemanagement-enterprise-diagnostics-provider-operational.evtx": 280,
        "moderndeployment-diagnostics-provider-autopilot.evtx": 24,  # to the 753
        "moderndeployment-diagnostics-provider-diagnostics.evtx": 0,
        "moderndeployment-diagnostics-provider-managementservice.evtx": 0,
        # no jump here: its records sit among the other channels' pre-sync ones
        "provisioning-diagnostics-provider-admin.evtx": 166,
        "shell-core-operational.evtx": 0,
        "user_device_registration-admin.evtx": 0,
    }


def test_real_setupact_head_is_in_the_zone_its_first_zone_line_names(real_753):
    lines = table(real_753, "setup_log_entries").to_pylist()
    first = lines[0]
    # written at 19:04:06 PDT by a clock 12 h 27 min 40 s fast
    assert first["ts_local"] == datetime(2026, 8, 19, 19, 4, 6)
    assert first["ts_utc"] == datetime(2026, 8, 19, 13, 36, 26, tzinfo=UTC)
    assert first["ts_confidence"] == "corrected_clock"
    assert lines[-1]["ts_confidence"] == "from_device_zone"
