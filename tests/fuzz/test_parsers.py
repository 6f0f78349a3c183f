"""Every parser in PARSERS, on random and mutated bytes, keeps its contract.

The contract (parsers/base.py, checked by `tests.fuzz.targets.check`): no
exception on any input (damage becomes warnings and a skip count), a table of
exactly the parser's schema, derived tables of their declared schemas, and an
answer within the deadline. `make soak` runs the same check through atheris
for 1,000,000 inputs per parser (tests/fuzz/atheris_parsers.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espfleet.parsers import PARSERS
from espfleet.parsers.base import ParseContext
from tests.fuzz import targets

NAMES = [p.name for p in PARSERS]
# Generous: an answer within 10 s on a shared 2-core machine, not a speed goal.
SETTINGS = settings(
    max_examples=120,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@st.composite
def mutated(draw: st.DrawFn, parser_name: str) -> tuple[str, bytes]:
    """A seed of this parser with bytes flipped, cut, spliced or repeated."""
    name, data = draw(st.sampled_from(targets.seeds()[parser_name]))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, len(buf)))
        if op == "flip" and buf:
            buf[min(at, len(buf) - 1)] = draw(st.integers(0, 255))
        elif op == "cut":
            del buf[at : at + draw(st.integers(1, 64))]
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            buf[at:at] = bytes(buf[at : at + draw(st.integers(1, 256))]) * 3
    return name, bytes(buf)


def test_every_parser_has_seeds() -> None:
    assert {n: bool(targets.seeds()[n]) for n in NAMES} == dict.fromkeys(NAMES, True)


@pytest.mark.parametrize("parser_name", NAMES)
@SETTINGS
@given(data=st.binary(max_size=4096), index=st.integers(0, 50))
def test_random_bytes(parser_name: str, data: bytes, index: int) -> None:
    parser = targets.BY_NAME[parser_name]
    targets.check(parser, data, targets.member_name(parser, index))


@pytest.mark.parametrize("parser_name", NAMES)
@SETTINGS
@given(st.data())
def test_mutated_seeds(parser_name: str, data: st.DataObject) -> None:
    parser = targets.BY_NAME[parser_name]
    name, blob = data.draw(mutated(parser_name))
    targets.check(
        parser, blob, name, zone=data.draw(st.sampled_from([None, "Asia/Kolkata"]))
    )


@SETTINGS
@given(st.data())
def test_cmtrace_rollover_pairs(data: st.DataObject) -> None:
    parser = targets.BY_NAME["cmtrace"]
    name, blob = data.draw(mutated("cmtrace"))
    targets.check_pair(parser, blob, data.draw(st.integers(0, 1 << 16)), name)


def test_no_parser_sniffs_or_parses_nothing_into_a_crash() -> None:
    for parser in PARSERS:
        assert targets.check(parser, b"", "x") == 0
        assert parser.parse(b"", ParseContext("x")).table.num_rows == 0
