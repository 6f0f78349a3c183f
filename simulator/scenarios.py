"""Scenario mix and per-attempt plans for the fleet simulator.

A :class:`Plan` fixes everything about one bundle (device, zone, build, scenario,
every instant of the ESP timeline, the ccmsetup runs and the task sequence) before
any file is written, so the evidence writers and the ground truth read the same
facts. The rules are those of docs/scenarios.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

from . import families
from .catalog import (
    BUILD_WEIGHTS,
    BUILDS,
    CAUSES,
    CLIENT_VERSIONS,
    DAYS,
    DC_NOT_FOUND,
    E_FAIL,
    FIRST_DAY,
    LONE_CAB_OK,
    MODELS,
    MSI_1603,
    NEW_SMSTS_FROM,
    SITE_WEIGHTS,
    SITES,
    STEP_FAILURES,
    TIMEOUT,
    WEIGHTS,
)
from .clocks import DeviceClock


@dataclass
class CcmRun:
    """One ccmsetup.exe run (a segment of ccmsetup.log, opened by its banner)."""

    start: datetime
    end: datetime
    exit_code: int
    failure_code: int | None = None  # written as "CcmSetup failed with error code"
    msi_failed: bool = False
    service: bool = True  # /runservice run (downloads and installs) vs bootstrap


@dataclass
class TsStep:
    """One task-sequence instruction (action or group boundary)."""

    name: str
    kind: str  # "group" | "group_end" | "action"
    type_name: str
    start: datetime
    end: datetime | None  # None: started and never ended
    code: int = 0  # failing code for the failing action


@dataclass
class Plan:
    """Everything about one bundle, decided before anything is written."""

    index: int
    serial: str
    device_name: str
    site: str
    tz_name: str
    manufacturer: str
    model: str
    build: str
    ubr: int
    display_version: str
    build_branch: str
    build_lab_ex: str
    client_version: str
    scenario: str
    layout: str = "folder"  # folder | lone_cab | intune_zip
    attempt: int = 1
    damage: str = ""  # truncated_cab | empty_log | truncated_log | ""
    started_at: datetime = FIRST_DAY
    timeout_at: datetime | None = None  # DevicePreparation TimedOut instant
    ds_start: datetime | None = None  # DeviceSetup category started
    failure_at: datetime | None = None  # ESP failure event
    failure_phase: str = ""
    failure_code: int = 0  # errorCode of the ESP failure event (u32)
    failure_code_signed: bool = False
    failure_name: str = ""
    root_code: int | None = None
    failing_step: str = ""
    esp_end: datetime | None = None
    collected_at: datetime = FIRST_DAY
    cm_state: int = 3
    ts_state: int | None = 3
    join_method: int = 0
    whiteglove: bool = False
    runs: list[CcmRun] = field(default_factory=list)
    ts_steps: list[TsStep] = field(default_factory=list)
    ts_start: datetime | None = None
    client_msi: bool = False
    rolled_log: bool = False
    enrollment_id: str = ""
    ts_package: str = ""
    cab_name: str = ""
    clock: DeviceClock = field(default_factory=DeviceClock)
    # the families of `families` (docs/scenarios.md "Causes")
    pre_esp_events: list[tuple[datetime, str, str]] = field(default_factory=list)
    ztd_error: tuple[int, str] | None = None  # AutopilotDDSZTDFile.json
    app_failure: tuple[str, int, int] | None = None  # IME: name, exit, HRESULT
    app_failed_at: datetime | None = None
    msi_failure: tuple[str, int] | None = None  # MDM MSI: product code, result
    msi_failed_at: datetime | None = None
    monitor_failed_at: datetime | None = None  # free-text "Monitoring apps ..."
    continued_at: datetime | None = None  # Continue anyway
    tried_again_at: datetime | None = None  # Try again, then the second run
    retry_start: datetime | None = None
    coalesced_reboot: bool = False  # a rebootRequiredAndTryAgain subcategory
    ds_end: datetime | None = None  # Device setup's success

    @property
    def zone(self) -> ZoneInfo:
        """The IANA zone behind the Windows zone name."""
        return ZoneInfo(win_tz[self.tz_name])

    def bias(self, at: datetime) -> int:
        """Windows bias (minutes) the device wrote at an instant: UTC = local + bias."""
        return self.clock.bias(at, self.tz_name)

    def local(self, at: datetime) -> datetime:
        """Naive local wall-clock time the device showed at an instant."""
        return self.clock.local(at, self.tz_name)

    def reads(self, at: datetime) -> datetime:
        """The UTC the device clock showed at an instant (events, CSI stamps)."""
        return self.clock.reads(at)


def _sec(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(seconds=rng.uniform(lo, hi))


def _start_time(
    plan: Plan, rng: random.Random, not_before: datetime | None
) -> datetime:
    """ESP start: a local working-hours instant on one of the fleet's days."""
    if not_before is not None:
        return not_before + timedelta(hours=rng.uniform(3, 30))
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    local = datetime(day.year, day.month, day.day, 7, 30) + _sec(rng, 0, 9.5 * 3600)
    return local.replace(tzinfo=plan.zone).astimezone(UTC).replace(microsecond=0) + (
        timedelta(milliseconds=rng.randrange(1000))
    )


