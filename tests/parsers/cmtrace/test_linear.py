"""Inputs that hang a quadratic CMTrace parser must finish (issue 3, item 4).

Each case runs in a subprocess with a generous timeout: a backtracking regex or a
rescan-per-opener loop takes minutes to hours on these, a linear scan seconds.
No speed is asserted (bench/bench_cmtrace.py measures speed).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

REC = (
    '<![LOG[m]LOG]!><time="13:28:46.510+480" date="01-13-2023" component="c" '
    'context="" type="1" thread="1" file="f.cpp:1">\\r\\n'
)
CASES = {
    "one 1 MB message": f"b'<![LOG[' + b'] <x \"q\" [' * 100_000 + b'{REC[7:]}'",
    "10 MB of openers, no terminator": "b'<![LOG[' * 1_500_000",
    "one opener, 2 MB of closers": "b'<![LOG[' + b']LOG]!>' * 300_000",
    "100k head-truncated fragments": f"b'{REC}' + b'{REC[7:]}' * 100_000",
    "a million records": f"b'{REC}' * 1_000_000",
    "SMS trace, 1 MB message": "b'x' * 1_000_000 + b'  $$<C><01-02-2024 10:00:00.000+0>'",
    "SMS trace, 10 MB without a marker end": "b'$$<' + b'a' * 10_000_000",
}
SCRIPT = """
from espfleet.parsers import cmtrace
data = {expr}
result = cmtrace.parse(data)
print(result.table.num_rows, result.skipped)
"""


@pytest.mark.parametrize("case", list(CASES))
def test_finishes_in_linear_time(case: str) -> None:
    code = SCRIPT.format(expr=CASES[case])
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows, _skipped = map(int, done.stdout.split())
    expected = {
        "a million records": 1_000_000,
        "100k head-truncated fragments": 100_001,
    }
    assert rows == expected.get(case, rows)
