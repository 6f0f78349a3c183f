"""Logs beside ConfigMgr's own: the IME log (in the CAB) and client.msi.log.

The IME log is CMTrace syntax written by .NET: 7-digit fractions, no bias, unpadded
dates, empty ``file`` attribute, some multi-line JSON messages (docs/formats.md
§1.5, §9.1). client.msi.log is an MSI verbose log: UTF-16LE with a BOM, CRLF.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from .cmlogs import BOM
from .scenarios import Plan


def _app_id(rng: random.Random, middle: str) -> str:
    return f"{rng.getrandbits(32):08x}-{middle}-{rng.getrandbits(48):012x}"


def ime_log(plan: Plan, rng: random.Random) -> bytes:
    """IntuneManagementExtension.log: 7-digit fractions, no bias, unpadded dates."""
    th = rng.randint(4, 60)
    at = plan.started_at + timedelta(seconds=rng.uniform(90, 300))
    end = plan.collected_at - timedelta(seconds=rng.uniform(30, 200))
    out: list[str] = []
    report = plan.app_failed_at  # the app the ESP waited for, at its instant

    def add(msg: str, typ: int = 1, when: datetime | None = None) -> None:
        nonlocal at, report
        at = when or at + timedelta(seconds=rng.uniform(0.001, 40))
        if report is not None and at >= report:
            due, report = report, None
            add(app_report(plan), 3, due)
            at = max(at, due + timedelta(milliseconds=5))
        plan.clock.note("IntuneManagementExtension.log", len(out) + 1, at)
        loc = plan.local(at)
        ticks = loc.microsecond * 10 + rng.randrange(10)
        out.append(
            f'<![LOG[{msg}]LOG]!><time="{loc:%H:%M:%S}.{ticks:07d}" '
            f'date="{loc.month}-{loc.day}-{loc.year}" '
            'component="IntuneManagementExtension" '
            f'context="" type="{typ}" thread="{th}" file="">'
        )

    add("Intune Management Extension Agent is starting...")
    add(f"Agent version is 1.{rng.randint(80, 91)}.{rng.randint(100, 300)}.0")
    add("[APv2] Checking if device is in APv2 mode.")
    add("[APv2] Device is in APv2 mode: False.")
    add(
        "co-mgt features is not available, ex = System.Management.ManagementException, "
        "not fatal",
        2,
    )
    add("Comgt app workload status False")
    policy = [
        {
            "Id": _app_id(rng, "5bb2-4d5c-9f0e"),
            "Name": "Company Portal",
            "Intent": 3,
            "TargetType": 2,
            "InstallContext": 2,
        },
        {
            "Id": _app_id(rng, "2f0b-4e6f-8a51"),
            "Name": "Microsoft 365 Apps",
            "Intent": 3,
            "TargetType": 2,
            "InstallContext": 2,
        },
    ]
    add(
        "[Win32App] Get policies = "
        + json.dumps(policy, indent=2).replace("\n", "\r\n")
    )
    add(
        "[Win32App] ESP checking for Win32 apps is enabled, tracking "
        "0 apps for device setup."
    )
    while at < end:
        add("[PowerShell] Polling thread started.")
        add("[Win32App] Request available apps for user logon.", 2)
        add(
            "[Win32App] Device status: "
            + json.dumps(
                {"ComplianceState": "Unknown", "ESPPhase": "DeviceSetup"}, indent=1
            ).replace("\n", "\r\n")
        )
        # polls get sparse once the ESP is over: keep the log small
        gap = 30 if len(out) < 60 else 300
        at += timedelta(minutes=rng.uniform(gap / 6, gap))
    if report is not None:  # the polls jumped past it and the end
        add(app_report(plan), 3, report)
    return BOM + ("\r\n".join(out) + "\r\n").encode("utf-8")


def app_report(plan: Plan) -> str:
    """The IME's report of a Win32 app in error (docs/formats.md §9.1.1)."""
    assert plan.app_failure is not None
    name, exit_code, hresult = plan.app_failure
    signed = hresult - 2**32 if hresult >= 2**31 else hresult
    item = {
        "AppId": "7e0c5a1f-2b9d-4c3e-8f61-0a9b8c7d6e5f",
        "InternalVersion": 1,
        "ExitCode": exit_code,
        "ComplianceStateMessage": {"ComplianceState": 2, "ErrorCode": None},
        "EnforcementStateMessage": {
            "EnforcementState": 5000,
            "ErrorCode": signed,
            "TargetingMethod": 0,
        },
        "Intent": 3,
        "Info": json.dumps({"EspPhase": 2, "EspAppInstallState": 3}),
        "ApplicationName": name,
    }
    return (
        "[Win32App][ReportingCacheManager] Sending reports for user with id: "
        "00000000-0000-0000-0000-000000000000. Reports: "
        + json.dumps([item], separators=(",", ":"))
    )


def client_msi_log(plan: Plan, rng: random.Random, failed: bool) -> bytes:
    """client.msi.log: MSI verbose log, UTF-16LE with BOM, CRLF."""
    run = next((r for r in plan.runs if r.service), plan.runs[-1])
    at = plan.local(run.start + (run.end - run.start) * 0.45)
    pid = f"{rng.randint(0x400, 0x2000):X}"
    msi_c = (
        f"MSI (c) ({pid}:{rng.randint(10, 99)}) [{at:%H:%M:%S}:{rng.randint(100, 999)}]"
    )
    lines = [
        f"=== Verbose logging started: {at:%m/%d/%Y  %H:%M:%S} "
        " Build type: SHIP UNICODE 5.00.10011.00  "
        "Calling process: C:\\WINDOWS\\ccmsetup\\ccmsetup.exe ===",
        f"{msi_c}: Resetting cached policy values",
        f"{msi_c}: Machine policy value 'Debug' is 0",
        f"Action start {at:%H:%M:%S}: INSTALL.",
        f"Action start {at:%H:%M:%S}: CostInitialize.",
        f"Action ended {at:%H:%M:%S}: CostInitialize. Return value 1.",
        f"Action start {at:%H:%M:%S}: InstallFiles.",
    ]
    if failed:
        lines += [
            "CustomAction CcmRegisterWmiMofFile returned actual "
            "error code 1603 (note this may not be "
            "100% accurate if translation happened inside sandbox)",
            f"Action ended {at:%H:%M:%S}: InstallFinalize. Return value 3.",
            f"Action ended {at:%H:%M:%S}: INSTALL. Return value 3.",
            "MSI (s) (2C:40) ["
            + f"{at:%H:%M:%S}"
            + ":512]: Product: Configuration Manager Client -- "
            "Installation failed.",
            "MSI (s) (2C:40) ["
            + f"{at:%H:%M:%S}"
            + ":512]: Windows Installer installed the product. "
            "Product Name: Configuration Manager Client. Product Version: "
            f"{plan.client_version}. Product Language: 1033. "
            "Manufacturer: Microsoft Corporation. "
            "Installation success or error status: 1603.",
        ]
    else:
        lines += [
            f"Action ended {at:%H:%M:%S}: InstallFinalize. Return value 1.",
            f"Action ended {at:%H:%M:%S}: INSTALL. Return value 1.",
            "MSI (s) (2C:40) ["
            + f"{at:%H:%M:%S}"
            + ":512]: Product: Configuration Manager Client -- "
            "Installation completed successfully.",
        ]
    lines.append(f"=== Logging stopped: {at:%m/%d/%Y  %H:%M:%S} ===")
    return b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")
