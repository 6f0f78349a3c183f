"""The fleet simulator: a share of realistic diagnostic bundles + ground_truth.csv.

``simulate(devices, seed, out)`` writes, under ``out``:

- ``<site>/<DEVICENAME>_<yyyymmdd-HHMMSS>/`` (local collection time): the MDM
  diagnostics CAB (``mdmlogs-YYYY-MM-DD-HH-MM-SS.cab``, ``autopilot-logs.cab`` or
  ``MDMDiagReport.cab``) and the loose ConfigMgr logs (``ccmsetup.log``, maybe
  ``ccmsetup.lo_``, ``client.msi.log``, ``smsts.log``);
- ``<site>/drop/``: lone CABs (``MDMDiagReport-<yyyymmdd>-<NAME>.cab``) and Intune
  "Collect diagnostics" ZIPs (``DiagLogs-<NAME>-YYYYMMDDTHHMMSSZ.zip``), each its
  own bundle;
- ``ground_truth.csv``: one row per attempt, and ``record_times.csv``: the true
  UTC of each record of the bundles with a clock case (docs/scenarios.md,
  `truth`).

Everything derives from ``random.Random`` instances seeded with strings, so the
same seed gives the same bytes (no wall clock, no hash-seed dependence).
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

from . import (
    agentlogs,
    cab,
    cabfiles,
    clocks,
    cmlogs,
    realsize,
    registry_dump,
    scenarios,
)
from .catalog import MSI_SHARE
from .channels import (
    AUTOPILOT_EVTX,
    DMEDP_EVTX,
    SHELLCORE_EVTX,
    autopilot_evtx,
    dmedp_evtx,
    shellcore_evtx,
)
from .devices import new_device
from .scenarios import CAUSES, LONE_CAB_OK, WEIGHTS, Plan
from .setuplog import setupact_log
from .truth import COLUMNS, TIMES_COLUMNS, times_rows, truth_rows, write_csv

SIZES = ("small", "real")


def _pick(
    rng: random.Random, pool: list[Plan], share: float, minimum: int
) -> list[Plan]:
    n = min(len(pool), max(minimum, round(len(pool) * share)))
    return rng.sample(pool, n)


def plan_fleet(devices: int, seed: int) -> list[Plan]:
    """Every bundle's plan: scenario mix, retries, damage and layouts.

    Args:
        devices: number of distinct devices (retries add bundles).
        seed: the fleet seed.

    Returns:
        Plans in bundle order (a retry follows its first attempt).
    """
    master = random.Random(f"espfleet-fleet:{seed}")
    plans = [new_device_plan(seed, i) for i in range(devices)]
    if devices >= len(CAUSES):
        mix = list(CAUSES) + master.choices(CAUSES, WEIGHTS, k=devices - len(CAUSES))
        master.shuffle(mix)
    else:
        mix = master.choices(CAUSES, WEIGHTS, k=devices)
    for plan, sc in zip(plans, mix, strict=True):
        plan.scenario = sc
        if sc == "win32_app_failed" and msi_instead(seed, plan.index):
            plan.scenario = "msi_app_failed"
    big = devices >= 10
    ok = [p for p in plans if p.scenario == "ok"]
    # Damaged CABs: quarantined, never counted; taken from plain successes so
    # every cause keeps its evidence.
    for p in _pick(master, ok, 0.02, 1 if big else 0):
        p.damage = "truncated_cab"
    failed = [p for p in plans if p.scenario != "ok"]
    retried = {p.index for p in _pick(master, failed, 0.05, 1 if big else 0)}
    eligible = [
        p for p in plans if p.scenario in LONE_CAB_OK and p.index not in retried
    ]
    for p in _pick(master, eligible, 0.08, 1 if big else 0):
        p.layout = "lone_cab"
    folder = [p for p in plans if p.layout == "folder" and not p.damage]
    for p in _pick(master, folder, 0.06, 1 if devices >= 20 else 0):
        p.layout = "intune_zip"
    plain_ok = [
        p for p in plans if p.scenario == "ok" and p.layout == "folder" and not p.damage
    ]
    for n, p in enumerate(_pick(master, plain_ok, 0.04, 2 if devices >= 20 else 0)):
        p.damage = "empty_log" if n % 2 == 0 else "truncated_log"
    out: list[Plan] = []
    for p in plans:
        scenarios.realise(p, random.Random(f"{seed}:{p.index}:1:plan"))
        if p.runs and p.layout == "folder":
            p.rolled_log = random.Random(f"{seed}:{p.index}:roll").random() < 0.12
        out.append(p)
        if p.index in retried:
            out.append(_retry(p, seed))
    _clock_cases(out, retried, seed)
    return out


def _retry(p: Plan, seed: int) -> Plan:
    """The second attempt of a device: mostly a success, after the first."""
    rng = random.Random(f"{seed}:{p.index}:2:plan")
    again = replace(
        p,
        scenario="ok" if rng.random() < 0.8 else p.scenario,
        attempt=2,
        runs=[],
        ts_steps=[],
        damage="",
        enrollment_id=new_device(p.index, rng).enrollment_id,
        client_version=new_device(
            p.index, random.Random(f"{seed}:{p.index}")
        ).client_version,
        root_code=None,
        failing_step="",
        failure_at=None,
        failure_phase="",
        failure_code=0,
        failure_name="",
        failure_code_signed=False,
        timeout_at=None,
        ds_start=None,
        ts_start=None,
        esp_end=None,
        cm_state=3,
        ts_state=3,
        join_method=0,
        whiteglove=False,
        client_msi=False,
        rolled_log=False,
        clock=clocks.DeviceClock(),
        pre_esp_events=[],
        ztd_error=None,
        app_failure=None,
        app_failed_at=None,
        msi_failure=None,
        msi_failed_at=None,
        monitor_failed_at=None,
        continued_at=None,
        tried_again_at=None,
        retry_start=None,
        coalesced_reboot=False,
        ds_end=None,
    )
    scenarios.realise(again, rng, not_before=p.collected_at)
    return again


def _clock_cases(plans: list[Plan], retried: set[int], seed: int) -> None:
    """Give the clock cases to plain folder bundles of a fleet of 20 or more."""
    if len({p.index for p in plans}) < 20:
        return
    rng = random.Random(f"{seed}:clocks")
    plain = [
        p
        for p in plans
        if p.layout == "folder" and not p.damage and p.index not in retried
    ]
    no_dst = [p for p in plain if p.site in clocks.NO_DST_SITES]
    chosen: list[tuple[Plan, str]] = []
    if no_dst:
        chosen.append((rng.choice(no_dst), "no_zone_source"))
    rest = [p for p in plain if p not in [c for c, _ in chosen]]
    picked = rng.sample(rest, len(clocks.SKEWS) + 1)
    chosen += [(q, "skewed_clock") for q in picked[:-1]] + [(picked[-1], "zone_change")]
    skews = iter(clocks.SKEWS)
    for plan, case in sorted(chosen, key=lambda c: c[0].index):
        plan.clock = clocks.DeviceClock(case=case)
        if case == "skewed_clock":
            plan.clock.skew = next(skews)
        clocks.realise(plan.clock, plan.started_at, plan.tz_name, rng)


def msi_instead(seed: int, index: int) -> bool:
    """Whether this device's app failure in Device setup is an MSI app of the
    MDM (`catalog.MSI_SHARE`), from the device's own generator."""
    return random.Random(f"{seed}:{index}:msi").random() < MSI_SHARE


