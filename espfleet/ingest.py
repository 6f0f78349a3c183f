"""One bundle's members -> the warehouse tables, through the parser registry.

Pure: bytes in, Arrow tables out (no Prefect, no share, no DuckDB). The flow
calls `ingest_bundle` for each bundle of a batch and writes what it returns.

Dispatch walks `espfleet.parsers.PARSERS` once per member: the first parser
whose sniff accepts a member reads it; a member no parser accepts is listed
with no parser. Each parser's members are grouped as it declares (a CMTrace
log with its rollovers is one stream) and parsed, and the facts it declares
are derived from each group whose member name matches. Parsers whose rows
need the device's zone are read last, after the device is resolved from what
the others found (`espfleet.device`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pyarrow as pa

from espfleet.parsers import DERIVERS, PARSERS
from espfleet.parsers.base import ParseContext, Parser, ParseResult

from .device import DeviceInfo, resolve

SNIFF_BYTES = 65536


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

    device: DeviceInfo = field(default_factory=DeviceInfo)
    # table name -> [(member, parser-schema table)]
    tables: dict[str, list[tuple[str, pa.Table]]] = field(default_factory=dict)
    members: list[MemberReport] = field(default_factory=list)

    def add(self, table_name: str, member: str, table: pa.Table) -> None:
        if table.num_rows:
            self.tables.setdefault(table_name, []).append((member, table))

    def rows(self, table_name: str) -> pa.Table | None:
        """All of one table's rows so far (None when there are none)."""
        parts = [t for _member, t in self.tables.get(table_name, [])]
        return pa.concat_tables(parts) if parts else None

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


def _assign(members: dict[str, bytes], out: BundleTables) -> dict[str, list[str]]:
    """Parser name -> its members; members no parser reads are reported here."""
    assigned: dict[str, list[str]] = {}
    for name in sorted(members):
        data = members[name]
        if not data:
            # An empty member is damage worth seeing (a log collected as 0 bytes).
            report = _report(name, data, None, None)
            report.warnings, report.first_warning = 1, "empty file"
            out.members.append(report)
            continue
        head = data[:SNIFF_BYTES]
        parser = next((p for p in PARSERS if p.sniff(head, name)), None)
        if parser is None:
            out.members.append(_report(name, data, None, None))
        else:
            assigned.setdefault(parser.name, []).append(name)
    return assigned


def _parse_group(
    out: BundleTables, parser: Parser, group: list[str], members: dict[str, bytes]
) -> None:
    last = group[-1]
    zone = out.device.device_zone if parser.uses_device_zone else None
    result = parser.parse_group(
        [(n, members[n]) for n in group], ParseContext(last, zone)
    )
    for name in group:  # the group's result is recorded on its last member
        kept = result if name == last else None
        out.members.append(_report(name, members[name], parser.name, kept))
    out.add(parser.table, last, result.table)
    for derivation in parser.derives:
        if derivation.applies_to(last):
            derived = DERIVERS[derivation.deriver].derive(result.table)
            for table_name, rows in derived.items():
                out.add(table_name, last, rows)


def ingest_bundle(members: dict[str, bytes]) -> BundleTables:
    """Parse every member of one unpacked bundle.

    Args:
        members: member name (``mdmlogs.cab/x.evtx``, ``ccmsetup.log``) -> bytes.

    Returns:
        The device identity, parsed and derived tables (with a ``member``
        column; the flow adds the rest of the provenance) and a report per member.
    """
    out = BundleTables()
    assigned = _assign(members, out)
    for needs_zone in (False, True):
        if needs_zone:
            out.device = resolve(out.rows("device_facts"), out.rows("registry_values"))
        for parser in PARSERS:
            if parser.uses_device_zone is needs_zone:
                for group in parser.member_sets(assigned.get(parser.name, [])):
                    _parse_group(out, parser, group, members)
    return out
