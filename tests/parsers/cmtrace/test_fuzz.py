"""cmtrace.parse never raises, and never invents records, on shuffled pieces."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espfleet.parsers import cmtrace

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
RECORD = (
    b'<![LOG[m]LOG]!><time="13:28:46.510+480" date="01-13-2023" component="c" '
    b'context="" type="1" thread="1" file="f">\r\n'
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS) | st.binary(max_size=8), max_size=60))
def test_random_pieces_never_raise(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    result = cmtrace.parse(data)
    assert result.table.num_rows <= data.count(b"]LOG]!>") + data.count(b"$$<")
    assert result.skipped >= 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=20), st.integers(0, 5))
def test_damage_never_costs_a_neighbouring_record(pieces: list[bytes], k: int) -> None:
    junk = b"".join(pieces).replace(b"<![LOG[", b"").replace(b"]LOG]!>", b"")
    junk = junk.replace(b"$$<", b"")
    data = RECORD * (k + 1) + junk + b"\r\n" + RECORD  # junk never first: a BOM
    messages = cmtrace.parse(data).table.column("message").to_pylist()
    assert messages.count("m") == k + 2
