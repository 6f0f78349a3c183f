"""What every parser returns and receives.

Parsers are pure: bytes in, an Arrow table out. They never raise on bad input;
they record a `ParseWarning` (line number, reason, an 80-character excerpt) and
count what they had to skip, so a caller can report damage without losing the
records before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
        esp_timeout_min: the ESP timeout that applied, in minutes.
    """

    member_name: str = ""
    device_zone: str | None = None
    esp_timeout_min: int = 60