def _ended(step: TsStep) -> datetime:
    """The end of a step the plan has just made finish."""
    assert step.end is not None, step.name
    return step.end


def _ts_steps(plan: Plan, rng: random.Random, start: datetime) -> list[TsStep]:
    """The PROVISIONTS task sequence as instructions with their instants."""
    layout = [
        ("group", "Install Core Apps", "SMS_TaskSequence_Group"),
        (
            "action",
            "Install Company Portal",
            "SMS_TaskSequence_InstallApplicationAction",
        ),
        (
            "action",
            "Install Microsoft 365 Apps",
            "SMS_TaskSequence_InstallApplicationAction",
        ),
        ("action", "Install VPN Client", "SMS_TaskSequence_InstallApplicationAction"),
        ("group_end", "Install Core Apps", "SMS_TaskSequence_Group"),
        ("group", "Configure Device", "SMS_TaskSequence_Group"),
        (
            "action",
            "Set Regional Settings",
            "SMS_TaskSequence_RunPowerShellScriptAction",
        ),
        ("action", "Install Software Updates", "SMS_TaskSequence_InstallUpdateAction"),
        ("action", "Apply BitLocker Settings", "SMS_TaskSequence_RunCommandLineAction"),
        ("group_end", "Configure Device", "SMS_TaskSequence_Group"),
    ]
    steps = []
    t = start
    for kind, name, typ in layout:
        dur = _sec(rng, 0.1, 1.5) if kind != "action" else _sec(rng, 60, 420)
        steps.append(TsStep(name, kind, typ, t, t + dur))
        t = t + dur + _sec(rng, 0.2, 2)
    return steps


def _ccmsetup_runs(
    plan: Plan, rng: random.Random, ccm_start: datetime, timeout: datetime
) -> None:
    """The ccmsetup runs (and provider states) of the plan's scenario."""
    sc = plan.scenario
    boot = CcmRun(ccm_start, ccm_start + _sec(rng, 4, 12), 0, service=False)
    svc_start = boot.end + _sec(rng, 1, 4)
    if sc == "ccmsetup_never_ran":
        plan.cm_state, plan.ts_state, plan.client_version = 1, None, ""
    elif sc == "ccmsetup_failed":
        plan.cm_state, plan.ts_state = 4, None
        msi = rng.random() < 0.5
        code = MSI_1603 if msi else E_FAIL
        plan.root_code = code
        plan.runs = [boot]
        t = svc_start
        for _ in range(rng.randint(1, 3)):
            end = t + _sec(rng, 120, 600)
            plan.runs.append(CcmRun(t, end, 6, code, msi))
            t = end + timedelta(minutes=10) + _sec(rng, 1, 30)
            if t > timeout - timedelta(minutes=2):
                break
        plan.client_msi = msi or rng.random() < 0.3
    elif sc in ("ccmsetup_too_late", "try_again_ok"):
        plan.cm_state, plan.ts_state = 3, (1 if sc == "ccmsetup_too_late" else 3)
        end = timeout + _sec(rng, 60, 1500)
        plan.runs = [boot, CcmRun(svc_start, end, 0)]
    else:
        end = svc_start + _sec(rng, 420, 1500)
        plan.runs = [boot, CcmRun(svc_start, end, 0)]
        plan.client_msi = rng.random() < 0.25


def _preparation_fails(
    plan: Plan, rng: random.Random, timeout: datetime, variant: float
) -> None:
    """DevicePreparation times out (or, hybrid, fails on the domain controller)."""
    sc = plan.scenario
    plan.timeout_at = timeout
    plan.failure_at = timeout
    plan.failure_phase = "DevicePreparation"
    plan.failure_code = TIMEOUT
    plan.failure_name = (
        "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_TimedOut"
    )
    if sc == "unsupported_hybrid_join" and variant < 0.25:
        plan.failure_at = plan.started_at + _sec(rng, 600, 1800)
        plan.failure_code = DC_NOT_FOUND
        plan.failure_code_signed = True  # exception path: signed errorCode
        plan.failure_name = (
            "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_Failed"
        )
        plan.timeout_at = None
    if sc.startswith("unsupported"):
        plan.cm_state, plan.ts_state = 1, None
        plan.runs = []
        plan.client_version = ""
    plan.esp_end = plan.failure_at


