"""The fleet simulator writes deterministic, readable, self-consistent bundles.

The checks re-derive the ground truth from the written evidence with the rules of
docs/scenarios.md (independently of the simulator's own plan objects).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import evtx
import libarchive
import pytest
from tzlocal.windows_tz import win_tz

from espfleet.simulator.fleet import COLUMNS, simulate
from espfleet.simulator.scenarios import CAUSES, LONE_CAB_OK

DEVICES = 60
CONTRACT_COLUMNS = (
    "bundle_path serial_number device_name attempt attempt_in_bundle started_at "
    "day scenario expected_status "
    "outcome failed_phase error_code root_error_code cause failing_step "
    "tz_name tz_bias_min "
    "os_build model client_version layout "
    "zone_source clock_case clock_skew_s clock_fixed_at zone_before zone_changed_at"
).split()
CCM = re.compile(
    r'<!\[LOG\[(?P<msg>.*?)\]LOG\]!><time="(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})'
    r'(?:\.(?P<frac>\d+))?(?P<bias>[+-]\d+)?"\s+date="(?P<mo>\d{1,2})-(?P<d>\d{1,2})-'
    r'(?P<y>\d{4})"\s+component="(?P<comp>[^"]*)"[^>]*>',
    re.S,
)


@pytest.fixture(scope="module")
def share(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("share")
    simulate(DEVICES, 11, out)
    return out


@pytest.fixture(scope="module")
def truth(share: Path) -> list[dict[str, str]]:
    with (share / "ground_truth.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _cab_bytes(share: Path, row: dict[str, str]) -> bytes:
    path = share / row["bundle_path"]
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".cab"))
            return zf.read(name)
    if path.suffix == ".cab":
        return path.read_bytes()
    return next(path.glob("*.cab")).read_bytes()


def _members(data: bytes) -> dict[str, bytes]:
    with libarchive.memory_reader(data) as arc:
        return {e.pathname: b"".join(e.get_blocks()) for e in arc}


def _loose(share: Path, row: dict[str, str]) -> dict[str, bytes]:
    path = share / row["bundle_path"]
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.iterdir() if p.suffix != ".cab"}
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return {
                n.rsplit("/", 1)[-1]: zf.read(n)
                for n in zf.namelist()
                if "/" in n and not n.endswith(".cab")
            }
    return {}


def _events(data: bytes, tmp: Path) -> list[tuple[datetime, str, str]]:
    f = tmp / "x.evtx"
    f.write_bytes(data)
    out = []
    for rec in evtx.PyEvtxParser(str(f)).records_json():
        ev = json.loads(rec["data"])["Event"]
        ts = datetime.fromisoformat(
            ev["System"]["TimeCreated"]["#attributes"]["SystemTime"].replace(
                "Z", "+00:00"
            )
        )
        out.append((ts, ev["EventData"]["Name"], ev["EventData"]["Value"]))
    return out


def _ingested(truth: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in truth if r["expected_status"] == "ingested"]


def test_same_seed_writes_same_bytes(share: Path, tmp_path: Path) -> None:
    simulate(DEVICES, 11, tmp_path / "again")
    assert _tree(share) == _tree(tmp_path / "again")


def test_different_seed_differs(share: Path, tmp_path: Path) -> None:
    simulate(DEVICES, 12, tmp_path / "other")
    assert (tmp_path / "other" / "ground_truth.csv").read_bytes() != (
        share / "ground_truth.csv"
    ).read_bytes()


def test_ground_truth_columns_follow_the_contract(truth: list[dict[str, str]]) -> None:
    assert list(COLUMNS) == CONTRACT_COLUMNS
    assert list(truth[0]) == CONTRACT_COLUMNS


def test_mix_covers_every_cause_retry_damage_and_layout(
    truth: list[dict[str, str]],
) -> None:
    # msi_app_failed is drawn from win32_app_failed (catalog.MSI_SHARE)
    scenarios = {r["scenario"] for r in _ingested(truth)} - {"msi_app_failed"}
    assert scenarios == set(CAUSES)
    causes = {r["cause"] for r in _ingested(truth)} - {"msi_app_failed"}
    assert causes == set(CAUSES) - {"try_again_ok", "continue_anyway"} | {
        "retried_in_bundle"
    }
    assert any(r["attempt"] == "2" for r in truth)
    assert any(r["expected_status"] == "quarantined" for r in truth)
    assert {r["layout"] for r in truth} == {"folder", "lone_cab", "intune_zip"}
    assert len({r["tz_name"] for r in truth}) >= 5
    assert {r["bundle_path"] for r in truth} == {
        r["bundle_path"] for r in truth if r["bundle_path"]
    }
    # one row per attempt: two for a bundle whose log shows Try again
    assert len({(r["bundle_path"], r["attempt_in_bundle"]) for r in truth}) == len(
        truth
    )


def test_every_cab_opens_except_the_truncated_ones(
    share: Path, truth: list[dict[str, str]]
) -> None:
    for row in truth:
        data = _cab_bytes(share, row)
        assert data[:4] == b"MSCF"
        if row["expected_status"] == "quarantined":
            with pytest.raises(libarchive.ArchiveError):
                _members(data)
        else:
            names = set(_members(data))
            assert {
                "MdmDiagReport_RegistryDump.reg",
                "MDMDiagReport.xml",
                "MdmDiagLogMetadata.json",
            } <= names
            assert f"DeviceHash_{row['device_name']}.csv" in names


def _first_failure(
    events: list[tuple[datetime, str, str]],
) -> tuple[datetime, str, int] | None:
    for ts, name, value in events:
        if not name.startswith("CommercialOOBE_"):
            continue
        body = json.loads(value)
        if name.endswith(("_Failed", "_TimedOut")):
            msg = body["message"]
            if "state = rebootRequiredAndTryAgain" in msg:
                continue  # logged _Failed, not a failure (formats.md §3.3.1)
            if "ESPDevicePreparation" in name or "DevicePreparation" in msg:
                phase = "DevicePreparation"
            elif "DeviceSetup" in name or "DeviceSetup" in msg:
                phase = "DeviceSetup"
            else:
                phase = "AccountSetup"
            return ts, phase, body["errorCode"] & 0xFFFFFFFF
    return None


def test_evtx_reads_back_and_implies_the_ground_truth(
    share: Path, truth: list[dict[str, str]], tmp_path: Path
) -> None:
    for row in _ingested(truth):
        if row["attempt_in_bundle"] != "1":
            continue  # the second run of a Try again bundle: its own test
        events = _events(
            _members(_cab_bytes(share, row))[
                "microsoft-windows-shell-core-operational.evtx"
            ],
            tmp_path,
        )
        assert all(
            json.loads(v).keys() >= {"message", "errorCode"}
            for _, n, v in events
            if n.startswith("CommercialOOBE_")
        )
        if row["failed_phase"] in ("MdmEnrollment", "EntraJoin", "AutopilotProfile"):
            _assert_pre_esp_failure(events, row)
            continue
        start = next(
            ts
            for ts, n, v in events
            if n == "CommercialOOBE_ESPProgress_Category_Started"
            and "DevicePreparationCategory" in v
        )
        assert start.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" == row["started_at"]
        fail = _first_failure(events)
        if row["outcome"] == "succeeded":
            assert fail is None
            continue
        assert fail is not None
        _, phase, code = fail
        assert phase == row["failed_phase"]
        root = int(row["root_error_code"], 16) if row["root_error_code"] else 0
        # a timeout logged with errorCode 0 is reported as 0x800705B4
        assert f"0x{code or root or 0x800705B4:08X}" == row["error_code"]
        names = {n for _, n, _ in events}
        assert ("CommercialOOBE_WhiteGlove_TechnicianFlow_Started" in names) == (
            row["cause"] == "unsupported_preprovisioning"
        )
        if row["cause"] == "ccmsetup_never_ran":
            assert (
                "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_TimedOut",
                2147943860,
            ) == (next(n for _, n, _ in events if n.endswith("_TimedOut")), code)


def _assert_pre_esp_failure(events, row) -> None:
    """No ESP page; the first failure before it is at started_at."""
    assert not any(n.startswith("CommercialOOBE_ESP") for _, n, _ in events)
    first = {
        "MdmEnrollment": "UnifiedEnrollment_AddMdm_Discovery_",
        "EntraJoin": "CDJUIError",
        "AutopilotProfile": "CommercialOOBE_Autopilot_Profile_Unavailable",
    }[row["failed_phase"]]
    ts = next(ts for ts, n, _ in events if n.startswith(first))
    assert ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" == row["started_at"]


LINE = re.compile(
    r'^(\[HKEY_[A-Z_]+(\\[^\]\r\n]+)*\]|    ("(?:[^"\\]|\\.)*"|@)=(DWORD:[0-9a-f]{8}|QWORD:[0-9a-f]+'
    r'|"(?:[^"\\]|\\.)*"|hex\(3\):[0-9a-f]{2}(,[0-9a-f]{2})*)|)$'
)


def _dword(text: str, key: str, name: str) -> int | None:
    m = re.search(
        re.escape(f"[{key}]")
        + r'\r\n(?:    .*\r\n)*?    "'
        + name
        + r'"=DWORD:([0-9a-f]{8})',
        text,
        re.I,
    )
    return int(m.group(1), 16) if m else None


def test_registry_dump_dialect_and_tracking_states(
    share: Path, truth: list[dict[str, str]]
) -> None:
    est = "HKEY_LOCAL_MACHINE\\software\\microsoft\\windows\\autopilot\\EnrollmentStatusTracking\\Device"
    for row in _ingested(truth):
        raw = _members(_cab_bytes(share, row))["MdmDiagReport_RegistryDump.reg"]
        assert not raw.startswith((b"\xff\xfe", b"\xef\xbb\xbf", b"Windows Registry"))
        assert b"\n" not in raw.replace(b"\r\n", b"")
        text = raw.decode("cp1252")
        for line in text.split("\r\n"):
            assert LINE.match(line), line
        cm = _dword(
            text,
            est + "\\DevicePreparation\\PolicyProviders\\ConfigMgr",
            "InstallationState",
        )
        ts = _dword(
            text,
            est + "\\Setup\\Apps\\Tracking\\ConfigMgr\\Provisioning_TS",
            "InstallationState",
        )
        expected_cm = {
            "ccmsetup_never_ran": 1,
            "ccmsetup_failed": 4,
            "ccmsetup_too_late": 3,
            "ok": 3,
        }
        if row["cause"] in expected_cm:
            assert cm == expected_cm[row["cause"]], row
        if row["cause"] == "ts_step_failed":
            assert (cm, ts) == (3, 4)
        if row["cause"] == "ts_still_running":
            assert ts in (1, 2)
        if row["cause"] == "ok":
            assert ts == 3
        join = re.search(r'"CloudAssignedDomainJoinMethod"=DWORD:([0-9a-f]{8})', text)
        assert join and (int(join.group(1), 16) == 1) == (
            row["cause"] == "unsupported_hybrid_join"
        )
        assert (
            '"SkipDeviceStatusPage"=DWORD:00000000' in text
            and '"SyncFailureTimeout"=DWORD:0000003c' in text
        )


def _records(data: bytes) -> list[re.Match[str]]:
    return list(CCM.finditer(data.decode("utf-8-sig")))


def _utc(m: re.Match[str]) -> datetime:
    frac = (m["frac"] or "0")[:6].ljust(6, "0")
    local = datetime(
        int(m["y"]),
        int(m["mo"]),
        int(m["d"]),
        int(m["h"]),
        int(m["mi"]),
        int(m["s"]),
        int(frac),
    )
    return (local + timedelta(minutes=int(m["bias"]))).replace(tzinfo=UTC)


def test_ccmsetup_records_round_trip_to_utc_and_imply_the_cause(
    share: Path, truth: list[dict[str, str]], tmp_path: Path
) -> None:
    seen = 0
    for row in _ingested(truth):
        loose = _loose(share, row)
        if row["cause"] == "ccmsetup_never_ran":
            assert "ccmsetup.log" not in loose
        if "ccmsetup.log" not in loose:
            continue
        seen += 1
        data = loose.get("ccmsetup.lo_", b"") + loose["ccmsetup.log"]
        recs = _records(data)
        zone = ZoneInfo(win_tz[row["tz_name"]])
        for m in recs:
            utc = _utc(m)
            # the written bias is the zone's bias at that instant (DST included)
            assert -utc.astimezone(zone).utcoffset().total_seconds() // 60 == int(
                m["bias"]
            )
        exits = [
            (_utc(m), m["msg"])
            for m in recs
            if m["msg"].startswith("CcmSetup is exiting")
        ]
        failures = [
            m["msg"]
            for m in recs
            if m["msg"].startswith("CcmSetup failed with error code")
        ]
        if row["cause"] == "ccmsetup_failed":
            assert failures and failures[-1].endswith(
                row["root_error_code"][2:].lower()
            )
        else:
            assert not failures
        if row["cause"] == "ccmsetup_too_late":
            events = _events(
                _members(_cab_bytes(share, row))[
                    "microsoft-windows-shell-core-operational.evtx"
                ],
                tmp_path,
            )
            timeout = next(ts for ts, n, _ in events if n.endswith("_TimedOut"))
            assert exits[-1][1].endswith(" 0") and exits[-1][0] > timeout
    assert seen >= 10


def test_smsts_shows_the_failing_or_running_step(
    share: Path, truth: list[dict[str, str]]
) -> None:
    for row in _ingested(truth):
        if row["layout"] == "lone_cab":
            assert not row["failing_step"]
            continue
        if row["cause"] not in ("ts_step_failed", "ts_still_running"):
            continue
        msgs = [m["msg"] for m in _records(_loose(share, row)["smsts.log"])]
        step = row["failing_step"]
        if row["cause"] == "ts_step_failed":
            fail = next(
                m for m in msgs if m.startswith(f"Failed to run the action: {step}.")
            )
            code = int(row["root_error_code"], 16)
            assert (
                str(code - 2**32 if code >= 2**31 else code) in fail
                or f"{code:08X}" in fail
            )
            assert "Task Sequence Engine failed! Code: enExecutionFail" in msgs
        else:
            starts = [m for m in msgs if m.startswith("Start executing an instruction")]
            assert step in starts[-1]
            assert not any(
                m.startswith(f"Successfully completed the action ({step})")
                for m in msgs
            )


def test_client_msi_log_is_utf16_with_bom(share: Path) -> None:
    logs = list(share.rglob("client.msi.log"))
    assert logs
    for p in logs:
        raw = p.read_bytes()
        assert raw[:2] == b"\xff\xfe"
        text = raw[2:].decode("utf-16-le")
        assert "Return value" in text and "\n" not in text.replace("\r\n", "")


def test_ime_log_has_seven_digit_fractions_and_no_bias(
    share: Path, truth: list[dict[str, str]]
) -> None:
    row = _ingested(truth)[0]
    recs = _records(_members(_cab_bytes(share, row))["IntuneManagementExtension.log"])
    assert recs and all(len(m["frac"]) == 7 and m["bias"] is None for m in recs)
    assert any("\n" in m["msg"] for m in recs)


def test_framework_json_names_the_device_zone(
    share: Path, truth: list[dict[str, str]]
) -> None:
    for row in _ingested(truth)[:10]:
        doc = json.loads(
            _members(_cab_bytes(share, row))["DiagnosticsFrameworkData.json"]
        )
        items = {
            i["propertyId"]: i["value"]
            for c in doc["$schema"][0]["categories"]
            for i in c["items"]
        }
        assert (
            items["Timezone"] == row["tz_name"]
            and items["SerialNumber"] == row["serial_number"]
        )
        assert row["tz_bias_min"] == str(
            -int(
                datetime.fromisoformat(row["started_at"].replace("Z", "+00:00"))
                .astimezone(ZoneInfo(win_tz[row["tz_name"]]))
                .utcoffset()
                .total_seconds()
                // 60
            )
        )


def test_intune_zip_has_results_xml_and_flattened_entries(
    share: Path, truth: list[dict[str, str]]
) -> None:
    rows = [r for r in truth if r["layout"] == "intune_zip"]
    assert rows
    for row in rows:
        name = Path(row["bundle_path"]).name
        assert re.fullmatch(r"DiagLogs-.+-\d{8}T\d{6}Z\.zip", name)
        with zipfile.ZipFile(share / row["bundle_path"]) as zf:
            names = zf.namelist()
            assert "results.xml" in names
            assert any(
                re.match(
                    r"\(\d+\) FoldersFiles temp_MDMDiagnostics_mdmlogs-.*_cab/mdmlogs-.*\.cab$",
                    n,
                )
                for n in names
            )


def test_ground_truth_csv_is_plain_utf8(share: Path) -> None:
    text = (share / "ground_truth.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == CONTRACT_COLUMNS and all(
        len(r) == len(CONTRACT_COLUMNS) for r in rows
    )


def test_autopilot_channel_reads_back(
    share: Path, truth: list[dict[str, str]], tmp_path: Path
) -> None:
    name = "microsoft-windows-moderndeployment-diagnostics-provider-autopilot.evtx"
    f = tmp_path / "ap.evtx"
    for row in _ingested(truth):
        f.write_bytes(_members(_cab_bytes(share, row))[name])
        recs = [
            json.loads(r["data"])["Event"]
            for r in evtx.PyEvtxParser(str(f)).records_json()
        ]
        assert {153, 160, 161, 111} <= {e["System"]["EventID"] for e in recs}
        first = min(
            e["System"]["TimeCreated"]["#attributes"]["SystemTime"] for e in recs
        )
        assert first < row["started_at"]  # the profile comes before the ESP


def test_lone_cabs_only_for_causes_the_cab_decides(truth: list[dict[str, str]]) -> None:
    lone = [r for r in _ingested(truth) if r["layout"] == "lone_cab"]
    assert lone
    assert {r["scenario"] for r in lone} <= LONE_CAB_OK
    assert all(not r["root_error_code"] and not r["failing_step"] for r in lone)


def test_fleet_spans_a_dst_change_and_rolled_logs(
    share: Path, truth: list[dict[str, str]]
) -> None:
    biases: dict[str, set[str]] = {}
    for r in _ingested(truth):
        biases.setdefault(r["tz_name"], set()).add(r["tz_bias_min"])
    assert any(len(b) > 1 for b in biases.values())
    assert list(share.rglob("ccmsetup.lo_"))


def test_an_msi_app_failure_writes_the_mdm_install_events(
    share: Path, truth: list[dict[str, str]], tmp_path: Path
) -> None:
    # DMEDP Admin 1905/1906/1920 then 1924 with its result (docs/formats.md §3.5)
    name = (
        "microsoft-windows-devicemanagement-enterprise-diagnostics-provider-admin.evtx"
    )
    (row,) = [r for r in _ingested(truth) if r["scenario"] == "msi_app_failed"]
    assert (row["outcome"], row["failed_phase"], row["cause"]) == (
        "failed",
        "DeviceSetup",
        "msi_app_failed",
    )
    f = tmp_path / "dmedp.evtx"
    f.write_bytes(_members(_cab_bytes(share, row))[name])
    recs = [
        json.loads(r["data"])["Event"] for r in evtx.PyEvtxParser(str(f)).records_json()
    ]
    assert [e["System"]["EventID"] for e in recs] == [1905, 1906, 1920, 1924]
    failed = recs[-1]["EventData"]
    assert failed["Message3"].startswith("{") and failed["Message3"].endswith("}")
    assert failed["Message4"] == "S-0-0-00-0000000000-0000000000-000000000-000"
    assert int(failed["HexInt1"], 16) == int(row["error_code"], 16)
    assert row["error_code"] in ("0x80070643", "0x80070652")
