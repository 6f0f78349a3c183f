"""parsers/cmtrace/canonical.py: the canonical-record reader gives exactly what the
regular-record reader and the careful reader give.

Three references: `regular.read_block` (the regular-record reader alone, which
the canonical one replaces on canonical chunks), and `cmtrace.parse` with the
column readers disabled (every chunk read by `careful.read_tails`). The
generator writes well-formed records with random field values and near misses of
every part the canonical reader checks (separators, attribute order, time and
date layouts, tails, quotes and ``]LOG]!>`` in messages, cut records, junk
between records).

Known differences between the column readers and the careful reader, older than
the canonical reader and kept (the canonical reader accepts none of them, so the
regular reader still decides): attribute values holding ``<``, ``>``, CR or LF;
signed or three-digit ``type`` and signed or 19-digit ``thread`` values;
non-ASCII whitespace after the closing ``>``; a message holding ``]LOG]!>`` (the
column readers cut at ``]LOG]!><time="``, the careful reader at ``]LOG]!>``).
The generator does not write those for the careful-reader comparisons.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espfleet.parsers import cmtrace
from espfleet.parsers.cmtrace import blocks, canonical, records, regular
from espfleet.parsers.cmtrace.grammar import THREAD_DIGITS

DIGIT = st.sampled_from("0123456789")
VALUE = st.text(
    alphabet=st.characters(
        blacklist_characters='"<>\r\n', blacklist_categories=("Cs",)
    ),
    max_size=12,
)
MESSAGE = st.text(max_size=30).map(
    lambda s: s.replace("<![LOG[", "")
) | st.sampled_from(
    [
        "plain",
        'with "quotes" and ] and <x>',
        "two\r\nlines",
        "]LOG]!> inside",
        "émoji 🙂",
        "",
    ]
)
TIME = st.sampled_from(
    [
        "13:28:46.510+480",
        "00:00:00.000-060",
        "23:59:59.999+000",
        "10:22:50.8422964",
        "7:05:09.1-60",
        "13:28:46",
        "13:28:46.510+1440",
        "13:28:46.510+1441",
        "24:00:00.000+000",
        "13:60:00.000+000",
        "13:28:46.510 +480",
        "13:28:46,510+480",
        "1:2:3",
        "",
    ]
) | st.builds(
    lambda h, m, s, f, sign, b: f"{h:02d}:{m:02d}:{s:02d}.{f}{sign}{b}",
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.text(DIGIT, min_size=1, max_size=9),
    st.sampled_from(["+", "-", ""]),
    st.text(DIGIT, max_size=5),
)
DATE = st.sampled_from(
    ["01-13-2023", "1-2-2015", "12-31-1999", "8-17-2025", "11-5-2024", "3-28-2024"]
) | st.builds(
    lambda m, d, y, pad: f"{m:02d}-{d:02d}-{y}" if pad else f"{m}-{d}-{y}",
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(1850, 3050),
    st.booleans(),
)
TYPE = st.sampled_from(["", "0", "1", "2", "3", "9", "12", "x"])
THREAD = st.sampled_from(["", "0", "7", "4321", "0123", "x1"]) | st.text(
    DIGIT, min_size=1, max_size=19
)
SEPARATORS = [" date=", " component=", " context=", " type=", " thread=", " file="]
NEAR_SEPARATORS = {
    " date=": [" Date=", "  date=", " date =", "\tdate="],
    " component=": [" componet=", " component= "],
    " context=": [" ctx=", " context=="],
    " type=": [" type=", " typ="],
    " thread=": [" thread=", " Thread="],
    " file=": [" file=", " files="],
}
TAIL = st.sampled_from(
    [">\r\n", ">\r\n", ">\n", ">", " >\r\n", ">  \r\n", "", ">x\r\n"]
)


@st.composite
def record(draw: st.DrawFn, near: bool, careful: bool = False) -> str:
    values = [draw(TIME), draw(DATE)] + [draw(VALUE), draw(VALUE), draw(TYPE)]
    values += [draw(THREAD), draw(VALUE)]
    if careful:  # the careful reader reads threads of up to 18 digits
        values[5] = values[5][:THREAD_DIGITS]
    seps = list(SEPARATORS)
    if near and draw(st.booleans()):
        k = draw(st.integers(0, 5))
        seps[k] = draw(st.sampled_from(NEAR_SEPARATORS[seps[k]]))
    attrs = f'time="{values[0]}"'
    for sep, value in zip(seps, values[1:], strict=True):
        attrs += f'{sep}"{value}"'
    if near and draw(st.integers(0, 9)) == 0:  # attributes reordered
        attrs = f'date="{values[1]}" time="{values[0]}"' + attrs.split('"', 4)[4]
    tail = draw(TAIL) if near else draw(st.sampled_from([">\r\n", ">\n"]))
    message = draw(MESSAGE)
    if careful:  # only ]LOG]!> ends a message there
        message = message.replace("]LOG]!>", "]LOG]")
    text = f"<![LOG[{message}]LOG]!><{attrs}{tail}"
    if near and draw(st.integers(0, 14)) == 0:  # cut short (a crash)
        text = text[: draw(st.integers(0, len(text)))]
    return text


def canonical_log(draw_records: list[str]) -> bytes:
    return "".join(draw_records).encode()


def scans_equal(a: records.Scan, b: records.Scan) -> None:
    assert a.preamble == b.preamble
    assert a.n_chunks == b.n_chunks
    assert a.newlines == b.newlines
    for name in ("chunk_offsets", "chunk_lines", "good", "irregular"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    if len(a.good) == 0:  # nothing converted: the columns are not read
        return
    assert a.columns.keys() == b.columns.keys()
    for name, col in a.columns.items():
        other = b.columns[name]
        if isinstance(col, np.ndarray):
            assert np.array_equal(col, other), name
        else:
            assert pa.array(col).equals(pa.array(other)), name


def all_irregular(buf, offset0=0, line0=1) -> records.Scan:
    """The scan with no record converted: every chunk goes to the careful reader."""
    sc = regular.read_block(buf, offset0, line0)
    sc.good = np.empty(0, np.int64)
    sc.columns = {}
    sc.irregular = np.arange(sc.n_chunks, dtype=np.int64)
    return sc


def same_as_careful(data: bytes) -> None:
    fast = cmtrace.parse(data)
    with mock.patch.object(blocks, "scan", all_irregular):
        slow = cmtrace.parse(data)
    assert fast.table.equals(slow.table), (fast.table, slow.table)
    assert [(w.line, w.reason, w.excerpt) for w in fast.warnings] == [
        (w.line, w.reason, w.excerpt) for w in slow.warnings
    ]
    assert fast.skipped == slow.skipped


SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(st.lists(record(near=False), min_size=1, max_size=12))
def test_well_formed_blocks_match_regular_reader(records: list[str]) -> None:
    data = canonical_log(records)
    scans_equal(blocks.scan(data, 100, 5), regular.read_block(data, 100, 5))


@SETTINGS
@given(st.lists(record(near=True), min_size=1, max_size=12), st.text(max_size=6))
def test_near_miss_blocks_match_regular_reader(records: list[str], head: str) -> None:
    data = (head.replace("<![LOG[", "") + "".join(records)).encode()
    scans_equal(blocks.scan(data), regular.read_block(data))


@SETTINGS
@given(st.lists(record(near=True, careful=True), min_size=1, max_size=12))
def test_near_miss_logs_match_careful_reader(records: list[str]) -> None:
    same_as_careful("".join(records).encode())


@SETTINGS
@given(st.lists(record(near=False, careful=True), min_size=1, max_size=12))
def test_well_formed_logs_match_careful_reader(records: list[str]) -> None:
    same_as_careful("".join(records).encode())


RECORD = (
    '<![LOG[m "q"]LOG]!><time="13:28:46.510+480" date="01-13-2023" component="c" '
    'context="" type="1" thread="12" file="f.cpp:1">\r\n'
)


def test_canonical_block_is_read_by_the_canonical_reader() -> None:
    found = canonical.scan_canonical((RECORD * 3).encode())
    assert found is not None
    assert found["openers"].tolist() == [0, len(RECORD), 2 * len(RECORD)]
    assert found["columns"]["message"].to_pylist() == ['m "q"'] * 3
    assert found["columns"]["thread"].to_pylist() == [12] * 3


def good(data: str) -> list[int] | None:
    found = canonical.scan_canonical(data.encode())
    return None if found is None else found["good"].tolist()


def test_odd_records_are_left_to_the_regular_reader() -> None:
    odd = RECORD.replace(' context=""', ' context ="" ')
    assert good(RECORD + odd + RECORD) == [0, 2]
    assert good(RECORD + "x" + RECORD) == [1]
    assert good(RECORD[:-3] + "!>\r\n" + RECORD) == [1]
    assert good(RECORD.replace('"c"', '"c!"') + RECORD) == [1]  # '!' in a value
    assert good("no opener here, " * 8) is None


def test_record_cut_at_the_block_end_is_left_to_the_regular_reader() -> None:
    data = RECORD * 2
    for cut in range(len(RECORD) + 1, len(RECORD) + 7):  # '<![LO' ends record 0
        assert good(data[:cut]) == [], cut
    for cut in range(len(RECORD) + 7, len(data) - 2):
        assert good(data[:cut]) == [0], cut
    assert good(data[:-2]) == [0, 1]  # ends with '>': still a whole record
    assert good(RECORD + "<![LOG[") == [0]


GOOD_TIME = st.builds(
    lambda h, m, s, f, sign, b: f"{h:02d}:{m:02d}:{s:02d}.{f:03d}{sign}{b:03d}",
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999),
    st.sampled_from("+-"),
    st.integers(0, 999),
) | st.builds(
    lambda h, m, s, f: f"{h:02d}:{m:02d}:{s:02d}.{f:07d}",
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 9_999_999),
)
GOOD_DATE = st.builds(
    lambda m, d, y, pad: f"{m:02d}-{d:02d}-{y}" if pad else f"{m}-{d}-{y}",
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(1900, 2999),
    st.booleans(),
)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            MESSAGE,
            GOOD_TIME,
            GOOD_DATE,
            VALUE.map(lambda v: v.replace("!", "")),  # '!' there: handed back
            st.sampled_from(["", "0", "3"]),
            st.text(DIGIT, max_size=THREAD_DIGITS),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_good_records_are_read_by_the_canonical_reader(rows: list[tuple]) -> None:
    data = "".join(
        f'<![LOG[{msg.replace("]LOG]!>", "")}]LOG]!><time="{t}" date="{d}" '
        f'component="{v}" context="{v}" type="{typ}" thread="{thr}" file="{v}">\n'
        for msg, t, d, v, typ, thr in rows
    ).encode()
    found = canonical.scan_canonical(data)
    assert found is not None and len(found["good"]) == len(rows)
    scans_equal(blocks.scan(data), regular.read_block(data))


def test_non_ascii_digits_in_type_and_thread_do_not_raise() -> None:
    # '²'.isdigit() is True but int('²') raises: the careful reader reads them as null.
    text = RECORD.replace('type="1"', 'type="²"').replace('thread="12"', 'thread="٣"')
    table = cmtrace.parse(text.encode()).table
    assert table.column("severity").to_pylist() == [None]
    assert table.column("thread").to_pylist() == [None]
    assert table.column("message").to_pylist() == ['m "q"']
