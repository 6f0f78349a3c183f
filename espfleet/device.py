"""Who the device of a bundle is, and which time zone it was in: decided once.

The evidence is what the bundle's parsers read: `device_facts` rows (identity
files and setupact.log zone lines, `espfleet.parsers.devicefacts`) and, for the
zone, the registry's ``TimeZoneKeyName`` and ``ConfigureTimeZone`` values
(docs/formats.md §8.1). When sources disagree, the one earlier in `TRUST` wins;
the zone's source is kept so every converted time says where its zone came from.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from espfleet.parsers.timezones import windows_to_iana

# Most trusted first; a field takes the first source that states it.
TRUST = (
    "DiagnosticsFrameworkData.json",
    "DeviceHash",
    "MDMDiagReport.xml",
    "MdmDiagLogMetadata.json",
    "registry TimeZoneKeyName",
    "registry ConfigureTimeZone",
    "setupact.log",
)
# (key path suffix, value name, source), for the zone in a registry export.
_REGISTRY_ZONES = (
    ("\\control\\timezoneinformation", "timezonekeyname", "registry TimeZoneKeyName"),
    ("\\timelanguagesettings", "configuretimezone", "registry ConfigureTimeZone"),
)


@dataclass(frozen=True)
class DeviceInfo:
    """What a bundle says about its device. Every field may be unknown."""

    serial_number: str | None = None
    device_name: str | None = None
    windows_zone: str | None = None
    device_zone: str | None = None  # IANA, from windows_zone
    collected_at: datetime | None = None
    os_build: str | None = None
    model: str | None = None
    zone_source: str | None = None  # the TRUST source windows_zone came from


def _registry_zones(registry_values: pa.Table | None) -> list[dict]:
    """`device_facts`-shaped rows for the zone values of a registry export."""
    if registry_values is None or registry_values.num_rows == 0:
        return []
    # Only the rows that may hold one of these values reach Python (a dump has
    # ~36,000): ASCII names lower-cased by Arrow, as str.lower does; others kept.
    names = registry_values["value_name"]
    wanted = pc.or_(
        pc.is_in(pc.utf8_lower(names), pa.array([z[1] for z in _REGISTRY_ZONES])),
        pc.invert(pc.string_is_ascii(names)),
    )
    rows = registry_values.filter(wanted).select(
        ["key_path", "value_name", "value_text"]
    )
    out = []
    for row in rows.to_pylist():
        key = (row["key_path"] or "").lower()
        for suffix, value_name, source in _REGISTRY_ZONES:
            if (
                key.endswith(suffix)
                and (row["value_name"] or "").lower() == value_name
                and row["value_text"]
            ):
                value = row["value_text"].strip()
                out.append(
                    {"source": source, "attribute": "windows_zone", "value": value}
                )
    return out


def resolve(
    device_facts: pa.Table | None, registry_values: pa.Table | None = None
) -> DeviceInfo:
    """The device of one bundle, from all it says.

    Args:
        device_facts: the bundle's `device_facts` rows (any number of members).
        registry_values: the bundle's `registry_values` rows, for the zone.

    Returns:
        One `DeviceInfo`; each field from the most trusted source stating it.
    """
    facts = [] if device_facts is None else device_facts.to_pylist()
    facts += _registry_zones(registry_values)
    rank = {source: i for i, source in enumerate(TRUST)}
    facts.sort(key=lambda f: rank.get(f["source"], len(TRUST)))
    found: dict[str, object] = {}
    zones = []
    for fact in facts:
        attribute = fact["attribute"]
        value = fact.get("value_at") or fact.get("value")
        if value in (None, ""):
            continue
        if attribute == "windows_zone":
            zones.append((str(value), fact["source"]))
        elif attribute not in found:
            found[attribute] = value
    known = {f.name for f in fields(DeviceInfo)}
    info = DeviceInfo(**{k: v for k, v in found.items() if k in known})  # type: ignore[arg-type]
    # The most trusted zone name that is a real zone; else the first one named.
    mapped = [(z, s, windows_to_iana(z)) for z, s in zones]
    choice = next((m for m in mapped if m[2]), mapped[0] if mapped else None)
    if choice:
        info = replace(
            info, windows_zone=choice[0], zone_source=choice[1], device_zone=choice[2]
        )
    return info