def new_device_plan(seed: int, index: int) -> Plan:
    """A device identity drawn from its own seeded generator."""
    return new_device(index, random.Random(f"{seed}:{index}"))


def _cab_members(plan: Plan, rng: random.Random) -> list[tuple[str, bytes]]:
    members = [
        (
            f"DeviceHash_{_file_part(plan.device_name)}.csv",
            cabfiles.device_hash(plan, rng),
        ),
        ("DiagnosticsFrameworkData.json", cabfiles.framework_json(plan)),
        ("IntuneManagementExtension.log", agentlogs.ime_log(plan, rng)),
        ("MdmDiagLogMetadata.json", cabfiles.metadata_json(plan)),
        ("MDMDiagReport.xml", cabfiles.report_xml(plan)),
        ("MdmDiagReport_RegistryDump.reg", registry_dump.registry_dump(plan, rng)),
        ("MdmLogCollectorFootPrint.txt", cabfiles.footprint(plan)),
        (SHELLCORE_EVTX, shellcore_evtx(plan, rng)),
        (AUTOPILOT_EVTX, autopilot_evtx(plan, rng)),
        ("setupact.log", setupact_log(plan, rng)),
    ]
    if plan.msi_failure:  # the MDM's MSI installs (DMEDP Admin 1905-1924)
        members.append((DMEDP_EVTX, dmedp_evtx(plan, rng)))
    if plan.ztd_error:  # the downloaded profile: a ZTD registration error
        members.append(("AutopilotDDSZTDFile.json", cabfiles.ztd_file(plan)))
    if plan.clock.case == "no_zone_source":  # the one named zone source of the CAB
        members = [m for m in members if m[0] != "DiagnosticsFrameworkData.json"]
    return members


