"""What a bundle's small identity files say about the device -> `device_facts`.

Five members of an MDM diagnostics CAB name the device or the collection time
(docs/formats.md §5.1, §8.1):

* ``DiagnosticsFrameworkData.json`` (builds from 2022 on): ``$schema`` tabs ->
  categories -> items with ``propertyId`` ``Timezone`` (a Windows zone key
  name), ``DeviceName``, ``SerialNumber``, ``OSBuild`` (a BuildLabEx string such
  as ``22621.1.amd64fre.ni_release.220506-1250``: the base build, not the
  installed one, so it is kept as ``build_lab``), ``ProductName`` (the model),
  ``Manufacturer``;
* ``DeviceHash_<name>.csv`` (the Autopilot hardware-hash CSV):
  ``Device Serial Number``, and the device name in the file name;
* ``MDMDiagReport.xml``: ``<SerialNumber>``, ``<OSVersion>10.0.22631.3296`` and
  ``<ReportCreationTime>Wednesday, 03 April 2024--07:45:12 (UTC)``, read by
  pattern from the first 64 KiB (the file runs to megabytes);
* ``MdmDiagLogMetadata.json``: ``CurrentBuild``, ``UBR``, the major and minor
  version, ``EditionID``, ``BuildLabEx`` (the 2020 build writes it as invalid
  JSON, so fields are read tolerantly);
* ``MdmLogCollectorFootPrint.txt``: its first line ``--- Start at:<UTC>``, the
  collection time (within two seconds of ReportCreationTime).

Setup logs name zones too; they have their own parser (`setuplog`). Members are
recognised by name: none of them has a signature of its own. Which source to
trust when they disagree is decided by ingestion (`espfleet.device`) and the
`device_attributes` view, not here.

Columns: see `schema.DEVICE_FACTS`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pyarrow as pa

from . import schema
from .base import ParseContext, Parser, ParseResult, ParseWarning
from .textdecode import decode, loss_warning

SCHEMA = schema.DEVICE_FACTS

_REPORT_TIME = re.compile(
    r"<ReportCreationTime>\s*\w+,\s*(\d{1,2} \w+ \d{4})--"
    r"(\d{1,2}:\d{2}:\d{2})\s*\(UTC\)",
)
_XML_SERIAL = re.compile(r"<SerialNumber>([^<]*)</SerialNumber>")
_XML_VERSION = re.compile(r"<OSVersion>\s*(\d+)\.(\d+)\.(\d+)\.(\d+)\s*</OSVersion>")
_META_FIELD = re.compile(r'"?(\w+)"?\s*:\s*"?([^",\r\n}]*)"?')
_FOOTPRINT_START = re.compile(
    r"^---\s*Start at:\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})"
)
_BUILD_UBR = re.compile(r"(\d{4,5})\.(\d{1,6})")
# DiagnosticsFrameworkData item -> our attribute name.
_FRAMEWORK_ITEMS = {
    "SerialNumber": "serial_number",
    "DeviceName": "device_name",
    "Timezone": "windows_zone",
    "OSBuild": "build_lab",
    "ProductName": "model",
    "Manufacturer": "manufacturer",
}
Fact = tuple[str, str | None, datetime | None]  # attribute, text, instant


def _framework(data: bytes) -> list[Fact]:
    doc = json.loads(decode(data).text)
    facts: list[Fact] = []
    seen: set[str] = set()
    for tab in doc.get("$schema", []):
        for category in tab.get("categories", []):
            for item in category.get("items", []) or []:
                attribute = _FRAMEWORK_ITEMS.get(item.get("propertyId"))
                value = item.get("value")
                if (
                    attribute
                    and isinstance(value, str)
                    and value.strip()
                    and attribute not in seen
                ):
                    seen.add(attribute)
                    if attribute == "build_lab" and _BUILD_UBR.fullmatch(value):
                        facts += _build_facts(*value.split("."))
                    else:
                        facts.append((attribute, value.strip(), None))
    return facts


def _build_facts(build: str, ubr: str, major: str = "", minor: str = "") -> list[Fact]:
    """os_build (``22631.3296``), build_number, ubr; os_version with the version."""
    facts: list[Fact] = [
        ("os_build", f"{build}.{ubr}", None),
        ("build_number", build, None),
        ("ubr", ubr, None),
    ]
    if major and minor:
        facts.insert(0, ("os_version", f"{major}.{minor}.{build}.{ubr}", None))
    return facts


def _device_hash(name: str, data: bytes) -> list[Fact]:
    stem = PurePosixPath(name).stem
    facts: list[Fact] = []
    rows = list(csv.DictReader(io.StringIO(decode(data).text)))
    serial = rows[0].get("Device Serial Number") if rows else None
    if serial:
        facts.append(("serial_number", serial, None))
    if stem.startswith("DeviceHash_") and stem[len("DeviceHash_") :]:
        facts.append(("device_name", stem[len("DeviceHash_") :], None))
    return facts


def _report_xml(data: bytes) -> list[Fact]:
    text = decode(data[:65536]).text
    facts: list[Fact] = []
    if m := _REPORT_TIME.search(text):
        try:
            when = datetime.strptime(f"{m[1]} {m[2]}", "%d %B %Y %H:%M:%S")
        except ValueError:
            pass
        else:
            facts.append(("collected_at", None, when.replace(tzinfo=UTC)))
    if (m := _XML_SERIAL.search(text)) and m[1].strip():
        facts.append(("serial_number", m[1].strip(), None))
    if m := _XML_VERSION.search(text):
        facts += _build_facts(m[3], m[4], m[1], m[2])
    return facts


def _log_metadata(data: bytes) -> list[Fact]:
    fields = {k: v.strip() for k, v in _META_FIELD.findall(decode(data).text)}
    get = fields.get
    build = get("CurrentBuild") or get("CurrentBuildNumber") or ""
    ubr = get("UBR") or ""
    facts: list[Fact] = []
    if build.isdigit() and ubr.isdigit():
        major = get("CurrentMajorVersionNumber") or ""
        minor = get("CurrentMinorVersionNumber") or ""
        facts += _build_facts(build, ubr, major, minor)
    elif build.isdigit():
        facts.append(("build_number", build, None))
    for attribute, key in (("edition", "EditionID"), ("build_lab", "BuildLabEx")):
        if value := get(key):
            facts.append((attribute, value, None))
    return facts


def _footprint(data: bytes) -> list[Fact]:
    """MdmLogCollectorFootPrint.txt: ``--- Start at:2024-04-03T07:45:13`` (UTC)."""
    m = _FOOTPRINT_START.match(decode(data[:4096]).text.lstrip("\ufeff"))
    if m is None:
        return []
    when = datetime.fromisoformat(m[1]).replace(tzinfo=UTC)
    return [("collected_at", None, when)]


# (source, file-name pattern, reader). The source names the kind of member.
_READERS = (
    ("DiagnosticsFrameworkData.json", r"DiagnosticsFrameworkData\.json", _framework),
    ("DeviceHash", r"DeviceHash_[^/]*\.csv", _device_hash),
    ("MDMDiagReport.xml", r"MDMDiagReport\.xml", _report_xml),
    ("MdmDiagLogMetadata.json", r"MdmDiagLogMetadata\.json", _log_metadata),
    ("MdmLogCollectorFootPrint.txt", r"MdmLogCollectorFootPrint\.txt", _footprint),
)
_PATTERNS = [
    (source, re.compile(rf"(^|/){p}$", re.I), read) for source, p, read in _READERS
]


def _reader(name: str):
    return next(((s, r) for s, p, r in _PATTERNS if p.search(name)), None)


def sniff(head: bytes, name: str = "") -> bool:
    """True for the identity files listed above (recognised by name)."""
    return _reader(name) is not None


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """The facts one identity file states.

    Args:
        data: the member's bytes.
        context: its member name picks the reader.

    Returns:
        One row per fact; a damaged file gives a warning and no rows.
    """
    name = context.member_name if context else ""
    found = _reader(name)
    if found is None:
        warning = ParseWarning.at(None, "not a device identity file", name)
        return ParseResult(SCHEMA.empty_table(), [warning], 0)
    source, read = found
    try:
        facts = read(name, data) if read is _device_hash else read(data)  # type: ignore[operator]
    except (ValueError, UnicodeError, csv.Error, AttributeError, TypeError) as error:
        warning = ParseWarning.at(None, f"unreadable {source}: {error}", data[:80])
        return ParseResult(SCHEMA.empty_table(), [warning], 1)
    rows = [
        {"source": source, "attribute": a, "value": v, "value_at": at}
        for a, v, at in facts
    ]
    # Identity files are small: one more decoding tells whether any was lossy.
    loss = loss_warning(decode(data))
    warnings = [ParseWarning.at(None, loss)] if loss else []
    return ParseResult(pa.Table.from_pylist(rows, schema=SCHEMA), warnings)


PARSER = Parser(
    name="devicefacts",
    description="Device identity files: DiagnosticsFrameworkData.json, DeviceHash "
    "CSV, MDMDiagReport.xml, MdmDiagLogMetadata.json, MdmLogCollectorFootPrint.txt",
    table="device_facts",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
)
