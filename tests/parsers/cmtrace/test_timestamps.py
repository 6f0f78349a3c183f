"""parsers/cmtrace/timestamps.py: the column reader (`convert_time`) agrees with
the careful reader's `parse_ccm_time` on every input it accepts, and accepts
every well-formed one."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from espfleet.parsers.cmtrace.careful import parse_ccm_time
from espfleet.parsers.cmtrace.timestamps import convert_time

D = "[0-9]"
GOOD_TIME = st.from_regex(
    rf"\A[0-2]?{D}:[0-5]{D}:[0-5]{D}(\.{D}{{1,9}})?([+-]{D}{{1,4}})?\Z"
)
# The two layouts read from fixed columns (ConfigMgr native, .NET/IME).
FIXED_TIME = st.from_regex(
    rf"\A[0-2]{D}:[0-5]{D}:[0-5]{D}\.({D}{{3}}[+-]{D}{{3}}|{D}{{7}})\Z"
)
GOOD_TIME = GOOD_TIME | FIXED_TIME
GOOD_DATE = st.from_regex(rf"\A(0?[1-9]|1[0-2])-(0?[1-9]|1{D}|2[0-8])-(19|20){D}{D}\Z")
NOISE = st.text(alphabet="0123456789:.+- é\t", max_size=26)


def fast(times: list[str], dates: list[str]) -> list[tuple[int | None, int | None]]:
    out = convert_time(pa.array(times), pa.array(dates))
    return [
        (None, None) if bad else (int(loc), int(b) if has else None)
        for loc, b, has, bad in zip(
            out["local_us"], out["bias"], out["has_bias"], out["bad"], strict=True
        )
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(GOOD_TIME | NOISE, GOOD_DATE | NOISE), min_size=1, max_size=20)
)
def test_accepted_rows_match_reference(pairs: list[tuple[str, str]]) -> None:
    times, dates = map(list, zip(*pairs, strict=True))
    for (t, d), got in zip(pairs, fast(times, dates), strict=True):
        if got != (None, None):
            assert got == parse_ccm_time(t, d), (t, d)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(GOOD_TIME, GOOD_DATE), min_size=1, max_size=20))
def test_well_formed_rows_are_accepted(pairs: list[tuple[str, str]]) -> None:
    times, dates = map(list, zip(*pairs, strict=True))
    for (t, d), got in zip(pairs, fast(times, dates), strict=True):
        ref = parse_ccm_time(t, d)
        bias = re.search(r"[+-][0-9]+$", t)
        if int(t.split(":")[0]) <= 23 and (not bias or abs(int(bias[0])) <= 1440):
            assert got == ref, (t, d)


def test_examples() -> None:
    got = fast(
        ["13:28:46.510+480", "7:05:09.1-60", "10:22:50.8422964", "1:02:03+00"],
        ["01-13-2023", "1-2-2015", "1-2-2015", "12-31-1999"],
    )
    assert [b for _, b in got] == [480, -60, None, 0]
    assert got[2][0] % 1_000_000 == 842296
    assert np.all([loc is not None for loc, _ in got])
