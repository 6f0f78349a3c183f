"""MdmDiagReport_RegistryDump.reg in the dump dialect (docs/formats.md §4.2, §9.4).

No header, ANSI, CRLF, values indented by 4 spaces, ``DWORD:`` with 8 hex digits,
``QWORD:`` unpadded hex, ``hex(3):`` for binary, mostly lower-case key paths. The
ESP tracking keys carry the InstallationState the scenario implies; filler keys
(declared configuration, CSP registrations, node cache, policy manager) make it
look like a dump.
"""

from __future__ import annotations

import random
from datetime import UTC, timedelta

from .cmlogs import TENANT_DOMAIN, TENANT_ID
from .scenarios import Plan

HKLM = "HKEY_LOCAL_MACHINE\\software\\microsoft\\"
EST = HKLM + "windows\\autopilot\\EnrollmentStatusTracking"

Value = tuple[str, str]  # name, rendered data (after '=')


def _sz(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dw(n: int) -> str:
    return f"DWORD:{n & 0xFFFFFFFF:08x}"


def _qw(n: int) -> str:
    return f"QWORD:{n:x}"


def render(keys: list[tuple[str, list[Value]]]) -> bytes:
    """The dump text: key line, 4-space indented values, blank line; CRLF, cp1252."""
    out: list[str] = []
    for key, values in keys:
        out.append(f"[{key}]")
        out.extend(f"    {'@' if n == '@' else _sz(n)}={d}" for n, d in values)
        out.append("")
    return ("\r\n".join(out) + "\r\n").encode("cp1252", errors="replace")


_CSPS = (
    ("AccountManagement", "{DE0E6E74-0A0A-4A85-A7F2-BC1B6A9A4B01}", "1.0"),
    ("ApplicationControl", "{5A3F2C6B-3E5E-4C1A-9F0B-9E1E2D7B6C02}", "1.0"),
    ("BitLocker", "{6B7B3E0A-9E4F-4C1B-8E1D-2C3A4B5C6D03}", "5.0"),
    ("ClientCertificateInstall", "{7C8D9E0F-1A2B-4C3D-9E4F-5A6B7C8D9E04}", "1.1"),
    ("DeviceStatus", "{8D9E0F1A-2B3C-4D4E-8F5A-6B7C8D9E0F05}", "1.3"),
    ("EnrollmentStatusTracking", "{960005AE-F0A9-4DDB-982D-7C97671650B1}", "1.0"),
    ("EnterpriseDesktopAppManagement", "{7197647A-7D2B-42E3-B6E2-9BAABBDC8B67}", "1.0"),
    ("Firewall", "{9E0F1A2B-3C4D-4E5F-9A6B-7C8D9E0F1A06}", "1.0"),
    ("Policy", "{A0F1A2B3-C4D5-4E6F-8A7B-8C9D0E1F2A07}", "10.0"),
    ("Reboot", "{B1A2B3C4-D5E6-4F7A-9B8C-9D0E1F2A3B08}", "1.0"),
)
_POLICY_AREAS = (
    (
        "Update",
        (
            "AllowAutoUpdate",
            "DeferQualityUpdatesPeriodInDays",
            "ActiveHoursStart",
            "ActiveHoursEnd",
        ),
    ),
    (
        "DeviceLock",
        (
            "DevicePasswordEnabled",
            "MinDevicePasswordLength",
            "MaxInactivityTimeDeviceLock",
        ),
    ),
    (
        "Defender",
        ("AllowRealtimeMonitoring", "AllowCloudProtection", "SubmitSamplesConsent"),
    ),
    ("Browser", ("AllowPasswordManager", "AllowSmartScreen")),
    ("Experience", ("AllowCortana", "AllowWindowsSpotlight")),
    ("Privacy", ("LetAppsAccessCamera", "LetAppsAccessLocation")),
)


def registry_dump(plan: Plan, rng: random.Random) -> bytes:
    """The whole MdmDiagReport_RegistryDump.reg of one bundle."""
    k: list[tuple[str, list[Value]]] = []
    dc = HKLM + "declaredconfiguration"
    k.append((dc, []))
    k.append((dc + "\\CspSchema", []))
    for area, _ in _POLICY_AREAS:
        base = f"{dc}\\CspSchema\\1.0\\{area.lower()}"
        k.append((base, []))
        k.append(
            (
                base + "\\device",
                [("Atomic", _dw(1)), ("IsTrackedResource", _dw(rng.randint(0, 1)))],
            )
        )
    enr = f"{HKLM}enrollments\\{plan.enrollment_id}"
    k.append(
        (
            enr,
            [
                ("EnrollmentState", _dw(1)),
                ("EnrollmentType", _dw(6)),
                ("ProviderID", _sz("MS DM Server")),
                ("UPN", _sz(f"autopilot@{TENANT_DOMAIN}")),
                ("AADTenantID", _sz(TENANT_ID)),
                (
                    "DiscoveryServiceFullURL",
                    _sz(
                        "https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc"
                    ),
                ),
                ("AllowedEnrollmentTypes", _qw(0xFFFFFFFFFFFFFFFF)),
            ],
        )
    )
    k.append(
        (
            enr + "\\FirstSync",
            [
                ("SyncFailureTimeout", _dw(60)),
                ("BlockInStatusPage", _dw(6)),
                ("SkipDeviceStatusPage", _dw(0)),
                ("SkipUserStatusPage", _dw(0xFFFFFFFF)),
                ("AllowCollectLogsButton", _dw(1)),
                ("IsServerProvisioningDone", _dw(1)),
            ],
        )
    )
    csp = HKLM + "provisioning\\CSPs\\.\\Device\\Vendor\\MSFT"
    for name, guid, ver in _CSPS:
        k.append(
            (
                f"{csp}\\{name}",
                [
                    ("@", _sz(guid)),
                    ("csp_version", _sz(f"com.microsoft/{ver}/MDM/{name}")),
                ],
            )
        )
    ap = HKLM + "provisioning\\Diagnostics\\AutoPilot"
    download = plan.started_at.astimezone(UTC) - _minutes(rng, 15, 40)
    k.append(
        (
            ap,
            [
                ("CloudAssignedForcedEnrollment", _dw(1)),
                ("CloudAssignedLanguage", _sz("")),
                ("CloudAssignedTenantDomain", _sz(TENANT_DOMAIN)),
                ("CloudAssignedTenantId", _sz(TENANT_ID)),
                ("IsAutoPilotDisabled", _dw(0)),
                (
                    "CloudAssignedOobeConfig",
                    _dw(0x11E if not plan.whiteglove else 0x13E),
                ),
                ("CloudAssignedDomainJoinMethod", _dw(plan.join_method)),
                (
                    "DeploymentProfileName",
                    _sz("Contoso Co-managed" + (" Hybrid" if plan.join_method else "")),
                ),
                ("CloudAssignedDeviceName", _sz(plan.device_name)),
                ("ZtdCorrelationId", _sz(_guid(rng))),
                ("AutopilotServiceCorrelationId", _sz(_guid(rng))),
                ("PolicyDownloadDate", _sz(download.strftime("%Y-%m-%dT%H:%M:%SZ"))),
            ],
        )
    )
    k.append(
        (
            ap + "\\EstablishedCorrelations",
            [("ZTDRegistrationID", _sz(_guid(rng))), ("EntDMID", _sz(_guid(rng)))],
        )
    )
    nc = HKLM + "provisioning\\NodeCache\\CSP\\Device\\MS DM Server"
    k.append((nc, [("ChangeIndex", _dw(rng.randint(20, 400)))]))
    k.append((nc + "\\Nodes", []))
    n = rng.randint(2, 9)
    uris = [
        "./Device/Vendor/MSFT/EnrollmentStatusTracking/DevicePreparation/PolicyProviders/ConfigMgr/InstallationState",
        "./Device/Vendor/MSFT/EnrollmentStatusTracking/Setup/Apps/Tracking/ConfigMgr/Provisioning_TS/InstallationState",
        "./Device/Vendor/MSFT/Policy/Config/Update/AllowAutoUpdate",
        "./Device/Vendor/MSFT/BitLocker/RequireDeviceEncryption",
        "./Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled",
    ]
    for uri in uris:
        n += rng.randint(1, 4)
        k.append(
            (
                f"{nc}\\Nodes\\{n}",
                [("NodeUri", _sz(uri)), ("ExpectedValue", _sz(str(rng.randint(0, 3))))],
            )
        )
    pm = HKLM + "policymanager\\current\\device"
    for area, names in _POLICY_AREAS:
        vals: list[Value] = []
        for name in names:
            vals.append((name, _dw(rng.randint(0, 30))))
            vals.append((f"{name}_ProviderSet", _dw(1)))
            vals.append((f"{name}_WinningProvider", _sz(plan.enrollment_id)))
        k.append((f"{pm}\\{area}", vals))
        k.append(
            (
                f"{HKLM}policymanager\\providers\\{plan.enrollment_id}\\default\\device\\{area}",
                vals[::3],
            )
        )
    nt = HKLM + "windows nt\\currentversion"
    install = int(plan.started_at.timestamp()) - rng.randint(1800, 7200)
    k.append(
        (
            nt,
            [
                ("SystemRoot", _sz("C:\\WINDOWS")),
                ("BuildBranch", _sz(plan.build_branch)),
                ("BuildLabEx", _sz(plan.build_lab_ex)),
                ("CurrentBuild", _sz(plan.build)),
                ("CurrentBuildNumber", _sz(plan.build)),
                ("CurrentMajorVersionNumber", _dw(10)),
                ("CurrentMinorVersionNumber", _dw(0)),
                ("CurrentType", _sz("Multiprocessor Free")),
                ("CurrentVersion", _sz("6.3")),
                ("DisplayVersion", _sz(plan.display_version)),
                ("EditionID", _sz("Enterprise")),
                ("InstallationType", _sz("Client")),
                ("InstallDate", _dw(install)),
                ("InstallTime", _qw((install + 11644473600) * 10_000_000)),
                (
                    "ProductName",
                    _sz("Windows 10 Enterprise"),
                ),  # also on Windows 11, as real
                ("ReleaseId", _sz("2009")),
                ("UBR", _dw(plan.ubr)),
                (
                    "DigitalProductId",
                    "hex(3):"
                    + ",".join(f"{rng.getrandbits(8):02x}" for _ in range(164)),
                ),
            ],
        )
    )
    k.append((EST, []))
    k.append((EST + "\\Device", []))
    k.append((EST + "\\Device\\DevicePreparation", []))
    k.append((EST + "\\Device\\DevicePreparation\\PolicyProviders", []))
    k.append(
        (
            EST + "\\Device\\DevicePreparation\\PolicyProviders\\ConfigMgr",
            [("InstallationState", _dw(plan.cm_state))],
        )
    )
    k.append(
        (
            EST + "\\Device\\DevicePreparation\\PolicyProviders\\Sidecar",
            [("InstallationState", _dw(3))],
        )
    )
    k.append((EST + "\\Device\\Setup", []))
    if plan.ts_state is not None:
        k.append((EST + "\\Device\\Setup\\Apps\\Tracking\\ConfigMgr", []))
        k.append(
            (
                EST + "\\Device\\Setup\\Apps\\Tracking\\ConfigMgr\\Provisioning_TS",
                [("InstallationState", _dw(plan.ts_state))],
            )
        )
    snap = plan.local(plan.started_at + _minutes(rng, 3, 9)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    k.append((EST + "\\ESPTrackingInfo\\Diagnostics\\ExpectedPolicies", []))
    k.append(
        (
            EST + f"\\ESPTrackingInfo\\Diagnostics\\ExpectedPolicies\\{snap}",
            [("./Device/Vendor/MSFT/Policy/Config/Update/AllowAutoUpdate", _dw(1))],
        )
    )
    if plan.msi_failure and plan.msi_failed_at:  # the MSI app's tracked state
        product, _ = plan.msi_failure
        msi = EST + "\\ESPTrackingInfo\\Diagnostics\\ExpectedMSIAppPackages"
        when = plan.local(plan.msi_failed_at + _minutes(rng, 0.1, 0.5))
        uri = "./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/"
        uri += product.replace("{", "%7B").replace("}", "%7D") + "/DownloadInstall"
        k.append((msi, []))
        k.append((msi + "\\" + when.strftime("%Y-%m-%d %H:%M:%S"), [(uri, _dw(60))]))
    k.append(
        (
            HKLM + "windows\\currentversion\\setup\\oobe",
            [("SetupDisplayedEula", _dw(1)), ("InstallType", _dw(4))],
        )
    )
    if plan.client_version and plan.cm_state == 3:
        k.append(
            (
                HKLM + "SMS\\Mobile Client",
                [
                    ("ProductVersion", _sz(plan.client_version)),
                    ("AssignedSiteCode", _sz("CTS")),
                    ("ProductCode", _sz("{" + _guid(rng) + "}")),
                ],
            )
        )
    k.append(
        ("HKEY_LOCAL_MACHINE\\system\\currentcontrolset\\control\\clouddomainjoin", [])
    )
    return render(k)


def _guid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _minutes(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(minutes=rng.uniform(lo, hi))
