"""parsers/cmtrace/grammar.py: the UTC rule and the limits, as every reader sees them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from espfleet.parsers import cmtrace
from espfleet.parsers.cmtrace.grammar import MAX_BIAS_MIN, THREAD_DIGITS, to_utc

EPOCH = datetime(1970, 1, 1)
LINE = (
    '<![LOG[m]LOG]!><time="{time}" date="01-13-2023" component="c" context="" '
    'type="1" thread="{thread}" file="f">\r\n'
)


def us(*args: int) -> int:
    """Microseconds since 1970 of a naive date and time."""
    return (datetime(*args) - EPOCH) // datetime.resolution


def test_to_utc_adds_the_bias_windows_sign() -> None:
    # +480 is UTC-8: 13:28:46.510 local is 21:28:46.510Z; -330 is UTC+5:30.
    local = np.array([us(2023, 1, 13, 13, 28, 46, 510000), us(2014, 11, 28, 19, 33)])
    got = to_utc(local, np.array([480, -330]))
    assert got.tolist() == [
        us(2023, 1, 13, 21, 28, 46, 510000),
        us(2014, 11, 28, 14, 3),
    ]


def test_to_utc_keeps_a_zone_offset_of_odd_seconds_exact() -> None:
    # Amsterdam's +00:19:32 (until 1937) is a bias of -1172 s: 12:00 -> 11:40:28Z.
    got = to_utc(np.array([us(1930, 6, 1, 12)]), np.array([-1172 / 60]))
    assert got.tolist() == [us(1930, 6, 1, 11, 40, 28)]


def rows(time: str, thread: str = "1", repeat: int = 3) -> list[dict]:
    data = LINE.format(time=time, thread=thread).encode() * repeat
    return cmtrace.parse(data).table.to_pylist()


def test_bias_of_one_day_is_kept_and_more_is_not_a_bias() -> None:
    assert MAX_BIAS_MIN == 1440
    (kept,) = {(r["tz_bias_min"], r["ts_utc"]) for r in rows("13:28:46.510+1440")}
    assert kept == (1440, datetime(2023, 1, 14, 13, 28, 46, 510000, tzinfo=UTC))
    for row in rows("13:28:46.510-1441"):
        assert (row["tz_bias_min"], row["ts_utc"], row["ts_confidence"]) == (
            None,
            None,
            "unknown",
        )
        assert row["ts_local"] == datetime(2023, 1, 13, 13, 28, 46, 510000)


def test_thread_of_the_most_digits_is_read() -> None:
    longest = "9" * THREAD_DIGITS
    assert [r["thread"] for r in rows("13:28:46.510+480", longest)] == [
        int(longest)
    ] * 3
