"""Who the device is and which time zone it declares, from a bundle's small files.

Sources (COLLECTION.md 5.1): `DiagnosticsFrameworkData.json` (Timezone as a
Windows zone key name, DeviceName, SerialNumber, OSBuild), `DeviceHash_<name>.csv`
(the Autopilot hardware-hash CSV: `Device Serial Number`), `MDMDiagReport.xml`
(`SerialNumber`, `ReportCreationTime ... (UTC)`), `MdmDiagLogMetadata.json`
(build numbers; the 2020 build writes it as invalid JSON, so fields are read
tolerantly). Not a table parser: the ingest flow uses the result as the bundle's
context (device zone for bias-less log lines) and for the `bundles` row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath

from espfleet.parsers.textdecode import decode
from espfleet.parsers.timezones import windows_to_iana

_REPORT_TIME = re.compile(
    r"<ReportCreationTime>\s*\w+,\s*(\d{1,2} \w+ \d{4})--"
    r"(\d{1,2}:\d{2}:\d{2})\s*\(UTC\)",
)
_XML_SERIAL = re.compile(r"<SerialNumber>([^<]*)</SerialNumber>")
_META_FIELD = re.compile(r'"?(\w+)"?\s*:\s*"?([^",\r\n}]*)"?')


@dataclass(frozen=True)
class DeviceInfo:
    """What a bundle says about its device. Every field may be unknown."""

    serial_number: str | None = None
    device_name: str | None = None
    windows_zone: str | None = None
    device_zone: str | None = None  # IANA
    collected_at: datetime | None = None
    os_build: str | None = None
    model: str | None = None
    zone_source: str | None = None  # where the zone name came from

    def merged(self, other: DeviceInfo) -> DeviceInfo:
        """Fill this record's unknown fields from `other`."""
        updates = {
            k: getattr(other, k)
            for k in self.__dataclass_fields__
            if getattr(self, k) in (None, "") and getattr(other, k) not in (None, "")
        }
        return replace(self, **updates)


def _framework_items(data: bytes) -> dict[str, str]:
    doc = json.loads(decode(data).text)
    items: dict[str, str] = {}
    for tab in doc.get("$schema", []):
        for category in tab.get("categories", []):
            for item in category.get("items", []) or []:
                prop, value = item.get("propertyId"), item.get("value")
                if prop and isinstance(value, str) and value:
                    items.setdefault(prop, value)
    return items


def from_framework_data(data: bytes) -> DeviceInfo:
    """DiagnosticsFrameworkData.json -> DeviceInfo (zone, name, serial, build)."""
    try:
        items = _framework_items(data)
    except (ValueError, AttributeError, TypeError):
        return DeviceInfo()
    zone = items.get("Timezone")
    return DeviceInfo(
        zone_source="DiagnosticsFrameworkData.json" if zone else None,
        serial_number=items.get("SerialNumber"),
        device_name=items.get("DeviceName"),
        windows_zone=zone,
        device_zone=windows_to_iana(zone) if zone else None,
        os_build=items.get("OSBuild"),
        model=items.get("ProductName"),
    )


def from_device_hash(name: str, data: bytes) -> DeviceInfo:
    """DeviceHash_<name>.csv -> serial number; the device name from the file name."""
    stem = PurePosixPath(name).stem
    device_name = stem[len("DeviceHash_") :] if stem.startswith("DeviceHash_") else None
    rows = list(csv.DictReader(io.StringIO(decode(data).text)))
    serial = rows[0].get("Device Serial Number") if rows else None
    return DeviceInfo(serial_number=serial or None, device_name=device_name or None)


def from_report_xml(data: bytes) -> DeviceInfo:
    """MDMDiagReport.xml -> serial and collection time (read by pattern: it is huge)."""
    text = decode(data[:65536]).text
    collected = None
    if m := _REPORT_TIME.search(text):
        try:
            collected = datetime.strptime(
                f"{m.group(1)} {m.group(2)}", "%d %B %Y %H:%M:%S"
            ).replace(tzinfo=UTC)
        except ValueError:
            collected = None
    serial = m.group(1).strip() if (m := _XML_SERIAL.search(text)) else None
    return DeviceInfo(serial_number=serial or None, collected_at=collected)


def from_log_metadata(data: bytes) -> DeviceInfo:
    """MdmDiagLogMetadata.json -> OS build (tolerates the 2020 non-JSON form)."""
    fields = dict(_META_FIELD.findall(decode(data).text))
    build, ubr = fields.get("CurrentBuild"), fields.get("UBR")
    if build and ubr and ubr.strip().isdigit():
        return DeviceInfo(os_build=f"{build.strip()}.{ubr.strip()}")
    return DeviceInfo(os_build=build.strip() if build else None)


# (member name, reader), most trusted first: the first source to name a field wins.
_READERS = (
    (
        re.compile(r"(^|/)DiagnosticsFrameworkData\.json$", re.I),
        lambda name, data: from_framework_data(data),
    ),
    (re.compile(r"(^|/)DeviceHash_[^/]*\.csv$", re.I), from_device_hash),
    (
        re.compile(r"(^|/)MDMDiagReport\.xml$", re.I),
        lambda name, data: from_report_xml(data),
    ),
    (
        re.compile(r"(^|/)MdmDiagLogMetadata\.json$", re.I),
        lambda name, data: from_log_metadata(data),
    ),
)


def is_device_member(name: str) -> bool:
    """True for the members `device_info` reads."""
    return any(p.search(name) for p, _ in _READERS)


def device_info(members: dict[str, bytes]) -> DeviceInfo:
    """Merge what every identity-bearing member says; earlier sources win.

    Args:
        members: member name -> bytes, for the members of one bundle.
    """
    info = DeviceInfo()
    for pattern, read in _READERS:
        name = next((n for n in sorted(members) if pattern.search(n)), None)
        if name is None:
            continue
        try:
            info = info.merged(read(name, members[name]))
        except (ValueError, UnicodeError, csv.Error):
            continue  # a damaged identity file tells us nothing
    return info


_SETUPACT_ZONE = re.compile(
    r"(?:Set time zone to \[([^\]]+)\]|Successfully set timezone \(([^)]+)\))"
)


def zone_from_setupact(data: bytes) -> str | None:
    """The last zone name Windows setup set (setupact.log, COLLECTION.md 5.1)."""
    found = _SETUPACT_ZONE.findall(decode(data).text)
    return (found[-1][0] or found[-1][1]).strip() if found else None


# (key path suffix, value name, source label), in order of trust (COLLECTION.md 5).
_REGISTRY_ZONES = (
    ("\\control\\timezoneinformation", "timezonekeyname", "registry TimeZoneKeyName"),
    ("\\timelanguagesettings", "configuretimezone", "registry ConfigureTimeZone"),
)


def zone_from_registry(rows: list[dict]) -> tuple[str, str] | None:
    """(Windows zone name, source) from registry_values rows, if any declares one."""
    for suffix, value_name, source in _REGISTRY_ZONES:
        for row in rows:
            key = (row.get("key_path") or "").lower()
            if (
                key.endswith(suffix)
                and (row.get("value_name") or "").lower() == value_name
                and row.get("value_text")
            ):
                return row["value_text"].strip(), source
    return None


def with_zone(info: DeviceInfo, windows_name: str, source: str) -> DeviceInfo:
    """`info` with a zone, unless it already has one."""
    if info.device_zone:
        return info
    return replace(
        info,
        windows_zone=windows_name,
        device_zone=windows_to_iana(windows_name),
        zone_source=source,
    )
