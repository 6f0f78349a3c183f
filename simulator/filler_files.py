"""Filler members and filler text of a real-size CAB (docs/formats.md §5.4).

* ETL traces: opaque to espfleet, written as 64 KiB buffers, partly filled
  and zero-padded, packing like the samples' (which deflate about 15x);
* MDMDiagReport.xml grown with ``<PolicyManagerMeta>`` area metadata, and
  MDMDiagHTMLReport.html: tables of policy rows, to the sampled sizes;
* registry dump keys of the families real dumps hold, in their proportions
  (policymanager\\default most, then provisioning\\nodecache,
  policymanager\\admxdefault, provisioning\\csps, declaredconfiguration),
  none under a key any deriver reads;
* CMTrace lines for the IME log set and the ConfigMgr logs: informational
  messages no deriver matches, stamped with a neighbouring line's time.
"""

from __future__ import annotations

import random
import re
import struct
from datetime import datetime

from .registry_dump import HKLM, render

BUFFER = 65536
# The samples' ETL traces deflate about 15x (zlib, 32 KiB blocks as in MSZIP):
# a buffer of which ~1/15 is payload, the rest zeros, packs the same.
_PAYLOAD = BUFFER // 15


def etl_trace(size: int, rng: random.Random) -> bytes:
    """An opaque ETL trace of `size` bytes (a multiple of 64 KiB) in buffers.

    Each 64 KiB buffer: a small header (buffer size, bytes used, sequence),
    an opaque payload, zeros to the end, as a partly filled trace buffer.
    """
    out = []
    for n in range(max(1, size // BUFFER)):
        used = rng.randint(_PAYLOAD // 2, _PAYLOAD * 3 // 2)
        head = struct.pack("<IIQ", BUFFER, used, n)
        body = head + rng.randbytes(used - len(head))
        out.append(body + bytes(BUFFER - len(body)))
    return b"".join(out)


_AREAS = (
    "AboveLock",
    "Accounts",
    "ApplicationManagement",
    "Authentication",
    "Autoplay",
    "Bluetooth",
    "Camera",
    "Connectivity",
    "CredentialProviders",
    "Cryptography",
    "DataProtection",
    "DeliveryOptimization",
    "DeviceGuard",
    "DeviceInstallation",
    "Display",
    "ErrorReporting",
    "Kerberos",
    "LocalPoliciesSecurityOptions",
    "Notifications",
    "Power",
    "Search",
    "Security",
    "Settings",
    "Start",
    "System",
    "TextInput",
    "WiFi",
    "WindowsLogon",
)
_SETTINGS = ("Allow", "Enable", "Configure", "Disable", "Prevent", "Require")
_THINGS = ("Toasts", "Notifications", "Access", "Sync", "Telemetry", "Discovery")


def _policy(rng: random.Random) -> str:
    return rng.choice(_SETTINGS) + rng.choice(_THINGS) + f"{rng.randrange(1000):03d}"


def _dword(n: int) -> str:
    return f"DWORD:{n & 0xFFFFFFFF:08x}"


def _policy_keys(rng: random.Random, n: int) -> list[tuple[str, list]]:
    keys = []
    for i in range(n):
        area = _AREAS[i % len(_AREAS)]
        values = [
            ("Behavior", _dword(rng.choice((0x20, 0x12020, 0xF0)))),
            ("highrange", _dword(1)),
            ("lowrange", _dword(0)),
            ("mergealgorithm", _dword(rng.randint(1, 3))),
            ("policytype", _dword(4)),
            ("value", _dword(rng.randint(0, 1))),
        ]
        if rng.random() < 0.3:
            path = f"SOFTWARE\\Policies\\Microsoft\\Windows\\{area}"
            values += [
                ("grouppolicypath", f'"{path}"'),
                ("GPBlockingRegKeyPath", f'"{path}"'),
            ]
        keys.append(
            (f"{HKLM}policymanager\\default\\{area}\\{_policy(rng)}{i}", values)
        )
    return keys


def _node_keys(rng: random.Random, n: int) -> list[tuple[str, list]]:
    base = f"{HKLM}provisioning\\NodeCache\\CSP\\Device\\MS DM Server\\Nodes"
    keys = []
    for i in range(n):
        uri = f"./Device/Vendor/MSFT/Policy/Config/{rng.choice(_AREAS)}/{_policy(rng)}"
        values = [("NodeUri", f'"{uri}"'), ("ExpectedValue", f'"{rng.randint(0, 9)}"')]
        values.append(("ExpectedValueType", _dword(rng.choice((3, 8)))))
        if rng.random() < 0.35:
            digest = ",".join(f"{b:02x}" for b in rng.randbytes(16))
            values.append(("hashValue", f"hex(3):{digest}"))
        keys.append((f"{base}\\{20000 + i}", values))
    return keys


def _admx_keys(rng: random.Random, n: int) -> list[tuple[str, list]]:
    keys = []
    for i in range(n):
        app = rng.choice(("chromeIntuneV1", "OneDriveNGSC", "OfficeAdmx", "EdgeV1"))
        meta = "".join(f"{b:02X}" for b in rng.randbytes(16))
        values = [
            ("Behavior", _dword(240)),
            ("MergeAlgorithm", _dword(3)),
            ("RegKeyPathRedirect", f'"Software\\\\Policies\\\\{app}"'),
            ("AdmxMetadataBoth", f'"{meta}"'),
        ]
        keys.append(
            (
                f"{HKLM}policymanager\\admxdefault\\{app}~Policy\\{_policy(rng)}{i}",
                values,
            )
        )
    return keys


def _csp_keys(rng: random.Random, n: int) -> list[tuple[str, list]]:
    keys = []
    for i in range(n):
        path = f"{HKLM}provisioning\\csps\\.\\Vendor\\MSFT\\{rng.choice(_AREAS)}{i}"
        keys.append((path, [("@", f'"{{{rng.getrandbits(64):016X}}}"')]))
    return keys


def registry_filler(target: int, rng: random.Random) -> bytes:
    """Dump keys (the dump dialect) adding up to about `target` bytes."""
    out = []
    size = 0
    while size < target:
        keys = (
            _policy_keys(rng, 48)
            + _node_keys(rng, 24)
            + _admx_keys(rng, 13)
            + _csp_keys(rng, 4)
        )
        block = render(keys)
        out.append(block)
        size += len(block)
    return b"".join(out)[: max(0, target)].rsplit(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"


def report_xml(evidence: bytes, size: int, rng: random.Random) -> bytes:
    """MDMDiagReport.xml grown to about `size` with PolicyManagerMeta areas."""
    close = b"</MDMEnterpriseDiagnosticsReport>"
    head, _, tail = evidence.rpartition(close)
    parts = [head, b"  <PolicyManagerMeta>\r\n"]
    length = len(head)
    while length < size:
        area = rng.choice(_AREAS)
        rows = [f"    <AreaMetadata>\r\n      <PolicyAreaName>{area}</PolicyAreaName>"]
        for _ in range(rng.randint(4, 12)):
            rows.append(
                "      <PolicyMetadata>\r\n"
                f"        <PolicyName>{_policy(rng)}</PolicyName>\r\n"
                f"        <Behavior>{rng.choice((32, 240))}</Behavior>\r\n"
                "        <highrange>1</highrange>\r\n"
                "        <lowrange>0</lowrange>\r\n"
                f"        <mergealgorithm>{rng.randint(1, 3)}</mergealgorithm>\r\n"
                "        <policytype>4</policytype>\r\n"
                "      </PolicyMetadata>"
            )
        rows.append("    </AreaMetadata>\r\n")
        block = "\r\n".join(rows).encode("utf-8")
        parts.append(block)
        length += len(block)
    parts += [b"  </PolicyManagerMeta>\r\n", close, tail]
    return b"".join(parts)


def html_report(device_name: str, size: int, rng: random.Random) -> bytes:
    """MDMDiagHTMLReport.html: the report's page of tables, about `size` bytes."""
    head = (
        '<!DOCTYPE html><html lang="en" xmlns="http://www.w3.org/1999/xhtml">\r\n'
        '<head><title>MDM Diagnostic Report</title><meta charset="UTF-8" />\r\n'
        "<style>html { color: #262626; font-family: 'Segoe UI'; }</style></head>\r\n"
        f'<body><div class="SectionTitle">{device_name}</div>\r\n'
    )
    parts = [head]
    length = len(head)
    while length < size:
        area = rng.choice(_AREAS)
        rows = [f'<section><div class="SectionTitle">{area}</div><table>']
        for _ in range(rng.randint(5, 20)):
            rows.append(
                f'<tr><td class="LabelColumn">{_policy(rng)}</td>'
                f'<td class="TableText">{rng.randint(0, 2)}</td>'
                f'<td class="TableText">{rng.choice(("Device", "User"))}</td></tr>'
            )
        rows.append("</table></section>\r\n")
        block = "\r\n".join(rows)
        parts.append(block)
        length += len(block)
    parts.append("</body></html>\r\n")
    return "".join(parts).encode("utf-8")


def tpm_uefi(collected_at: datetime) -> tuple[bytes, bytes]:
    """TpmHliInfo_Output.txt and UEFI_Data_Output.txt, stamped at collection."""
    stamp = f"{collected_at:%Y-%m-%dT%H:%M:%S}"
    tpm = (
        f"{stamp}\r\nTpmHLI GetVersion result: 0x00000000\r\nTpmHLI Version: 2.0\r\n"
        "Uefi Is Present: Yes\r\nTpmHLI IsReady for Storage result: 0x00000000\r\n"
        "Ready: True\r\nTpmHLI IsReady for Attestation result: 0x00000000\r\n"
        "Ready: True\r\n"
    )
    uefi = f"{stamp}\r\nUEFI is supported.\r\nUEFI query complete.\r\n"
    return tpm.encode("ascii"), uefi.encode("ascii")


_STAMP = re.compile(rb'<time="[^"]*" date="[^"]*"')
_NAMES = (
    "CloudExperienceHost",
    "AutopilotManager",
    "EnrollmentStatusPage",
    "PolicyManager",
    "DeviceEnroller",
    "OmaDmClient",
    "ProvisioningEngine",
    "WinHttpRequest",
)
_IME_MESSAGES = (
    "[Win32App] ExecManager: processing targeted app (name='{w}', id='{h}') done",
    "[Win32App][ReportingManager] Sending status to company portal based on report",
    "[StatusService] No subscribers to SendUpdate.",
    "[Win32App][V3Processor] Processing subgraph with app ids: {h}",
    "[PowerShell] Agent executor completed for policy {h}, exit code 0",
    "[Sensor] Inventory data collected for {w}, {n} items",
    "[HealthScripts] Schedule for policy {h} is not due yet.",
    "[Location Service] Getting endpoint for service {w}",
)


def _messages(rng: random.Random, templates: tuple[str, ...]) -> str:
    return rng.choice(templates).format(
        w=rng.choice(_NAMES), h=f"{rng.getrandbits(64):016x}", n=rng.randint(1, 99)
    )


def cmtrace_lines(
    stamp: bytes,
    component: str,
    size: int,
    rng: random.Random,
    templates: tuple[str, ...] = _IME_MESSAGES,
) -> bytes:
    """CMTrace records of about `size` bytes, all with the time attributes `stamp`."""
    parts = []
    length = 0
    thread = rng.randint(4, 60)
    tail = f' component="{component}" context="" type="1" thread="{thread}" file="">'
    while length < size:
        line = (
            b"<![LOG["
            + _messages(rng, templates).encode("utf-8")
            + b"]LOG]!>"
            + stamp
            + tail.encode("ascii")
            + b"\r\n"
        )
        parts.append(line)
        length += len(line)
    return b"".join(parts)


def stamps(log: bytes) -> list[bytes]:
    """The ``<time=".." date=".."`` part of every record of a CMTrace log."""
    return _STAMP.findall(log)


_SETUP_MESSAGES = (
    "[SetupPlatform.exe] Info: {w} state {n} recorded",
    "[windeploy.exe] Process {w} returned {n}",
    "[CloudExperienceHostBroker.exe] {w} page loaded, step {n}",
)


def setupact_lines(evidence: bytes, size: int, rng: random.Random) -> bytes:
    """Lines for setupact.log, of about `size` bytes, at its last line's time.

    Info lines of components no zone or clock rule reads, stamped with the last
    line's local time so the log stays in order.
    """
    last = evidence.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]
    stamp = last[:19].decode("ascii")
    parts = []
    length = 0
    while length < size:
        message = _messages(rng, _SETUP_MESSAGES)
        line = f"{stamp}, {'Info':<22}{'':<7}{message}\r\n".encode()
        parts.append(line)
        length += len(line)
    return b"".join(parts)
