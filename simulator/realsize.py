"""Real-size bundles: the scenario's members grown to what real CABs hold.

``espfleet simulate --size real`` passes every bundle's members through
`real_cab_members` and its loose logs through `real_loose_logs`. The evidence the
scenario wrote stays as it is (same records, same record ids and line numbers
for everything the ground truth names); what is added is filler no deriver
reads as evidence: the other event channels of the 2024 collection, ETL
traces, the IME log set, the HTML report, registry keys, report XML and
ConfigMgr log lines (docs/formats.md §5.4, `real_cab` for the sizes).

Deterministic: everything comes from the generator passed in, which the fleet
seeds per bundle; a small bundle never calls this module.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

from . import filler_files as ff
from .filler_events import Window, channel_file, extend, last_record_time
from .real_cab import CHANNELS, FAMILIES, Family, draw_count, draw_size, family
from .scenarios import Plan

IME = "IntuneManagementExtension.log"
# Real ConfigMgr logs beside the CAB: [S-JIMBO] ccmsetup.log, [S-MAXMOON] and
# [S-ERNESTO] smsts.log (docs/formats.md §5.4).
LOOSE: dict[str, Family] = {
    "ccmsetup.log": Family("cmtrace", ((49577,), (), ())),
    "smsts.log": Family("cmtrace", ((180960,), (1669398,), ())),
}
_SIDECAR = (
    ("AgentExecutor.log", "AgentExecutor"),
    ("AppActionProcessor.log", "AppActionProcessor"),
    ("ClientCertCheck.log", "ClientCertCheck"),
    ("ClientHealth.log", "ClientHealth"),
    ("DeviceHealthMonitoring.log", "DeviceHealthMonitoring"),
    ("HealthScripts.log", "HealthScripts"),
    ("Sensor.log", "Sensor"),
    ("Win32AppInventory.log", "Win32AppInventory"),
)
_RECORD = re.compile(rb"<!\[LOG\[")
_CCMSETUP_MESSAGES = (
    "Params to send '{w}'",
    "Enumerating {w} settings",
    "Retrieved {n} entries from {w}",
    "Sending message to the {w} endpoint",
    "Checking the {w} cache for {h}",
)
_SMSTS_MESSAGES = (
    "Expand a string: %SystemRoot%\\system32\\{w}",
    "Set a local default variable {w}Path",
    "Environment scope successfully created: Global\\{{{h}}}",
    'Getting namespace "{w}" for Package "{h}"',
    "Read {n} entries from the {w} environment",
)


def _size(name: str, rng: random.Random) -> int:
    return draw_size(FAMILIES[family(name)], rng)


def _window(plan: Plan) -> Window:
    """Filler time: hours before the ESP, or only after it for a clock case."""
    end = plan.collected_at - timedelta(seconds=1)
    start = plan.started_at - timedelta(hours=0 if plan.clock.case else 6)
    return Window(start, end)


def _channels(plan: Plan, have: dict[str, bytes], rng: random.Random) -> dict:
    out = {}
    for stem, channel in CHANNELS.items():
        name = f"microsoft-windows-{stem}.evtx"
        if name in have:
            last = last_record_time(have[name]) or plan.started_at
            window = Window(max(last, plan.started_at), plan.collected_at)
            out[name] = extend(have[name], stem, channel, window, plan.device_name, rng)
        else:
            window = _window(plan)
            out[name] = channel_file(stem, channel, window, plan.device_name, rng)
    return out


def _etl_names(plan: Plan, rng: random.Random) -> list[tuple[str, str]]:
    """(member name, family) of every ETL trace, dated before the collection."""
    names = []
    oobe = FAMILIES["cloudexperiencehostoobe.etl.#"]
    first = rng.randint(1, 7)
    names += [
        (
            f"CloudExperienceHostOobe.etl.{first + n:03d}",
            "cloudexperiencehostoobe.etl.#",
        )
        for n in range(draw_count(oobe, rng))
    ]
    for area in ("Autopilot", "DeviceEnrollment", "DeviceProvisioning"):
        key = f"diagnosticlogcsp_collector_{area.lower()}_#_#_#_#_#_#.etl"
        for n in range(draw_count(FAMILIES[key], rng)):
            at = plan.local(plan.collected_at - timedelta(hours=6 * n + 1))
            stamp = f"{at.year}_{at.month}_{at.day}_{at.hour}_{at.minute}_{at.second}"
            names.append((f"DiagnosticLogCSP_Collector_{area}_{stamp}.etl", key))
    names.append(("Wifi.etl", "wifi.etl"))
    return names


def _etls(plan: Plan, rng: random.Random) -> dict[str, bytes]:
    out = {}
    for name, key in _etl_names(plan, rng):
        size = draw_size(FAMILIES[key], rng)
        out[name] = ff.etl_trace(max(ff.BUFFER, size // ff.BUFFER * ff.BUFFER), rng)
    return out


def _ordered_stamps(log: bytes, count: int, rng: random.Random) -> list[bytes]:
    found = ff.stamps(log)
    return [found[i] for i in sorted(rng.choices(range(len(found)), k=count))]


def _ime_set(plan: Plan, ime: bytes, rng: random.Random) -> dict[str, bytes]:
    """The IME log grown, its dated rollover, and the sidecar agents' logs."""
    found = ff.stamps(ime)
    out = {
        IME: ime
        + ff.cmtrace_lines(
            found[-1], "IntuneManagementExtension", _size(IME, rng) - len(ime), rng
        )
    }
    if not plan.clock.case:  # a rollover would renumber the lines the truth names
        at = plan.local(plan.started_at)
        name = f"IntuneManagementExtension-{at:%Y%m%d-%H%M%S}.log"
        out[name] = ff.cmtrace_lines(
            found[0], "IntuneManagementExtension", _size(name, rng), rng
        )
    for name, component in _SIDECAR:
        size = _size(name, rng)
        parts = [
            ff.cmtrace_lines(stamp, component, size // 16, rng)
            for stamp in _ordered_stamps(ime, 16, rng)
        ]
        out[name] = b"".join(parts)
    return out


def _documents(plan: Plan, have: dict[str, bytes], rng: random.Random) -> dict:
    reg = "MdmDiagReport_RegistryDump.reg"
    xml = "MDMDiagReport.xml"
    html = "MDMDiagHTMLReport.html"
    tpm, uefi = ff.tpm_uefi(plan.collected_at)
    grow = _size(reg, rng) - len(have[reg])
    return {
        reg: have[reg] + ff.registry_filler(grow, rng),
        xml: ff.report_xml(have[xml], _size(xml, rng), rng),
        html: ff.html_report(plan.device_name, _size(html, rng), rng),
        "setupact.log": have["setupact.log"]
        + ff.setupact_lines(
            have["setupact.log"],
            _size("setupact.log", rng) - len(have["setupact.log"]),
            rng,
        ),
        "TpmHliInfo_Output.txt": tpm,
        "UEFI_Data_Output.txt": uefi,
    }


def _footprint(evidence: bytes, names: list[str]) -> bytes:
    """The collector's footprint with a ``Copied file:`` line per added member."""
    lines = [
        f"Copied file:c:\\windows\\systemtemp\\{n}, to:C:\\ProgramData\\Microsoft"
        f"\\MdmDiagnostics\\{n}"
        for n in names
    ]
    return evidence + ("\r\n".join(lines) + "\r\n").encode("ascii")


def real_cab_members(
    plan: Plan, members: list[tuple[str, bytes]], rng: random.Random
) -> list[tuple[str, bytes]]:
    """A CAB's members at real size and member set, in the listing's order."""
    have = dict(members)
    grown = dict(have)
    grown.update(_channels(plan, have, rng))
    grown.update(_etls(plan, rng))
    grown.update(_ime_set(plan, have[IME], rng))
    grown.update(_documents(plan, have, rng))
    foot = "MdmLogCollectorFootPrint.txt"
    added = sorted(n for n in grown if n not in have)
    grown[foot] = _footprint(have[foot], added)
    return sorted(grown.items(), key=lambda item: item[0].lower())


def _interleave(
    log: bytes,
    component: str,
    size: int,
    templates: tuple[str, ...],
    rng: random.Random,
) -> bytes:
    """`log` with filler records of about `size` bytes spread between its records.

    Each filler record carries the time of the record before it, so times stay
    in order and every record of the scenario keeps its place relative to the
    others.
    """
    starts = [m.start() for m in _RECORD.finditer(log)]
    if len(starts) < 2 or size <= 0:
        return log
    found = ff.stamps(log)
    each = size // (len(starts) - 1)
    parts = [log[: starts[1]]]
    for n in range(1, len(starts)):
        end = starts[n + 1] if n + 1 < len(starts) else len(log)
        parts.append(ff.cmtrace_lines(found[n - 1], component, each, rng, templates))
        parts.append(log[starts[n] : end])
    return b"".join(parts)


def real_loose_logs(
    plan: Plan, logs: list[tuple[str, bytes]], rng: random.Random
) -> list[tuple[str, bytes]]:
    """ccmsetup.log and smsts.log of real length (other logs as they are)."""
    out = []
    for name, data in logs:
        if name in LOOSE and data:
            grow = draw_size(LOOSE[name], rng) - len(data)
            if name == "ccmsetup.log":
                data = _interleave(data, "ccmsetup", grow, _CCMSETUP_MESSAGES, rng)
            else:
                data = _interleave(data, "TSManager", grow, _SMSTS_MESSAGES, rng)
        out.append((name, data))
    return out
