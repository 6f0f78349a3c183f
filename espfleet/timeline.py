"""One device attempt in a terminal: a header, then the merged timeline.

The compact form fits 100 columns, one line per record: the UTC date once (and
again when it changes), the time of day, minutes since the attempt's ESP
started, the source, what, the outcome and as much of the detail as fits.
A time moved to correct the device clock is marked ``*``; a line marks where
each era of the bundle's clock begins, with its correction. ``--wide`` prints
every column in full instead: corrected UTC, the device clock's UTC, the local
time as written, the correction, the era and the confidence.

Every value is printed as plain text (device strings are never markup): line
breaks and tabs become spaces and every other control character or bidi mark
is spelled out (``\\x1b``, ``\\u202e``, `printing.visible`), so a log line
cannot move the cursor and what is shown is what the bundle holds.
"""

from __future__ import annotations

import re
from datetime import datetime

from .printing import visible

WIDTH = 100
_LINE_BREAK = re.compile("\r\n|[\n\r\t]")
# (title, width) of the compact columns after the time and the minutes.
_COLUMNS = (("source", 22), ("what", 20), ("outcome", 10))
_TIME_W, _MIN_W = 9, 5


def clean(value: object) -> str:
    """A value as one line of plain text, its control characters spelled out."""
    if value is None:
        return ""
    return visible(_LINE_BREAK.sub(" ", str(value)))


def fit(text: str, width: int) -> str:
    """`text` cut to `width` columns with an ellipsis, padded to it."""
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def fit_tail(text: str, width: int) -> str:
    """`text` cut to its last `width` columns (the end of a path says most)."""
    return text if len(text) <= width else "\u2026" + text[-(width - 1) :]


def _source(row: dict) -> str:
    """A short source: a log's file name, a channel as ``Provider/Channel``."""
    source = clean(row.get("source"))
    kind, _, name = source.partition(":")
    if kind == "event":
        provider, _, channel = name.removeprefix("Microsoft-Windows-").partition("/")
        return f"{provider.split('-')[0][:10]}/{channel}" if channel else provider
    if kind in ("log", "setup"):
        return name.rsplit("/", 1)[-1]
    return source


_PROCESS_PREFIX = re.compile(r"^\[[^\]\s]+\.(?:exe|EXE|dll|DLL)\] ")


def _detail(row: dict) -> str:
    """The detail without what the other columns say already."""
    text = clean(row.get("detail")).removeprefix("CommercialOOBE_")
    return _PROCESS_PREFIX.sub("", text)


def _duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = round(abs(seconds) / 60)
    h, m = divmod(minutes, 60)
    return f"{sign}{h} h {m:02d} min" if h else f"{sign}{m} min"


def attempt_header(outcome: dict, attributes: dict | None) -> list[str]:
    """The lines above an attempt's timeline: outcome, diagnosis, device, clock."""
    code = clean(outcome.get("error_code"))
    lines = [
        fit(
            f"attempt {outcome['attempt']} \u00b7 {clean(outcome['device_name'])} "
            f"({clean(outcome['serial_number'])}) \u00b7 {outcome['outcome']} "
            f"{clean(outcome.get('failed_phase'))} {code}".rstrip(),
            WIDTH,
        ),
        fit(f"  {clean(outcome['diagnosis'])}", WIDTH),
    ]
    a = attributes or {}
    device = [
        f"OS {a['os_version']}" if a.get("os_version") else "",
        clean(a.get("edition")),
        clean(a.get("model")),
        f"client {a['client_version']}" if a.get("client_version") else "",
        f"profile {clean(a['autopilot_profile'])}"
        if a.get("autopilot_profile")
        else "",
    ]
    if any(device):
        lines.append(fit("  " + " \u00b7 ".join(d for d in device if d), WIDTH))
    started = outcome.get("started_at")
    zone = clean(a.get("device_zone") or "")
    source = clean(a.get("device_zone_source") or "")
    when = f"ESP started {started:%Y-%m-%d %H:%M:%S} UTC" if started else "no ESP start"
    lines.append(fit(f"  {when} \u00b7 zone {zone or 'unknown'} ({source})", WIDTH))
    return lines


def _era_line(row: dict) -> str:
    offset = row.get("clock_offset_s")
    what = (
        "device clock right"
        if not offset
        else f"times corrected by {_duration(offset)} (device clock "
        f"{_duration(-offset)[1:]} {'fast' if offset < 0 else 'slow'})"
    )
    head = f"  \u2500\u2500 {row['what']} ({clean(row['outcome'])}): {what}"
    return fit(f"{head} \u00b7 {clean(row['detail'])}", WIDTH)


def _time(row: dict) -> str:
    ts: datetime | None = row.get("ts_utc")
    if ts is None:
        local = row.get("ts_local")
        return f"({local:%H:%M})" if local else "--:--:--"
    moved = bool(row.get("clock_offset_s"))
    return f"{ts:%H:%M:%S}" + ("*" if moved else "")


def _minutes(row: dict) -> str:
    value = row.get("minutes_since_start")
    return "" if value is None else f"{value:+.0f}"


def compact(rows: list[dict]) -> list[str]:
    """The timeline in 100 columns, one line per record."""
    title = "  " + "time".ljust(_TIME_W) + " " + "min".rjust(_MIN_W) + " "
    title += " ".join(name.ljust(w) for name, w in _COLUMNS) + " detail"
    lines, day = [], None
    detail_w = WIDTH - len(title) + len(" detail")
    moved = False
    for row in rows:
        ts = row.get("ts_utc")
        if ts is not None and ts.date() != day:
            day = ts.date()
            lines += ["", f"{day:%Y-%m-%d} (UTC)", title]
        elif day is None and not lines:
            lines += ["", "(no UTC time)", title]
        if row["source"] == "clock":
            lines.append(_era_line(row))
            continue
        moved |= bool(row.get("clock_offset_s"))
        (_, source_w), *rest = _COLUMNS
        cells = [_time(row).ljust(_TIME_W), _minutes(row).rjust(_MIN_W)]
        cells.append(fit_tail(_source(row), source_w).ljust(source_w))
        cells += [fit(clean(row.get(name)), w).ljust(w) for name, w in rest]
        cells.append(fit(_detail(row), detail_w))
        lines.append(fit("  " + " ".join(cells), WIDTH).rstrip())
    if moved:
        lines += ["", "  * time corrected for the device clock (raw time: --wide)"]
    return lines


WIDE_COLUMNS = (
    "ts_utc",
    "ts_device_utc",
    "ts_local",
    "clock_offset_s",
    "clock_era",
    "ts_confidence",
    "minutes_since_start",
    "source",
    "seq",
    "what",
    "outcome",
    "detail",
)


def _wide_cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + (
            "Z" if value.tzinfo else ""
        )
    if isinstance(value, float):
        return f"{value:.1f}"
    return clean(value)


def wide(rows: list[dict]) -> list[str]:
    """Every column in full, tab-separated, one line per record."""
    lines = ["\t".join(WIDE_COLUMNS)]
    for row in rows:
        lines.append("\t".join(_wide_cell(row.get(c)) for c in WIDE_COLUMNS))
    return lines