def _loose_logs(plan: Plan, rng: random.Random) -> list[tuple[str, bytes]]:
    """ConfigMgr logs collected beside the CAB (ccmsetup logs, then CCM logs)."""
    logs: list[tuple[str, bytes]] = []
    if plan.runs:
        data = cmlogs.ccmsetup_log(plan, rng)
        if plan.rolled_log:
            old, new = cmlogs.roll(data, rng)
            logs.append(("ccmsetup.lo_", old))
            data = new
        logs.append(("ccmsetup.log", data))
        if plan.client_msi:
            failed = any(r.msi_failed for r in plan.runs)
            logs.append(("client.msi.log", agentlogs.client_msi_log(plan, rng, failed)))
    if plan.ts_steps:
        data = cmlogs.smsts_log(plan, rng)
        if plan.damage == "empty_log":
            data = b""
        elif plan.damage == "truncated_log":
            data = data[: len(data) * 2 // 3]
        logs.append(("smsts.log", data))
    return logs


def _intune_zip(
    plan: Plan, cab_name: str, cab_bytes: bytes, logs: list[tuple[str, bytes]]
) -> bytes:
    """Intune "Collect diagnostics" ZIP: results.xml + flattened (N) entries."""
    ccmsetup = [(n, d) for n, d in logs if n.startswith(("ccmsetup", "client.msi"))]
    ccm = [(n, d) for n, d in logs if n.startswith("smsts")]
    items = []
    members: list[tuple[str, bytes]] = []
    for num, (pattern, desc, files) in enumerate(
        (
            ("%windir%\\ccm\\logs\\*.log", "windir_ccm_logs_log", ccm),
            ("%windir%\\ccmsetup\\logs\\*.log", "windir_ccmsetup_logs_log", ccmsetup),
        ),
        start=11,
    ):
        if files:
            items.append(f'  <FoldersFiles HRESULT="0">{pattern}</FoldersFiles>')
            members += [(f"({num}) FoldersFiles {desc}/{n}", d) for n, d in files]
        else:
            items.append(
                f'  <FoldersFiles HRESULT="-2147024893">{pattern}</FoldersFiles>'
            )
            members.append(
                (f"({num}) No Results - Error [0x80070003] FoldersFiles {desc}", b"")
            )
    stem = cab_name[:-4]
    items.append(
        f'  <FoldersFiles HRESULT="0">%temp%\\MDMDiagnostics\\{cab_name}</FoldersFiles>'
    )
    members.append(
        (f"(71) FoldersFiles temp_MDMDiagnostics_{stem}_cab/{cab_name}", cab_bytes)
    )
    cmd = (
        '  <Command HRESULT="0">%windir%\\system32\\mdmdiagnosticstool.exe -area '
        "Autopilot;deviceprovisioning;deviceenrollment;tpm -cab "
        f"%temp%\\MDMDiagnostics\\{cab_name}</Command>"
    )
    results = (
        '<Collection HRESULT="0">\r\n'
        f"  <ID>{plan.enrollment_id.lower()}</ID>\r\n"
        "  <SasUrl>SasUrlPlaceHolder</SasUrl>\r\n"
        f"{cmd}\r\n" + "\r\n".join(items) + "\r\n"
        "  <ClientTimeoutInSeconds>5400</ClientTimeoutInSeconds>\r\n"
        "  <OutputFileFormat>flattened</OutputFileFormat>\r\n"
        "</Collection>\r\n"
    )
    return cab.pack_zip(
        [("results.xml", results.encode("utf-8")), *members], plan.collected_at
    )


def _file_part(name: str) -> str:
    """`name` as a file-name part: characters Windows refuses become ``_``.

    Real device names never hold them; a test's planted name (markup in a
    device name) still gets a bundle on disk.
    """
    return re.sub(r'[<>:"/\\|?*\x00-\x1f]', "_", name)


def write_bundle(plan: Plan, seed: int, out: Path, size: str = "small") -> str:
    """Write one bundle under ``out``; returns its path relative to ``out``.

    ``size="real"`` grows the members to a real CAB's set and sizes
    (`realsize`), from a generator of its own: the evidence stays the same.
    """
    rng = random.Random(f"{seed}:{plan.index}:{plan.attempt}:files")
    real = random.Random(f"{seed}:{plan.index}:{plan.attempt}:real")
    file_name = _file_part(plan.device_name)
    local = plan.local(plan.collected_at)
    mdmlogs = f"mdmlogs-{local:%Y-%m-%d-%H-%M-%S}.cab"
    members = _cab_members(plan, rng)
    if size == "real":
        members = realsize.real_cab_members(plan, members, real)
    cab_bytes = cab.pack_cab(members, local)
    if plan.damage == "truncated_cab":
        cab_bytes = cab.truncate(cab_bytes, rng.uniform(0.3, 0.7))
    logs = _loose_logs(plan, rng)
    if size == "real":
        logs = realsize.real_loose_logs(plan, logs, real)
    site = out / plan.site
    if plan.layout == "lone_cab":
        name = f"MDMDiagReport-{local:%Y%m%d}-{file_name}.cab"
        path = site / "drop" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(cab_bytes)
    elif plan.layout == "intune_zip":
        name = f"DiagLogs-{file_name}-{plan.collected_at:%Y%m%dT%H%M%S}Z.zip"
        path = site / "drop" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_intune_zip(plan, mdmlogs, cab_bytes, logs))
    else:
        path = site / f"{file_name}_{local:%Y%m%d-%H%M%S}"
        path.mkdir(parents=True, exist_ok=True)
        name = rng.choices(
            (mdmlogs, "autopilot-logs.cab", "MDMDiagReport.cab"), (70, 15, 15)
        )[0]
        (path / name).write_bytes(cab_bytes)
        for log_name, data in logs:
            (path / log_name).write_bytes(data)
    plan.cab_name = name
    return path.relative_to(out).as_posix()


def simulate(devices: int, seed: int, out: Path, size: str = "small") -> Path:
    """Write a simulated share of ``devices`` devices under ``out``.

    Args:
        devices: number of distinct devices (about 5% get a second attempt).
        seed: fleet seed; the same seed writes the same bytes.
        out: share root (created if missing).
        size: ``small`` (the default: ~190 KB CABs for tests and the sample)
            or ``real`` (CABs with a real collection's member set and sizes,
            ~15-45 MB unpacked; docs/formats.md §5.4).

    Returns:
        The path of ``out/ground_truth.csv``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plans = plan_fleet(devices, seed)
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    paths = [write_bundle(p, seed, out, size) for p in plans]
    gt = out / "ground_truth.csv"
    write_csv(gt, COLUMNS, truth_rows(plans, paths))
    write_csv(out / "record_times.csv", TIMES_COLUMNS, times_rows(plans, paths))
    return gt


__all__ = ["COLUMNS", "SIZES", "plan_fleet", "simulate"]
