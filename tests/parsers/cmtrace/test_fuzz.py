"""cmtrace.parse on shuffled pieces: it never raises, never invents a record, never
loses a well-formed one, and every row it gives fits the table."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espfleet.parsers import cmtrace, textdecode

OPENER, CLOSER, MARKER = "<![LOG[", "]LOG]!>", "$$<"
UNITS = tuple(u.encode() for u in (OPENER, CLOSER, MARKER))
TOKENS = [
    b"<![LOG[",
    b"]LOG]!>",
    b']LOG]!><time="',
    b"13:28:46.510+480",
    b"7:5:9.1234567",
    b'" date="',
    b"01-13-2023",
    b"1-2-2015",
    b"13-45-2023",
    b'" component="',
    b"ccm setup",
    b'" context="',
    b'" type="',
    b"1",
    b'" thread="',
    b"12",
    b'" file="',
    b"x.cpp:1",
    b'">',
    b">",
    b'"',
    b"<",
    b"]",
    b"\r\n",
    b"\n",
    b"\r",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"$$<",
    b"><thread=1 (0x1)>",
    b"~~  ",
    b"<01-02-2024 10:00:00.000+0>",
    b"<Mon Dec 04 15:41:45 1995~>",
    b"\xe9\x93",
]
CONFIDENCES = {"exact", "from_device_zone", "untrusted", "unknown"}


def record(message: str) -> bytes:
    return (
        f'<![LOG[{message}]LOG]!><time="13:28:46.510+480" date="01-13-2023" '
        'component="c" context="" type="1" thread="1" file="f">\r\n'
    ).encode()


def as_parsed(data: bytes) -> str:
    """The text the parser reads: decoded, NUL padding dropped."""
    return textdecode.decode(data).text.replace("\x00", "")


def without_units(junk: bytes) -> bytes:
    """`junk` with no opener, closer or marker left (removing one may join one)."""
    while any(unit in junk for unit in UNITS):
        for unit in UNITS:
            junk = junk.replace(unit, b"")
    return junk


SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS) | st.binary(max_size=8), max_size=60))
def test_random_pieces_give_only_records_the_input_holds(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    result = cmtrace.parse(data)
    text = as_parsed(data)
    rows = result.table.to_pylist()
    openers, closers, markers = (text.count(u) for u in (OPENER, CLOSER, MARKER))
    # A record ends at a closer (CCM) or a marker (SMS trace); every skipped unit
    # is a closer, an opener's chunk, or the one stretch before the first opener
    # (after the last marker).
    assert len(rows) <= closers + markers
    assert len(rows) + result.skipped <= openers + closers + markers + 1
    assert result.table.schema == cmtrace.SCHEMA
    assert [r["record_no"] for r in rows] == list(range(1, len(rows) + 1))
    last_line = text.count("\n") + 1
    for row in rows:
        assert row["message"] in text
        assert 1 <= row["line_no"] <= last_line
        assert row["ts_confidence"] in CONFIDENCES
        # No device zone: only a written bias gives an instant.
        assert (row["ts_utc"] is not None) == (row["ts_confidence"] == "exact")
        if row["ts_utc"] is not None and row["tz_bias_min"] is not None:
            delta = row["ts_utc"].replace(tzinfo=None) - row["ts_local"]
            assert delta == timedelta(minutes=row["tz_bias_min"])  # Windows sign


# Messages of well-formed records: no opener, closer or NUL; ASCII, so junk that
# makes the file cp1252 decodes them unchanged.
MESSAGE = st.text(alphabet=string.printable, max_size=30).filter(
    lambda m: OPENER not in m and CLOSER not in m
)
JUNK = st.lists(st.sampled_from(TOKENS), max_size=20).map(
    lambda pieces: without_units(b"".join(pieces))
)


@SETTINGS
@given(st.lists(st.tuples(MESSAGE, JUNK), min_size=1, max_size=8))
def test_n_well_formed_records_among_junk_give_exactly_those_n(
    records: list[tuple[str, bytes]],
) -> None:
    # Junk after each record, never before the first (a BOM there is an encoding).
    data = b"".join(record(message) + junk for message, junk in records)
    result = cmtrace.parse(data)
    rows = result.table.to_pylist()
    assert [r["message"] for r in rows] == [message for message, _ in records]
    # 13:28:46.510+480 is 21:28:46.510Z.
    assert {(r["ts_utc"], r["tz_bias_min"], r["ts_confidence"]) for r in rows} == {
        (datetime(2023, 1, 13, 21, 28, 46, 510000, tzinfo=UTC), 480, "exact")
    }
