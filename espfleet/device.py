"""Who the device of a bundle is, and which time zone it was in: decided once.

The evidence is what the bundle's parsers read: `device_facts` rows (identity
files, `espfleet.parsers.devicefacts`), the zone lines of setup logs
(`setup_log_entries.zone_set`), the registry's ``TimeZoneKeyName`` and
``ConfigureTimeZone`` values (docs/formats.md §8.1) and, for the name alone,
the ``Computer`` of event records. When sources disagree, the one earlier in
`TRUST` wins; the zone's source is kept so every converted time says where its
zone came from.

With no zone named anywhere, the UTC offset at collection is measured from a
CAB's own member times (MS-DOS local times) against the UTC collection time the
same CAB states (``ReportCreationTime``, else the footprint's ``Start at``),
rounded to 15 minutes (docs/formats.md §8.3). ZIP members store UTC, so the
pairing is made for members whose archive is a CAB only. The offset has no DST
history, so times converted with it say ``from_collection_offset``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc

from espfleet.parsers.timezones import windows_to_iana

# Most trusted first; a field takes the first source that states it.
TRUST = (
    "DiagnosticsFrameworkData.json",
    "DeviceHash",
    "MDMDiagReport.xml",
    "MdmDiagLogMetadata.json",
    "MdmLogCollectorFootPrint.txt",
    "registry TimeZoneKeyName",
    "registry ConfigureTimeZone",
    "setupact.log",
    "events Computer",
)
MEMBER_TIMES = "cab_member_times"
# (key path suffix, value name, source), for the zone in a registry export.
_REGISTRY_ZONES = (
    ("\\control\\timezoneinformation", "timezonekeyname", "registry TimeZoneKeyName"),
    ("\\timelanguagesettings", "configuretimezone", "registry ConfigureTimeZone"),
)
# Members whose CAB time pairs with the collection time the CAB states.
_TIMED_MEMBERS = ("mdmdiagreport.xml", "mdmlogcollectorfootprint.txt")
QUARTER_HOUR_S = 900
# Real UTC offsets lie between UTC-12 and UTC+14 (docs/formats.md §8.3).
OFFSET_RANGE_MIN = (-720, 840)


@dataclass(frozen=True)
class DeviceInfo:
    """What a bundle says about its device. Every field may be unknown.

    Attributes:
        serial_number, device_name: identity, from the most trusted source.
        windows_zone: the zone key name chosen; device_zone its IANA zone.
        zone_source: the `TRUST` source it came from, or ``cab_member_times``
            when only the offset is known.
        collected_at: UTC time of collection.
        utc_offset_min: the UTC offset at collection (ISO sign) measured from
            CAB member times; used for local times only when no zone is named.
    """

    serial_number: str | None = None
    device_name: str | None = None
    windows_zone: str | None = None
    device_zone: str | None = None
    collected_at: datetime | None = None
    zone_source: str | None = None
    utc_offset_min: int | None = None

    @property
    def offset_only(self) -> bool:
        """True when the only zone evidence is the measured offset."""
        return self.device_zone is None and self.utc_offset_min is not None


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


def _setup_zones(setup_log: pa.Table | None) -> list[dict]:
    """The last zone a setup log says was set (the one in force when it ended)."""
    if setup_log is None or setup_log.num_rows == 0:
        return []
    zones = [z for z in setup_log.column("zone_set").to_pylist() if z]
    if not zones:
        return []
    return [{"source": "setupact.log", "attribute": "windows_zone", "value": zones[-1]}]


def _computer(events: pa.Table | None) -> list[dict]:
    """The Computer of the latest event record (the name at collection)."""
    if events is None or events.num_rows == 0:
        return []
    named = events.filter(pc.is_valid(events.column("computer")))
    if named.num_rows == 0:
        return []
    last = pc.max(named.column("ts_utc"))
    latest = 0 if not last.is_valid else pc.index(named.column("ts_utc"), last).as_py()
    name = named.column("computer")[latest].as_py().strip()
    return [{"source": "events Computer", "attribute": "device_name", "value": name}]


def member_time_offset(
    written_at: dict[str, datetime] | None, collected_at: dict[str, datetime]
) -> int | None:
    """The UTC offset (minutes, ISO sign) a CAB's member times imply.

    Args:
        written_at: member name -> stored (naive local) time, from unpack.
        collected_at: archive path -> the UTC collection time its members state.

    Returns:
        local - UTC rounded to 15 minutes, or None when no CAB member pairs
        with a collection time or the result is no real offset.
    """
    for member, local in sorted((written_at or {}).items()):
        path = PurePosixPath(member)
        archive = str(path.parent)
        if path.name.lower() not in _TIMED_MEMBERS or not archive.lower().endswith(
            ".cab"
        ):
            continue
        utc = collected_at.get(archive)
        if utc is None:
            continue
        seconds = (local - utc.replace(tzinfo=None)).total_seconds()
        minutes = round(seconds / QUARTER_HOUR_S) * QUARTER_HOUR_S // 60
        if OFFSET_RANGE_MIN[0] <= minutes <= OFFSET_RANGE_MIN[1]:
            return int(minutes)
    return None


def _collection_times(device_facts: pa.Table | None) -> dict[str, datetime]:
    """Archive path -> the collection time its identity files state."""
    if device_facts is None or "member" not in device_facts.column_names:
        return {}
    found: dict[str, datetime] = {}
    for row in device_facts.to_pylist():
        if row["attribute"] == "collected_at" and row.get("value_at"):
            archive = str(PurePosixPath(row["member"]).parent)
            found.setdefault(archive, row["value_at"])
    return found


def resolve(
    device_facts: pa.Table | None,
    registry_values: pa.Table | None = None,
    setup_log: pa.Table | None = None,
    events: pa.Table | None = None,
    written_at: dict[str, datetime] | None = None,
) -> DeviceInfo:
    """The device of one bundle, from all it says.

    Args:
        device_facts: the bundle's `device_facts` rows (with a ``member``
            column when the zone fallback should pair member times).
        registry_values: the bundle's `registry_values` rows, for the zone.
        setup_log: the bundle's `setup_log_entries` rows, for the zone.
        events: the bundle's `events` rows, for the name when nothing else has it.
        written_at: member name -> stored local time (CAB members), for the
            offset when no zone is named.

    Returns:
        One `DeviceInfo`; each field from the most trusted source stating it.
    """
    facts = [] if device_facts is None else device_facts.to_pylist()
    facts += _registry_zones(registry_values)
    facts += _setup_zones(setup_log)
    facts += _computer(events)
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
    known = {f.name for f in fields(DeviceInfo)} - {"windows_zone", "zone_source"}
    info = DeviceInfo(**{k: v for k, v in found.items() if k in known})  # type: ignore[arg-type]
    # The most trusted zone name that is a real zone; else the first one named.
    mapped = [(z, s, windows_to_iana(z)) for z, s in zones]
    choice = next((m for m in mapped if m[2]), mapped[0] if mapped else None)
    offset = member_time_offset(written_at, _collection_times(device_facts))
    info = replace(info, utc_offset_min=offset)
    if choice:
        info = replace(
            info, windows_zone=choice[0], zone_source=choice[1], device_zone=choice[2]
        )
    if info.device_zone is None and offset is not None:
        info = replace(info, zone_source=MEMBER_TIMES)
    return info
