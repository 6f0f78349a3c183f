"""One bundle's members -> the warehouse tables, through the parser registry.

Pure: bytes in, Arrow tables out (no Prefect, no share, no DuckDB). The flow
calls `ingest_bundle` for each bundle of a batch and writes what it returns.

Dispatch (plaso style, by name and content): CMTrace logs are grouped into
rollover sets first (``ccmsetup.lo_`` + ``ccmsetup.log``) and each set parsed as
one stream; every other member goes to the first parser whose ``sniff`` accepts
it. Facts are then derived per member: ``esp_events`` from Shell-Core events,
``esp_tracking`` from registry values, ``ccmsetup_runs`` / ``ts_steps`` /
``ts_runs`` from ccmsetup and smsts logs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pyarrow as pa

from espfleet.parsers import PARSERS, cmtrace, regfile
from espfleet.parsers.base import ParseContext, ParseResult
from espfleet.parsers.derivers import (
    ccmsetup_runs,
    esp_events,
    esp_tracking,
    task_sequence,
)

from .device import (
    DeviceInfo,
    device_info,
    is_device_member,
    with_zone,
    zone_from_registry,
    zone_from_setupact,
)

SNIFF_BYTES = 65536
_CCMSETUP = re.compile(r"^ccmsetup", re.IGNORECASE)
_SMSTS = re.compile(r"^smsts", re.IGNORECASE)
_SETUPACT = re.compile(r"(^|/)setupact\.log$", re.IGNORECASE)


@dataclass
class MemberReport:
    """What happened to one member (a row of the `members` table)."""

    member: str
    size_bytes: int
    sha256: str
    parser: str | None = None
    rows: int = 0
    warnings: int = 0
    skipped: int = 0
    first_warning: str | None = None


@dataclass
class BundleTables:
    """Everything one bundle produced."""

    device: DeviceInfo
    # table name -> [(member, parser-schema table)]
    tables: dict[str, list[tuple[str, pa.Table]]] = field(default_factory=dict)
    members: list[MemberReport] = field(default_factory=list)

    def add(self, table_name: str, member: str, table: pa.Table) -> None:
        if table.num_rows:
            self.tables.setdefault(table_name, []).append((member, table))

    @property
    def n_warnings(self) -> int:
        return sum(m.warnings for m in self.members)


def _report(
    name: str, data: bytes, parser: str | None, result: ParseResult | None
) -> MemberReport:
    report = MemberReport(
        member=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        parser=parser,
    )
    if result is not None:
        report.rows = result.table.num_rows
        report.warnings = len(result.warnings)
        report.skipped = result.skipped
        if result.warnings:
            w = result.warnings[0]
            report.first_warning = f"line {w.line}: {w.reason}: {w.excerpt}"
    return report


def _derived(table_name: str, member: str, table: pa.Table) -> dict[str, pa.Table]:
    """The fact tables one member's rows give (table name -> rows)."""
    base = PurePosixPath(member).name
    if table_name == "events":
        return {"esp_events": esp_events.derive_esp_events(table)}
    if table_name == "registry_values":
        return {"esp_tracking": esp_tracking.derive_esp_tracking(table)}
    if table_name == "cm_log_entries" and _CCMSETUP.match(base):
        return {"ccmsetup_runs": ccmsetup_runs.derive_runs(table)}
    if table_name == "cm_log_entries" and _SMSTS.match(base):
        steps, runs = task_sequence.derive_steps(table)
        return {"ts_steps": steps, "ts_runs": runs}
    return {}


def _derive(out: BundleTables, table_name: str, member: str, table: pa.Table) -> None:
    for target, rows in _derived(table_name, member, table).items():
        out.add(target, member, rows)


def _parse_member(out: BundleTables, name: str, data: bytes) -> None:
    if not data:
        # An empty member is damage worth seeing (a log collected as 0 bytes).
        report = _report(name, data, None, None)
        report.warnings, report.first_warning = 1, "empty file"
        out.members.append(report)
        return
    if is_device_member(name):
        out.members.append(_report(name, data, "devicemeta", None))
        return
    parser = next(
        (p for p in PARSERS.values() if p.sniff(data[:SNIFF_BYTES], name)), None
    )
    if parser is None:
        out.members.append(_report(name, data, None, None))
        return
    result = parser.parse(data, ParseContext(name, out.device.device_zone))
    out.members.append(_report(name, data, parser.NAME, result))
    out.add(parser.TABLE, name, result.table)
    _derive(out, parser.TABLE, name, result.table)


def _declared_zone(out: BundleTables, members: dict[str, bytes]) -> None:
    """Fall back on the registry, then setupact.log, for the device's zone."""
    if out.device.device_zone:
        return
    rows = [
        row
        for _member, table in out.tables.get("registry_values", [])
        for row in table.select(["key_path", "value_name", "value_text"]).to_pylist()
    ]
    if found := zone_from_registry(rows):
        out.device = with_zone(out.device, *found)
        return
    for name in sorted(members):
        if _SETUPACT.search(name) and (zone := zone_from_setupact(members[name])):
            out.device = with_zone(out.device, zone, "setupact.log")
            return


def ingest_bundle(members: dict[str, bytes]) -> BundleTables:
    """Parse every member of one unpacked bundle.

    Order matters for time: registry exports first (they may declare the device's
    zone), then everything else, then the CMTrace logs, whose bias-less lines
    take their UTC from that zone.

    Args:
        members: member name (``mdmlogs.cab/x.evtx``, ``ccmsetup.log``) -> bytes.

    Returns:
        The device identity, parsed and derived tables (with a ``member``
        column; the flow adds the rest of the provenance) and a report per member.
    """
    out = BundleTables(device=device_info(members))
    log_names = {n for n, d in members.items() if cmtrace.sniff(d[:SNIFF_BYTES], n)}
    others = sorted(set(members) - log_names)
    registry = [n for n in others if regfile.sniff(members[n][:SNIFF_BYTES], n)]
    for name in registry:
        _parse_member(out, name, members[name])
    _declared_zone(out, members)
    for name in others:
        if name not in registry:
            _parse_member(out, name, members[name])

    zone = out.device.device_zone
    for _base, names in cmtrace.rollover_groups(sorted(log_names)).items():
        files = [(n, members[n]) for n in names]
        last = names[-1]
        result = cmtrace.parse_set(files, ParseContext(last, zone))
        for n in names:
            out.members.append(
                _report(n, members[n], cmtrace.NAME, result if n == last else None)
            )
        out.add("cm_log_entries", last, result.table)
        _derive(out, "cm_log_entries", last, result.table)
    return out
