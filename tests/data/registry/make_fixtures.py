"""Write the .reg fixtures of this folder (run from the repo root).

Written from docs/formats.md §4.1 (grammar) and §4.3 (keys and value meanings); no
byte comes from a real export. `python tests/data/registry/make_fixtures.py`
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
HKLM = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft"
EST = HKLM + "\\Windows\\Autopilot\\EnrollmentStatusTracking"
ENROLLMENT = "{5D0C4A6E-1B2C-4D3E-8F90-A1B2C3D4E5F6}"
APP = "Win32App_6b1e1f5a-0c0d-4e4f-9a9b-1c2d3e4f5a6b_1"
MSI_URI = (
    "./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/"
    "%7B11111111-2222-3333-4444-555555555555%7D/Status"
)


def wrap_hex(prefix: str, data: bytes) -> str:
    """regedit's layout: `prefix` + comma-separated bytes, lines cut at 80
    characters with a trailing `,\\`, continuation lines indented by two spaces."""
    items = [f"{b:02x}" for b in data]
    lines, cur = [], prefix
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(cur) + len(piece) > 78 and cur.strip():
            lines.append(cur + "\\")
            cur = "  "
        cur += piece
    lines.append(cur)
    return "\r\n".join(lines)


def body(wide: bool, profile_name: str) -> str:
    enc = "utf-16-le" if wide else "cp1252"
    multi = "\x00".join(
        ["SMSSITECODE=PS1", "CCMHOSTNAME=cmg.contoso.example/CCM_Proxy"]
    )
    multi_bytes = (multi + "\x00\x00").encode(enc)
    expand = "%SystemRoot%\\ccmsetup\\Logs".encode(enc) + "\x00".encode(enc)
    failure = bytes.fromhex("80510100000000000000000003000000140000000100000060ea0000")
    failure += bytes(range(0x20, 0x48))
    qword = (0x01DA84F13CE959FB).to_bytes(8, "little")
    lines = [
        "; ESP tracking keys of a co-managed Autopilot device whose ESP timed out",
        f"[{EST}]",
        "",
        f"[{EST}\\Device\\DevicePreparation\\PolicyProviders\\ConfigMgr]",
        '"InstallationState"=dword:00000001',
        "",
        f"[{EST}\\Device\\DevicePreparation\\PolicyProviders\\Sidecar]",
        '"InstallationState"=dword:00000003',
        "",
        f"[{EST}\\Device\\Setup\\Apps\\Tracking\\ConfigMgr\\Provisioning_TS]",
        '"InstallationState"=dword:00000002',
        "",
        f"[{EST}\\Device\\Setup\\Apps\\Tracking\\Sidecar\\{APP}]",
        '"InstallationState"=dword:00000004',
        "",
        f"[{EST}\\ESPTrackingInfo\\Diagnostics\\ExpectedPolicies\\2026-11-20T08:01:12Z]",
        '"./Device/Vendor/MSFT/Policy/Config/Update/AllowAutoUpdate"=dword:00000001',
        "",
        f"[{EST}\\ESPTrackingInfo\\Diagnostics\\ExpectedMSIAppPackages\\"
        "2026-11-20T08:03:00Z]",
        f'"{MSI_URI}"=dword:0000003c',
        "",
        f"[{EST}\\ESPTrackingInfo\\Diagnostics\\Sidecar\\2026-11-20T08:05:00Z]",
        '"./Device/Vendor/MSFT/EnrollmentStatusTracking/Setup/Apps/Tracking/Sidecar/'
        f'{APP}/InstallationState"=dword:00000002',
        "",
        f"[{HKLM}\\Enrollments\\{ENROLLMENT}\\FirstSync]",
        '"SkipDeviceStatusPage"=dword:00000000',
        '"SkipUserStatusPage"=dword:ffffffff',
        '"SyncFailureTimeout"=dword:0000003c',
        '"BlockInStatusPage"=dword:00000006',
        "",
        f"[{HKLM}\\Provisioning\\Diagnostics\\Autopilot]",
        '"CloudAssignedTenantId"="8c2f0b7e-0000-4000-8000-00000000c0de"',
        '"CloudAssignedTenantDomain"="contoso.onmicrosoft.com"',
        f'"DeploymentProfileName"="{profile_name}"',
        '"CloudAssignedDomainJoinMethod"=dword:00000001',
        '"CloudAssignedOobeConfig"=dword:0000011c',
        '"IsAutopilotDisabled"=dword:00000000',
        '"TenantMatched"=dword:00000001',
        "",
        f"[{HKLM}\\Windows NT\\CurrentVersion]",
        '"CurrentBuild"="22631"',
        '"CurrentBuildNumber"="22631"',
        '"UBR"=dword:00001022',
        '"DisplayVersion"="23H2"',
        '"ProductName"="Windows 10 Enterprise"',
        '"EditionID"="Enterprise"',
        "",
        f"[{HKLM}\\SMS\\Mobile Client]",
        '"ProductVersion"="5.00.9128.1000"',
        "",
        f"[{HKLM}\\CCMSetup]",
        '@="default value"',
        '"LastValidMP"="https://mp.contoso.example"',
        '"InstallDir"="C:\\\\Windows\\\\CCM \\"client\\""',
        wrap_hex('"LastSuccessfulInstallParams"=hex(7):', multi_bytes),
        wrap_hex('"LogDirectory"=hex(2):', expand),
        wrap_hex('"FailureActions"=hex:', failure),
        wrap_hex('"FirstRunTime"=hex(b):', qword),
        '"ObsoleteValue"=-',
        "",
        f"[-{HKLM}\\CCMSetup\\Stale]",
        "",
    ]
    return "\r\n".join(lines)


def main() -> None:
    v5 = "Windows Registry Editor Version 5.00\r\n\r\n" + body(
        True, "Hybrid co-managed"
    )
    (HERE / "esp_keys_regedit5_utf16.reg").write_bytes(
        b"\xff\xfe" + v5.encode("utf-16-le")
    )
    v4 = "REGEDIT4\r\n\r\n" + body(False, "Profil déploiement hybride")
    (HERE / "esp_keys_regedit4_ansi.reg").write_bytes(v4.encode("cp1252"))


if __name__ == "__main__":
    main()
