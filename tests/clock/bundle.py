"""A bundle whose device clock ran 3 hours fast until a sync, written from the formats.

Every member is written in its real format from docs/formats.md: two .evtx
channels by the project's EVTX writer (§3.7), a ccmsetup.log with the Windows
bias (§1.2), an IME log without one (§9.1), a setupact.log (§10) and
DiagnosticsFrameworkData.json naming the zone (§8.1). The device clock reads
true + 3 h until `FIXED`, when the Autopilot downloader's event 753 (§3.4,
§8.4) records ``ServerTime`` (the truth) and ``ClientTime`` (the clock) and the
clock is set right; 751 (time sync succeeded) follows.

`TRUE` maps each record (member, key) to the true UTC it was written at, so a
test can check every record, before and after the correction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from espfleet.simulator.evtx_writer import EventRecord, shellcore_62407, write_evtx

ZONE = ZoneInfo("America/Los_Angeles")  # Pacific Standard Time, UTC-7 in October
START = datetime(2025, 10, 22, 15, 0, tzinfo=UTC)  # true UTC of the first record
FAST = timedelta(hours=3)
FIXED = START + timedelta(minutes=20)  # true UTC of the time sync
CORRECTION_S = -FAST.total_seconds()

AUTOPILOT = "microsoft-windows-moderndeployment-diagnostics-provider-autopilot.evtx"
SHELLCORE = "microsoft-windows-shell-core-operational.evtx"
CAB = "mdmlogs.cab"
_MDDP = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider"


def device(true: datetime) -> datetime:
    """What the device clock read at a true instant."""
    return true + FAST if true < FIXED else true


def _at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def autopilot() -> tuple[bytes, dict[int, datetime]]:
    """160, 164, 753 before the sync; 751, 161, 153 after (record id -> true UTC)."""
    plan = [
        (160, _at(1), ()),
        (164, _at(2), ()),
        (
            753,
            FIXED - timedelta(seconds=0.2),  # just before the sync it announces
            (
                ("ServerTime", _iso(FIXED)),
                ("ClientTime", _iso(FIXED + FAST)),
                ("AttemptNumber", "1"),
                ("MaxAttempts", "5"),
            ),
        ),
        (751, FIXED + timedelta(seconds=0.5), ()),
        (161, FIXED + timedelta(seconds=30), ()),
        (153, FIXED + timedelta(seconds=31), ()),
    ]
    records, truth = [], {}
    for n, (event_id, true, data) in enumerate(plan, 1):
        written = device(true)
        records.append(
            EventRecord(
                event_id,
                written,
                data,
                provider=_MDDP,
                provider_guid="{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}",
                channel=f"{_MDDP}/Autopilot",
                keywords=0x4000000000000000,
                computer="CLK-PC1",
            )
        )
        truth[n] = true
    return write_evtx(records), truth


def shellcore() -> tuple[bytes, dict[int, datetime]]:
    """Navigation before the sync, the ESP after it (record id -> true UTC)."""
    esp = '{"message":"ESPProgress: DevicePreparationCategory started","errorCode":0}'
    plan = [
        (_at(5), "ZDPStatusChanged", "true"),
        (_at(12), "CommercialOOBE_AutopilotRegion_SettingRetrieval_Started", "{}"),
        (_at(25), "CommercialOOBE_ESPProgress_Category_Started", esp),
        (_at(26), "CommercialOOBE_ESPProgress_Page_Exiting", "{}"),
    ]
    records, truth = [], {}
    for n, (true, name, value) in enumerate(plan, 1):
        records.append(shellcore_62407(device(true), name, value, computer="CLK-PC1"))
        truth[n] = true
    return write_evtx(records), truth


def _cm(true: datetime, message: str, component: str, bias: bool = True) -> str:
    local = device(true).astimezone(ZONE)
    offset = local.utcoffset()
    assert offset is not None
    stamp = f"{local:%H:%M:%S}.{local.microsecond // 1000:03d}"
    if bias:
        stamp += f"{-int(offset.total_seconds() // 60):+04d}"
    return (
        f'<![LOG[{message}]LOG]!><time="{stamp}" date="{local:%m-%d-%Y}" '
        f'component="{component}" context="" type="1" thread="7" file="">'
    )


def ccmsetup() -> tuple[bytes, dict[int, datetime]]:
    """One run: banner and two records before the sync, two after (record_no)."""
    plan = [
        (_at(15), "==========[ ccmsetup started in process 4242 ]=========="),
        (_at(16), "Running on 'Microsoft Windows 11 Enterprise' (10.0.22631)."),
        (_at(19), "Downloading file ccmsetup.cab"),
        (_at(30), "Installing version 5.00.9132.1011 of the client"),
        (_at(33), "CcmSetup is exiting with return code 0"),
    ]
    lines = [_cm(t, m, "ccmsetup") for t, m in plan]
    text = "\r\n".join(lines) + "\r\n"
    return b"\xef\xbb\xbf" + text.encode(), {n: t for n, (t, _m) in enumerate(plan, 1)}


def ime() -> tuple[bytes, dict[int, datetime]]:
    """IME lines (no bias) after the sync."""
    plan = [(_at(40), "Agent is starting"), (_at(41), "Polling thread started")]
    lines = [
        _cm(t, m, "IntuneManagementExtension", bias=False).replace('.000"', '.0000000"')
        for t, m in plan
    ]
    text = "\r\n".join(lines) + "\r\n"
    return b"\xef\xbb\xbf" + text.encode(), {n: t for n, (t, _m) in enumerate(plan, 1)}


def setupact() -> tuple[bytes, dict[int, datetime]]:
    """OOBE lines in device local time, before and after the sync (line_no)."""
    plan = [
        (_at(3), "[windeploy.exe] WinDeploy.exe launched with command-line []..."),
        (_at(4), "[msoobe.exe] Set time zone to [Pacific Standard Time]"),
        (_at(19), "[msoobe.exe] OOBE network connected"),
        (_at(21), "[msoobe.exe] COMMIT: succeeded for plugin TimeDate Plugin"),
    ]
    lines = []
    for true, message in plan:
        local = device(true).astimezone(ZONE)
        lines.append(f"{local:%Y-%m-%d %H:%M:%S}, Info{' ' * 25}{message}")
    text = "\r\n".join(lines) + "\r\n"
    return b"\xef\xbb\xbf" + text.encode(), {n: t for n, (t, _m) in enumerate(plan, 1)}


def framework() -> bytes:
    items = [
        {"propertyId": "Timezone", "value": "Pacific Standard Time"},
        {"propertyId": "DeviceName", "value": "CLK-PC1"},
        {"propertyId": "SerialNumber", "value": "CLK0001"},
    ]
    doc = {"$schema": [{"categories": [{"categoryId": "General", "items": items}]}]}
    return json.dumps(doc).encode()


def bundle() -> tuple[dict[str, bytes], dict[tuple[str, int], datetime]]:
    """Members and the true UTC of every record, by (member, record key)."""
    members: dict[str, bytes] = {f"{CAB}/DiagnosticsFrameworkData.json": framework()}
    truth: dict[tuple[str, int], datetime] = {}
    for name, make in (
        (f"{CAB}/{AUTOPILOT}", autopilot),
        (f"{CAB}/{SHELLCORE}", shellcore),
        (f"{CAB}/IntuneManagementExtension.log", ime),
        (f"{CAB}/setupact.log", setupact),
        ("ccmsetup.log", ccmsetup),
    ):
        data, times = make()
        members[name] = data
        truth.update({(name, k): t for k, t in times.items()})
    return members, truth
