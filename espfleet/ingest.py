"""One bundle's members -> the warehouse tables, through the parser registry.

Pure: bytes in, Arrow tables out (no Prefect, no share, no DuckDB). The flow
calls `ingest_bundle` for each bundle of a batch and writes what it returns.

Dispatch walks `espfleet.parsers.PARSERS` once per member: the first parser
whose sniff accepts a member reads it; a member no parser accepts is listed
with the reason. Each parser's members are grouped as it declares (a CMTrace
log with its rollovers is one stream) and parsed in two passes: parsers whose
rows need the device's zone are read after the device is resolved from what
the others found (`espfleet.device`). Then the clock correction places every
timed row on the bundle's eras (`espfleet.clock`), and only then are the facts
each parser declares derived, so they inherit corrected times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from espfleet.parsers import DERIVERS, PARSERS
from espfleet.parsers.base import ParseContext, Parser, ParseResult, one_member_each

from . import clock
from .device import DeviceInfo, resolve
from .unpack import Keep, PassedOver

SNIFF_BYTES = 65536
NO_PARSER = "no parser for this format"
EMPTY = "empty file"
# Derived table -> (its column naming the source row, the source's column): the
# row whose clock columns it inherits.
_DERIVED_FROM = {
    "esp_events": ("record_id", "record_id"),
    "ccmsetup_runs": ("first_record_no", "record_no"),
    "ts_steps": ("first_record_no", "record_no"),
    "ts_runs": ("started_at", "ts_utc"),
    "ime_app_reports": ("record_no", "record_no"),
}


@dataclass
class MemberReport:
    """What happened to one member (a row of the `members` table)."""

    member: str
    size_bytes: int
    sha256: str
    parser: str | None = None
    reason: str | None = None
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

    def rows(self, table_name: str, with_member: bool = False) -> pa.Table | None:
        """All of one table's rows so far (None when there are none)."""
        parts = self.tables.get(table_name, [])
        if with_member:
            parts = [
                (m, t.append_column("member", pa.repeat(pa.scalar(m), t.num_rows)))
                for m, t in parts
            ]
        tables = [t for _m, t in parts]
        return pa.concat_tables(tables) if tables else None

    def part(self, table_name: str, member: str) -> pa.Table | None:
        """The rows one member gave to one table."""
        return next(
            (t for m, t in self.tables.get(table_name, []) if m == member), None
        )

    @property
    def n_warnings(self) -> int:
        return sum(m.warnings for m in self.members)

    @property
    def unread(self) -> list[MemberReport]:
        """Members no parser reads (reason recorded)."""
        return [m for m in self.members if m.reason == NO_PARSER]


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


def _parser_of(name: str, head: bytes) -> Parser | None:
    """The first parser whose sniff accepts a member (by its first bytes)."""
    return next((p for p in PARSERS if p.sniff(head[:SNIFF_BYTES], name)), None)


# What `espfleet.unpack.iter_members` holds: a member no parser reads is
# hashed as it is decompressed and never kept.
KEEP = Keep(lambda name, head: _parser_of(name, head) is not None, SNIFF_BYTES)


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


def _derive(out: BundleTables, parser: Parser, last: str) -> None:
    """The facts `parser` declares for one of its groups, from corrected rows."""
    source = out.part(parser.table, last)
    if source is None:
        return
    for derivation in parser.derives:
        if not derivation.applies_to(last):
            continue
        derived = DERIVERS[derivation.deriver].derive(source)
        for table_name, rows in derived.items():
            if table_name in _DERIVED_FROM:
                key, src_key = _DERIVED_FROM[table_name]
                rows = clock.inherit(rows, table_name, source, key, src_key)
            out.add(table_name, last, rows)


def _correct_clock(out: BundleTables) -> None:
    """Replace the timed tables by their corrected versions; add eras and anchors."""
    fixed = clock.correct(out.tables, out.device)
    out.tables = fixed.tables
    if fixed.eras.num_rows:
        out.add("clock_eras", "", fixed.eras)
    # one part: the anchors keep their own member column (warehouse.with_provenance)
    out.add("clock_anchors", "", fixed.anchors)


