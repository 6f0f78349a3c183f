"""The CCM record layout, the limits every reader applies, and the one UTC rule.

docs/formats.md §1.1 (grammar) and §1.2 (bias). A canonical record is
``<![LOG[message]LOG]!><time="HH:MM:SS.fff+BIAS" date="MM-DD-YYYY" component=""
context="" type="N" thread="N" file="">``: the opener, the message, the closer,
then the seven attributes, quoted, in `ATTRIBUTES` order, one space apart. Every
reader (the canonical-record reader, the regular-record reader, the careful
reader, SMS trace) takes its layout and limits from here, and every UTC instant
in this package is computed by `to_utc`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OPENER = "<![LOG["
# Only this token ends a message: messages may hold ']', '<', quotes, CR and LF.
CLOSER = "]LOG]!>"
ATTRIBUTES = ("time", "date", "component", "context", "type", "thread", "file")
# The closer with the first attribute's opening: ``]LOG]!><time="``.
CLOSER_TIME = f'{CLOSER}<{ATTRIBUTES[0]}="'
# Between value k and value k + 1 of a canonical record: ``" date="`` and so on.
SEPARATORS = tuple(f'" {name}="' for name in ATTRIBUTES[1:])

# |bias| above one day is no bias: the record keeps its local time only.
MAX_BIAS_MIN = 1440
BIAS_DIGITS = 4  # ``+1440``
FRACTION_DIGITS = 9  # 3 (ConfigMgr), 7 (.NET 100 ns ticks); kept to the microsecond
# Thread ids of more digits may overflow int64: the thread is left null.
THREAD_DIGITS = 18
# `type` values of more digits are left null (canonical records hold 0 or 1).
TYPE_DIGITS = 2
# Years the column readers convert; other years go to the careful reader.
YEAR_MIN, YEAR_MAX = 1900, 2999

US_PER_MIN = 60_000_000


def bias_in_range(bias: Any) -> Any:
    """Whether a written bias is a bias at all (at most `MAX_BIAS_MIN` either way).

    Args:
        bias: minutes, an int or an int array.

    Returns:
        A bool, or a bool array.
    """
    return abs(bias) <= MAX_BIAS_MIN


def clock_in_range(hour: Any, minute: Any, second: Any) -> Any:
    """Whether hour, minute and second name a time of day (second 60: a leap second).

    Args:
        hour, minute, second: ints or int arrays.

    Returns:
        A bool, or a bool array.
    """
    return (hour <= 23) & (minute <= 59) & (second <= 60)


def to_utc(local_us: np.ndarray, bias_minutes: np.ndarray) -> np.ndarray:
    """UTC instants of local times: UTC = local + bias minutes (the Windows sign).

    ``+480`` is UTC-8 (US Pacific standard time): 13:28:46.510+480 is
    21:28:46.510Z; ``-330`` is UTC+5:30. The bias is the one in force when the
    record was written, so it may change inside a file.

    Args:
        local_us: naive local microseconds since 1970 (int64 array).
        bias_minutes: the bias of each row in minutes (int array), or float
            minutes for a zone whose offset is not whole minutes.

    Returns:
        UTC microseconds since 1970 (int64 array).
    """
    bias_us = np.multiply(bias_minutes, US_PER_MIN)
    if bias_us.dtype.kind == "f":  # whole microseconds: the offset is whole seconds
        bias_us = np.rint(bias_us).astype(np.int64)
    return local_us + bias_us