def _device_setup(plan: Plan, rng: random.Random) -> None:
    """DeviceSetup: the task sequence, and how it ends for the plan's scenario."""
    sc = plan.scenario
    prep_done = (plan.retry_start or plan.runs[-1].end) + _sec(rng, 20, 90)
    ds_start = plan.ds_start = prep_done + _sec(rng, 2, 10)
    plan.ts_start = ds_start + _sec(rng, 60, 200)
    steps = _ts_steps(plan, rng, plan.ts_start)
    actions = [i for i, s in enumerate(steps) if s.kind == "action"]
    if sc == "ts_step_failed":
        k = rng.choice(actions)
        code, _ = rng.choice(STEP_FAILURES)
        steps = steps[: k + 1]
        steps[k].code = code
        plan.ts_state = 4
        plan.root_code = code
        plan.failing_step = steps[k].name
        plan.failure_at = _ended(steps[k]) + _sec(rng, 20, 120)
        plan.failure_phase = "DeviceSetup"
        plan.failure_code = 0
        plan.failure_name = (
            "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed"
        )
    elif sc in ("ts_still_running",) or sc.startswith("unsupported"):
        limit = ds_start + timedelta(minutes=60) + _sec(rng, 1, 30)
        # stretch the steps so the TS is mid-step at the deadline
        k = rng.choice(actions[1:])
        steps = steps[: k + 1]
        steps[k].start = min(steps[k].start, limit - _sec(rng, 300, 1500))
        for s in steps[:k]:
            if s.end and s.end > steps[k].start:
                s.end = steps[k].start - _sec(rng, 1, 5)
        steps[k].end = None
        plan.ts_state = rng.choice((1, 2, 2, 2)) if sc == "ts_still_running" else 2
        plan.failing_step = steps[k].name if sc == "ts_still_running" else ""
        plan.failure_at = limit
        plan.failure_phase = "DeviceSetup"
        # an expired monitor: state = failed with errorCode 0 (formats.md §3.3.2)
        plan.failure_code = 0
        plan.failure_name = (
            "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed"
        )
    else:
        plan.ts_state = 3
        plan.esp_end = plan.ds_end = _ended(steps[-1]) + _sec(rng, 30, 120)
    plan.ts_steps = steps
    if plan.failure_at is not None:
        plan.esp_end = plan.failure_at


def realise(plan: Plan, rng: random.Random, not_before: datetime | None = None) -> Plan:
    """Fill in every instant and fact of the plan's scenario (docs/scenarios.md)."""
    sc = plan.scenario
    t0 = _start_time(plan, rng, not_before)
    plan.started_at = t0
    if sc == "unsupported_hybrid_join":
        plan.join_method = 1
    if sc == "unsupported_preprovisioning":
        plan.whiteglove = True
    # ccmsetup.msi is pushed by Intune a few minutes into device preparation.
    ccm_start = t0 + _sec(rng, 100, 420)
    timeout = t0 + timedelta(minutes=60) + _sec(rng, 1, 40)
    variant = rng.random()
    if sc in families.PRE_ESP:
        families.pre_esp_failure(plan, rng, t0)
        return _collected(plan, rng)
    dev_prep_fails = sc in (
        "ccmsetup_never_ran",
        "ccmsetup_failed",
        "ccmsetup_too_late",
    )
    if sc in ("unsupported_hybrid_join", "unsupported_preprovisioning"):
        dev_prep_fails = variant < 0.5
    _ccmsetup_runs(plan, rng, ccm_start, timeout)
    if sc == "try_again_ok":
        families.try_again_timing(plan, rng, timeout)
    if dev_prep_fails:
        _preparation_fails(plan, rng, timeout, variant)
    else:
        _device_setup(plan, rng)
        plan.coalesced_reboot = sc == "ok" and rng.random() < 0.3
    if sc in families.APP_FAMILIES:
        families.app_failure(plan, rng)
    elif sc == "msi_app_failed":
        families.msi_failure(plan, rng)
    elif sc == "account_setup_failed":
        families.account_setup_failure(plan, rng)
    elif sc == "try_again_ok":
        families.try_again_failure(plan, timeout)
    return _collected(plan, rng)


def _collected(plan: Plan, rng: random.Random) -> Plan:
    """When the bundle was collected: soon after a failure, later after a success."""
    assert plan.esp_end is not None
    if plan.failure_phase == "AccountSetup":  # the user page, after Device setup
        assert plan.failure_at is not None
        plan.esp_end = plan.failure_at
    if plan.failure_at is not None and plan.scenario != "try_again_ok":
        plan.collected_at = plan.esp_end + _sec(rng, 240, 5400)
    else:
        plan.collected_at = plan.esp_end + _sec(rng, 1800, 40 * 3600)
    plan.collected_at = plan.collected_at.replace(microsecond=0)
    return plan


__all__ = [
    "TIMEOUT",
    "E_FAIL",
    "DC_NOT_FOUND",
    "CAUSES",
    "WEIGHTS",
    "LONE_CAB_OK",
    "SITES",
    "SITE_WEIGHTS",
    "BUILDS",
    "BUILD_WEIGHTS",
    "MODELS",
    "CLIENT_VERSIONS",
    "NEW_SMSTS_FROM",
    "STEP_FAILURES",
    "FIRST_DAY",
    "DAYS",
    "CcmRun",
    "Plan",
    "TsStep",
    "realise",
]
