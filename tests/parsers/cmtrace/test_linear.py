"""Inputs that hang a quadratic CMTrace parser must finish (issue 3, item 4).

Each case runs in a subprocess with a generous timeout: a backtracking regex or a
rescan-per-opener loop takes minutes to hours on these, a linear scan seconds.
No speed is asserted (bench/bench_cmtrace.py measures speed); the record and
skipped counts are.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

REC = (
    '<![LOG[m]LOG]!><time="13:28:46.510+480" date="01-13-2023" component="c" '
    'context="" type="1" thread="1" file="f.cpp:1">\\r\\n'
)
# case -> (input expression, rows, skipped), the counts worked out by hand:
CASES = {
    # one opener, one closer: one record whose message is the 1 MB run + "m"
    "one 1 MB message": (
        f"b'<![LOG[' + b'] <x \"q\" [' * 100_000 + b'{REC[7:]}'",
        1,
        0,
    ),
    # 1.5M empty chunks: 20 consecutive failures stop the file; the openers
    # after the 20th are counted as skipped: 1_500_000 - 20
    "10 MB of openers, no terminator": ("b'<![LOG[' * 1_500_000", 0, 1_499_980),
    # one chunk; each closer is followed by a closer, not an attribute block:
    # 20 broken attribute blocks in a row end the chunk
    "one opener, 2 MB of closers": ("b'<![LOG[' + b']LOG]!>' * 300_000", 0, 20),
    # the whole record, then 100k tails without an opener, each kept
    "100k head-truncated fragments": (f"b'{REC}' + b'{REC[7:]}' * 100_000", 100_001, 0),
    "a million records": (f"b'{REC}' * 1_000_000", 1_000_000, 0),
    # one marker: the 1 MB of text before it is its message
    "SMS trace, 1 MB message": (
        "b'x' * 1_000_000 + b'  $$<C><01-02-2024 10:00:00.000+0>'",
        1,
        0,
    ),
    # the marker's component runs to the end (its '>' is optional): one record
    # with an empty message, nothing after it
    "SMS trace, 10 MB without a marker end": ("b'$$<' + b'a' * 10_000_000", 1, 0),
}
SCRIPT = """
from espfleet.parsers import cmtrace
data = {expr}
result = cmtrace.parse(data)
print(result.table.num_rows, result.skipped)
"""


@pytest.mark.parametrize("case", list(CASES))
def test_finishes_in_linear_time(case: str) -> None:
    expr, rows, skipped = CASES[case]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(expr=expr)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert tuple(map(int, done.stdout.split())) == (rows, skipped)
