"""What every parser declares, returns and receives.

Parsers are pure: bytes in, an Arrow table out. They never raise on bad input;
they record a `ParseWarning` (line number, reason, an 80-character excerpt) and
count what they had to skip, so a caller can report damage without losing the
records before it.

Each format module ends with one `Parser` declaration; `espfleet.parsers.PARSERS`
lists them in the order ingestion tries their sniffs. Ingestion reads nothing
about a format but that declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

import pyarrow as pa

EXCERPT_CHARS = 80
MAX_CONSECUTIVE_FAILURES = 20


@dataclass(frozen=True)
class ParseWarning:
    """One problem met while parsing.

    Attributes:
        line: 1-based line (or record) number where it happened, if known.
        reason: what went wrong, in a few words.
        excerpt: up to 80 characters of the offending input.
    """

    line: int | None
    reason: str
    excerpt: str = ""

    @classmethod
    def at(cls, line: int | None, reason: str, text: str | bytes = "") -> ParseWarning:
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        return cls(line, reason, text[:EXCERPT_CHARS])


class Damage:
    """The warnings and skips of one parse, and the rule that ends it.

    Bad input never aborts a file, but 20 failures in a row mean the rest is
    not in this format: `fail` then says so once and returns True, and the
    parser stops. A record read well (`ok`) resets the run.
    """

    def __init__(self) -> None:
        self.warnings: list[ParseWarning] = []
        self.skipped = 0
        self.run = 0

    def warn(self, line: int | None, reason: str, text: str | bytes = "") -> None:
        """A problem that loses nothing (no skip, no failure)."""
        self.warnings.append(ParseWarning.at(line, reason, text))

    def fail(self, line: int | None, reason: str, text: str | bytes = "") -> bool:
        """One unit skipped; True when this failure ends the parse."""
        self.warn(line, reason, text)
        self.skipped += 1
        self.run += 1
        if self.run < MAX_CONSECUTIVE_FAILURES:
            return False
        self.warn(line, f"gave up after {MAX_CONSECUTIVE_FAILURES} failures in a row")
        return True

    def ok(self) -> None:
        """A unit read well: the run of failures is over."""
        self.run = 0


@dataclass
class ParseResult:
    """A parsed member: its rows, the warnings, and how many units were skipped.

    Attributes:
        table: rows matching the parser's `SCHEMA`.
        warnings: problems met, in input order.
        skipped: records or fragments that could not be recovered.
        extra: derived tables keyed by table name (for example a log parser
            may also return `ccmsetup_runs`).
    """

    table: pa.Table
    warnings: list[ParseWarning] = field(default_factory=list)
    skipped: int = 0
    extra: dict[str, pa.Table] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know about the bundle a member came from.

    Attributes:
        member_name: the member's file name inside its bundle (``ccmsetup.log``).
        device_zone: IANA zone of the device (``America/Los_Angeles``) when the
            bundle declares one; used for records that carry no bias.
    """

    member_name: str = ""
    device_zone: str | None = None


ParseOne = Callable[[bytes, "ParseContext | None"], ParseResult]
ParseSet = Callable[[Sequence[tuple[str, bytes]], "ParseContext | None"], ParseResult]


@dataclass(frozen=True)
class Derivation:
    """Fact tables computed from the rows a parser gives for one member.

    Attributes:
        members: glob on the member's file name, case-insensitive (``smsts*``);
            ``*`` derives from every member the parser reads.
        deriver: the module of `espfleet.parsers.derivers` that computes them
            (named, not imported: derivers use the readers' own helpers).
    """

    members: str
    deriver: str

    def applies_to(self, member: str) -> bool:
        """Whether `member` (a path inside a bundle) is one this derives from."""
        return fnmatchcase(PurePosixPath(member).name.lower(), self.members.lower())


def one_member_each(names: Sequence[str]) -> list[list[str]]:
    """The default grouping: every member is parsed on its own."""
    return [[name] for name in names]


@dataclass(frozen=True)
class Parser:
    """Everything ingestion knows about one format.

    Attributes:
        name: short name, recorded in `members.parser` (``cmtrace``).
        description: one line for people.
        table: the table its rows go to (``cm_log_entries``).
        schema: that table's schema (`espfleet.parsers.schema`).
        sniff: ``(first 64 KiB, member name) -> bool``, cheap; content decides
            where it can, the name only for formats with no signature.
        parse: ``(bytes, context) -> ParseResult`` for one member.
        derives: the fact tables computed from its rows.
        uses_device_zone: its rows need the device's zone (records written in
            local time without an offset), so ingestion parses it after the
            parsers that may declare the zone.
        member_sets: how members are grouped into one stream (a log and its
            rollovers); each group's last member names the result.
        parse_set: ``(members, context) -> ParseResult`` for one group; used
            instead of `parse` when `member_sets` is given.
    """

    name: str
    description: str
    table: str
    schema: pa.Schema
    sniff: Callable[[bytes, str], bool]
    parse: ParseOne
    derives: tuple[Derivation, ...] = ()
    uses_device_zone: bool = False
    member_sets: Callable[[Sequence[str]], list[list[str]]] = one_member_each
    parse_set: ParseSet | None = None

    def parse_group(
        self, files: Sequence[tuple[str, bytes]], context: ParseContext
    ) -> ParseResult:
        """Parse one group from `member_sets` (a single member unless grouped)."""
        if self.parse_set is not None:
            return self.parse_set(files, context)
        ((_, data),) = files
        return self.parse(data, context)
