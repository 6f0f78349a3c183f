"""setupact.log of a simulated attempt: the OOBE witness in device local time.

Lines follow the layout of docs/formats.md §10.1 (level field 22 columns,
component field 7): windeploy's launch block, a servicing block of CSI lines
(two with the device clock's UTC stamp, one without), msoobe committing the
time and date plugin with ``Set time zone to [<zone>]`` (or, with no zone
source, ``Skipping commit time zone``), a warning, CloudExperienceHostBroker's
``Successfully set timezone (<zone>) from OOBE.xml file`` and its keyboard
commits just before the ESP. Every local time is what the device showed
(`Plan.local`: its clock, in the zone then in force); UTF-8 with a BOM, CRLF.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .scenarios import Plan

MEMBER = "setupact.log"
_BOM = b"\xef\xbb\xbf"


def _line(plan: Plan, at: datetime, level: str, component: str, message: str) -> str:
    local = plan.local(at)
    return f"{local:%Y-%m-%d %H:%M:%S}, {level:<22}{component:<7}{message}"


def _csi(plan: Plan, at: datetime, seq: int, message: str, stamped: bool) -> str:
    stamp = ""
    if stamped:
        utc = plan.reads(at)
        stamp = (
            f"@{utc.year}/{utc.month}/{utc.day}:{utc:%H:%M:%S}."
            f"{utc.microsecond // 1000:03d}"
        )
    return _line(plan, at, "Info", "CSI", f"{seq:08x}{stamp} {message}")


def _zone_lines(plan: Plan, rng: random.Random, at: datetime) -> list[tuple]:
    """msoobe's TimeDate plugin commit: the zone line, or none to set."""
    zone = plan.tz_name
    changed = plan.clock.zone_changed_at
    if changed is not None:
        at = changed - timedelta(seconds=rng.uniform(0.3, 0.9))
    running = (
        at,
        "Info",
        "",
        "[msoobe.exe] COMMIT: running for plugin TimeDate Plugin",
    )
    if plan.clock.case == "no_zone_source":
        skip = "[msoobe.exe] Skipping commit time zone - no pending time zone to set."
        return [running, (at + timedelta(seconds=0.2), "Info", "", skip)]
    set_at = changed if changed is not None else at + timedelta(seconds=0.1)
    done = set_at + timedelta(seconds=rng.uniform(0.1, 0.5))
    return [
        running,
        (set_at, "Info", "", f"[msoobe.exe] Set time zone to [{zone}]"),
        (done, "Info", "", "[msoobe.exe] COMMIT: succeeded for plugin TimeDate Plugin"),
    ]


def setupact_log(plan: Plan, rng: random.Random) -> bytes:
    """The attempt's setupact.log; notes each line's true UTC on the plan's clock."""
    t0 = plan.started_at - timedelta(minutes=rng.uniform(45, 55))
    step = lambda lo, hi: timedelta(seconds=rng.uniform(lo, hi))  # noqa: E731
    wd = "[windeploy.exe] "
    items: list[tuple] = [
        (t0, "Info", "", wd + "-" * 48),
        (t0, "Info", "", wd + "WinDeploy.exe launched with command-line []..."),
        (
            t0 + step(0, 1),
            "Info",
            "",
            wd + "Waiting for essential OOBE services to start...",
        ),
        (
            t0 + step(1, 2),
            "Info",
            "",
            wd + "Essential OOBE services started successfully.",
        ),
        (t0 + step(2, 4), "Info", "", wd + "Windeploy: Running default setup."),
    ]
    csi_at = t0 + step(30, 60)
    items += [
        ("csi", csi_at, 1, "WcpInitialize (wcp.dll version 0.0.0.6) called", True),
        (
            "csi",
            csi_at,
            2,
            'Creating NT transaction (seq 1), objectname [6]"(null)"',
            False,
        ),
        ("csi", csi_at + step(0.1, 1), 3, "CSI perf trace:", True),
    ]
    msoobe_at = t0 + step(180, 360)
    items.append(
        (msoobe_at, "Warning", "", "[msoobe.exe] RegOpenKeyEx(GP) failed: 0x2")
    )
    items += _zone_lines(plan, rng, msoobe_at + step(1, 5))
    if plan.clock.zone_changed_at is not None:
        after = plan.clock.zone_changed_at + step(60, 120)
        items.append(("csi", after, 4, "Performing 1 operations as follows:", True))
    broker = "[CloudExperienceHostBroker.exe] "
    late = plan.started_at - step(300, 600)
    if plan.clock.case != "no_zone_source":
        set_from = f"Successfully set timezone ({plan.tz_name}) from OOBE.xml file"
        items.append((late, "Info", "", broker + set_from))
    end = plan.started_at - step(20, 90)
    items += [
        (end, "Info", "", broker + "CommitKeyboards, primary input language 0409"),
        (end + step(0, 1), "Info", "", broker + "CommitKeyboards, layout 00000409"),
    ]
    items.sort(key=lambda i: i[1] if i[0] == "csi" else i[0])
    lines = []
    for no, item in enumerate(items, 1):
        # each line's instant at the resolution it is written with
        if item[0] == "csi":
            _kind, at, seq, message, stamped = item
            at = at.replace(microsecond=at.microsecond // 1000 * 1000 if stamped else 0)
            lines.append(_csi(plan, at, seq, message, stamped))
        else:
            at, level, component, message = item
            at = at.replace(microsecond=0)
            lines.append(_line(plan, at, level, component, message))
        plan.clock.note(MEMBER, no, at)
    return _BOM + ("\r\n".join(lines) + "\r\n").encode("utf-8")