def ingest_bundle(
    members: Mapping[str, bytes], written_at: dict[str, datetime] | None = None
) -> BundleTables:
    """Parse every member of one unpacked bundle (`ingest_members` on its
    members in name order)."""
    return ingest_members(iter(sorted(members.items())), written_at)


def ingest_members(
    members: Iterator[tuple[str, bytes | PassedOver]],
    written_at: dict[str, datetime] | None = None,
) -> BundleTables:
    """Parse every member of one bundle as `espfleet.unpack.iter_members`
    yields them, holding only what must wait.

    A member whose parser needs nothing from the rest of the bundle is parsed
    as it arrives and let go before the next is decompressed; members that
    need the device's zone, or are read with others (a log and its
    rollovers), are held until the stream ends. The results do not depend on
    the members' order: each table's parts come out in parser order, then by
    member name, and the member reports by name.

    Args:
        members: (member name, bytes or `PassedOver`) pairs, for example
            ``mdmlogs.cab/x.evtx``; the iterator is consumed.
        written_at: member name -> the time its archive stored (naive local
            time for CAB members), for the zone fallback; read once the
            members are all through, so `iter_members` may fill it as it goes.

    Returns:
        The device identity, parsed, corrected and derived tables (with a
        ``member`` column; the flow adds the rest of the provenance) and a
        report per member.

    Raises:
        BundleError: from `members`, when the archive is damaged or over budget.
    """
    out = BundleTables()
    held: dict[str, bytes] = {}
    assigned: dict[str, list[str]] = {}
    for name, data in members:
        _take(out, held, assigned, name, data)
        del data  # before the next member is decompressed
    groups: list[tuple[Parser, str]] = []
    for needs_zone in (False, True):
        if needs_zone:
            _in_parser_order(out, groups)
            out.device = resolve(
                out.rows("device_facts", with_member=True),
                out.rows("registry_values"),
                out.rows("setup_log_entries"),
                out.rows("events"),
                written_at,
            )
        for parser in PARSERS:
            if parser.uses_device_zone is not needs_zone:
                continue
            names = sorted(assigned.get(parser.name, []))
            if parser.member_sets is one_member_each and not needs_zone:
                groups.extend((parser, name) for name in names)  # parsed already
                continue
            for group in parser.member_sets(names):
                _parse_group(out, parser, group, held)
                groups.append((parser, group[-1]))
                for name in group:
                    del held[name]
    _in_parser_order(out, groups)
    _correct_clock(out)
    for parser, last in groups:
        _derive(out, parser, last)
    return out


def _take(
    out: BundleTables,
    held: dict[str, bytes],
    assigned: dict[str, list[str]],
    name: str,
    data: bytes | PassedOver,
) -> None:
    """One member as it arrives: reported, parsed at once, or held in `held`
    for a parser that waits for the rest of the bundle; `assigned` gets the
    name under its parser."""
    if isinstance(data, PassedOver):
        out.members.append(MemberReport(name, data.size, data.sha256, reason=NO_PARSER))
        return
    if not data:
        # An empty member is damage worth seeing (a log collected as 0 bytes).
        report = _report(name, data, None, None)
        report.warnings, report.first_warning = 1, EMPTY
        report.reason = EMPTY
        out.members.append(report)
        return
    parser = _parser_of(name, data)
    if parser is None:
        report = _report(name, data, None, None)
        report.reason = NO_PARSER
        out.members.append(report)
    elif parser.uses_device_zone or parser.member_sets is not one_member_each:
        held[name] = data
        assigned.setdefault(parser.name, []).append(name)
    else:
        _parse_group(out, parser, [name], {name: data})
        assigned.setdefault(parser.name, []).append(name)


def _in_parser_order(out: BundleTables, groups: list[tuple[Parser, str]]) -> None:
    """Each table's parts in `groups`' order (parser, then member name) and
    the member reports by name, whatever order the members arrived in."""
    rank = {last: i for i, (_parser, last) in enumerate(groups)}
    unranked = len(rank)
    for parts in out.tables.values():
        parts.sort(key=lambda part: rank.get(part[0], unranked))
    out.members.sort(key=lambda m: m.member)
