"""What every parser promises on any bytes, checked the same way by Hypothesis
(tests/fuzz/test_parsers.py) and by atheris (tests/fuzz/atheris_parsers.py).

A parser never raises on bad input (parsers/base.py): whatever the bytes, `sniff`
answers a bool, `parse` returns a `ParseResult` whose table has exactly the
parser's schema with no null in a non-nullable column, and every deriver the
parser declares turns that table into tables of their declared schemas. Seeds
are real members of the committed sample (data/sample) and the fixtures under
tests/data, grouped by the parser whose sniff accepts them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyarrow as pa

from espfleet.parsers import DERIVERS, PARSERS
from espfleet.parsers.base import ParseContext, Parser, ParseResult, ParseWarning
from espfleet.parsers.schema import PARSER_TABLES

ROOT = Path(__file__).resolve().parents[2]
BY_NAME: dict[str, Parser] = {p.name: p for p in PARSERS}
ZONE = "Europe/Berlin"
# Seeds longer than this are cut: short inputs run many more times a second.
SEED_BYTES = 4096
# The sample's devices carry no profile JSON: one written from the fields the
# parser reads (docs/formats.md), UTF-16 with a BOM as Windows writes it.
PROFILE_JSON = (
    '{"CloudAssignedTenantId":"00000000-0000-0000-0000-000000000001",'
    '"CloudAssignedDeviceName":"FRA-%SERIAL%","ZtdCorrelationId":"x",'
    '"ErrorCode":908,"ErrorReason":"HardwareMarkerMismatch, SerialNumberMismatch",'
    '"PolicyDownloadDate":"2026-01-05T10:00:00Z","CloudAssignedOobeConfig":1310}'
)


class BrokenPromise(AssertionError):
    """A parser broke its contract on some input (the fuzzers report these)."""


def _sample_members() -> dict[str, bytes]:
    from espfleet.unpack import BundleError, unpack

    members: dict[str, bytes] = {}
    for folder in sorted((ROOT / "data" / "sample").glob("*/*")):
        files = (
            {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}
            if folder.is_dir()
            else {folder.name: folder.read_bytes()}
        )
        try:
            unpacked = unpack(files)
        except BundleError:  # the sample's one truncated CAB
            continue
        for name, data in unpacked.items():
            members.setdefault(Path(name).name, data)
    for path in sorted((ROOT / "tests" / "data").rglob("*")):
        if path.is_file() and path.suffix not in (".md", ".py"):
            members.setdefault(path.name, path.read_bytes())
    members.setdefault(
        "AutopilotDDSZTDFile.json", b"\xff\xfe" + PROFILE_JSON.encode("utf-16-le")
    )
    return members


@cache
def seeds() -> dict[str, list[tuple[str, bytes]]]:
    """(member name, bytes) seeds per parser name, each at most SEED_BYTES long."""
    out: dict[str, list[tuple[str, bytes]]] = {p.name: [] for p in PARSERS}
    for name, data in sorted(_sample_members().items()):
        parser = next((p for p in PARSERS if p.sniff(data[:65536], name)), None)
        if parser is not None:
            out[parser.name].append((name, data[:SEED_BYTES]))
    return out


def member_name(parser: Parser, index: int) -> str:
    """A member name this parser's seeds use (some formats are known by name)."""
    names = [n for n, _ in seeds()[parser.name]] or [f"fuzz.{parser.name}"]
    return names[index % len(names)]


def _fits(table: pa.Table, schema: pa.Schema, what: str) -> None:
    if not table.schema.equals(schema):
        raise BrokenPromise(f"{what}: schema {table.schema} is not {schema}")
    for field in schema:
        if not field.nullable and table.column(field.name).null_count:
            raise BrokenPromise(f"{what}: nulls in non-nullable {field.name}")


def check(parser: Parser, data: bytes, name: str, zone: str | None = ZONE) -> int:
    """Run sniff, parse and the declared derivations on `data`; returns the rows.

    Raises:
        BrokenPromise: a result that breaks the contract; any other exception
            is the parser's own (itself a broken promise: parsers never raise).
    """
    sniffed = parser.sniff(data[:65536], name)
    if not isinstance(sniffed, bool):
        raise BrokenPromise(f"{parser.name}.sniff returned {sniffed!r}")
    result = parser.parse_group([(name, data)], ParseContext(name, zone))
    if not isinstance(result, ParseResult):
        raise BrokenPromise(f"{parser.name}.parse returned {type(result)}")
    _fits(result.table, parser.schema, parser.name)
    if result.skipped < 0 or not all(
        isinstance(w, ParseWarning) for w in result.warnings
    ):
        raise BrokenPromise(f"{parser.name}: bad warnings or skip count")
    for derivation in parser.derives:
        deriver = DERIVERS[derivation.deriver]
        for table_name, rows in deriver.derive(result.table).items():
            if table_name not in deriver.tables:
                raise BrokenPromise(f"{derivation.deriver} wrote {table_name}")
            _fits(rows, PARSER_TABLES[table_name], derivation.deriver)
    return result.table.num_rows


def check_pair(parser: Parser, data: bytes, cut: int, name: str) -> int:
    """`data` cut in two as one group (a log and its rollover), for grouping parsers."""
    if parser.parse_set is None:
        return check(parser, data, name)
    cut = cut % (len(data) + 1)
    older = name.rsplit(".", 1)[0] + ".lo_"
    result = parser.parse_group(
        [(older, data[:cut]), (name, data[cut:])], ParseContext(name, ZONE)
    )
    _fits(result.table, parser.schema, f"{parser.name} (two members)")
    return result.table.num_rows
