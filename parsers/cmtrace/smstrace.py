"""The SMS-trace reader: ``message  $$<COMP><stamp><thread=...>`` records.

docs/formats.md §1.5 and §9.2. A record is the text since the end of
the previous marker, then a ``$$<`` marker. Stamp generations:

* modern ConfigMgr server: ``<MM-DD-YYYY HH:MM:SS.fff+BIAS>`` (2- or 3-digit bias)
  and ``<thread=N (0xHEX)>`` -> format ``sms_trace``;
* SMS 2.0: ``<Tue May 16 13:17:10.804 2000>`` optionally followed by a Windows
  zone name (``Eastern Daylight Time``) -> ``sms_trace_legacy``;
* SMS 1.x: ``<Mon Dec 04 15:41:45 1995~>`` with a hex-only thread (``thread=E0``);
* component-only markers (``$$<CliEx32.dll>``), no time, no thread.

Marker pieces may be wrapped across lines (KB copies), so whitespace inside the
stamp is normalised. These files are small site-server logs; a per-record regex
is fine here (the column readers are for CCM records).
"""

from __future__ import annotations

import re

import pyarrow as pa

from .. import timezones
from ..base import ParseWarning
from ..columns import fits
from .grammar import BIAS_DIGITS, FRACTION_DIGITS
from .records import Rows
from .timestamps import frac_to_us, local_us
from .zones import zone_bias

# Component: anything but angle brackets / newlines; the closing '>' is optional
# because a KB copy shows `$$<CCIM32<Tue Jun ...`. Time must start with a digit or
# a day name so a message beginning with '<' is not swallowed.
MARKER = re.compile(
    r"\$\$<(?P<comp>[^<>\r\n]*)>?"
    r"(?:\s*<(?P<time>(?:\d|[A-Z][a-z]{2}\s)[^<>]{0,120})>)?"
    r"(?:\s*<thread=(?P<thr>[^>]{0,60})>)?"
)
_FRACTION = rf"(?:\.(\d{{1,{FRACTION_DIGITS}}}))?"
MODERN = re.compile(
    r"(\d{1,2})-(\d{1,2})-(\d{4}) (\d{1,2}):(\d{2}):(\d{2})"
    rf"{_FRACTION}([+-]\d{{1,{BIAS_DIGITS}}})?",
    re.ASCII,
)
CTIME = re.compile(
    r"(?:[A-Z][a-z]{2}) ([A-Z][a-z]{2}) (\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})"
    rf"{_FRACTION} (\d{{4}})~?(?: (.+))?",
    re.ASCII,
)
THREAD_DEC = re.compile(r"(\d+)\s*\(0x[0-9A-Fa-f]+\)\s*", re.ASCII)
THREAD_HEX = re.compile(r"([0-9A-Fa-f]+)\s*")
MONTHS = {
    m: i + 1
    for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())
}


def _stamp(raw: str) -> tuple[str, int | None, int | None, list[str]]:
    """A stamp -> (format, local microseconds, bias, problems)."""
    text = " ".join(raw.replace("~", " ").split())
    m = MODERN.fullmatch(text)
    if m:
        mo, d, y, h, mi, s, frac, bias = m.groups()
        value = local_us(
            int(y), int(mo), int(d), int(h), int(mi), int(s), frac_to_us(frac)
        )
        bias_min = int(bias) if bias else None
        return "sms_trace", value, bias_min, [] if value is not None else ["bad stamp"]
    m = CTIME.fullmatch(text)
    if not m:
        return "sms_trace_legacy", None, None, ["unrecognised stamp"]
    mon, d, h, mi, s, frac, y, zone_name = m.groups()
    value = local_us(
        int(y), MONTHS.get(mon, 0), int(d), int(h), int(mi), int(s), frac_to_us(frac)
    )
    if value is None:
        return "sms_trace_legacy", None, None, ["bad stamp"]
    if not zone_name:
        return "sms_trace_legacy", value, None, []
    # A Windows zone name: "Eastern Daylight Time" is the summer half of the
    # "Eastern Standard Time" key; the word says which offset was in force.
    daylight = "Daylight" in zone_name
    key = zone_name.replace("Daylight", "Standard")
    iana = timezones.windows_to_iana(key)
    if iana is None:
        return "sms_trace_legacy", value, None, [f"unknown zone name {zone_name!r}"]
    return "sms_trace_legacy", value, zone_bias(iana, value, daylight), []


def _thread(raw: str | None) -> int | None:
    """The thread id, or None (a "bad thread" warning) when unreadable or too big."""
    if raw is None:
        return None
    raw = " ".join(raw.split())
    if m := THREAD_DEC.fullmatch(raw):
        value = int(m.group(1))
    elif m := THREAD_HEX.fullmatch(raw):  # SMS 1.x: hex only, no 0x (thread=E0)
        value = int(m.group(1), 16)
    else:
        return None
    return fits(value, pa.int64())


def _clean(message: str) -> str:
    """Drop the separating line break, the `~`/`~~` tail and padding spaces."""
    message = message.lstrip("\r\n")
    return message.rstrip().rstrip("~").rstrip()


def parse_text(text: str, rows: Rows, warnings: list[ParseWarning]) -> int:
    """Append every SMS-trace record in `text` to `rows`.

    Args:
        text: decoded log text (a stitched rollover set is fine).
        rows: receives one entry per marker; ``offset`` is a character offset.
        warnings: receives problems (bad stamps, trailing text).

    Returns:
        Units skipped (an unterminated trailing message).
    """
    pos = 0
    line = 1
    n = 0
    for m in MARKER.finditer(text):
        start = pos
        while start < m.start() and text[start] in "\r\n":
            start += 1
        line += text.count("\n", pos, start)
        fmt, value, bias = "sms_trace_legacy", None, None
        problems: list[str] = []
        if m.group("time") is not None:
            fmt, value, bias, problems = _stamp(m.group("time"))
        for problem in problems:
            warnings.append(ParseWarning.at(line, problem, m.group(0)))
        thread = _thread(m.group("thr"))
        if m.group("thr") is not None and thread is None:
            warnings.append(ParseWarning.at(line, "bad thread", m.group(0)))
        rows.add(
            key=(0, n),
            offset=start,
            line=line,
            fmt=fmt,
            local=value,
            bias=bias,
            component=" ".join(m.group("comp").split()),
            context=None,
            severity=None,
            thread=thread,
            file=None,
            message=_clean(text[start : m.start()]),
        )
        n += 1
        line += text.count("\n", start, m.end())
        pos = m.end()
    tail = text[pos:]
    if tail.strip(" \t\r\n\x00"):
        line += tail.count("\n", 0, len(tail) - len(tail.lstrip("\r\n")))
        warnings.append(
            ParseWarning.at(line, "text after the last $$< marker", tail.strip())
        )
        return 1
    return 0
