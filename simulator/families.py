"""The failure families beyond the co-management path (docs/scenarios.md "Causes").

Each function fills in a :class:`~.scenarios.Plan` of its family after the
common plan is drawn: a failure before the ESP (MDM enrollment discovery, Entra
join, no Autopilot profile), a Win32 app failing in Device setup through the IME
(with or without the user's Continue anyway), an MSI app of the MDM failing in
Device setup, an Account setup failure, and
Try again after a Device preparation timeout. The events themselves are
written by `esp_timeline` and `agentlogs` from these facts.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from .catalog import APP_FAILURES, MSI_FAILURES, TIMEOUT

PRE_ESP = {"mdm_enrollment_failed", "entra_join_failed", "autopilot_profile_failed"}
APP_FAMILIES = {"win32_app_failed", "continue_anyway"}


def _sec(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(seconds=rng.uniform(lo, hi))


def _discovery_value(code: int, rng: random.Random) -> str:
    """The Value UnifiedEnrollment writes: the HRESULT as negative hex text."""
    vector = "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789") for _ in range(16)
    )
    return json.dumps(
        {"number": f"-{2**32 - code:x}", "correlationVector": f"{vector}.0"},
        separators=(",", ":"),
    )


def pre_esp_failure(plan, rng: random.Random, t0: datetime) -> None:
    """A failure before the ESP: no ESP event, no ConfigMgr client."""
    sc = plan.scenario
    plan.cm_state, plan.ts_state, plan.runs, plan.client_version = 1, None, [], ""
    plan.failure_at = t0
    events: list[tuple[datetime, str, str]] = []
    if sc == "mdm_enrollment_failed":
        # two discovery failures, as in a real CAB (docs/formats.md §9.3)
        plan.failure_phase, plan.failure_code = "MdmEnrollment", 0x80192EE7
        name = "UnifiedEnrollment_AddMdm_Discovery_FindDiscoveryService_Failed"
        events.append((t0, name, _discovery_value(0x80192EE7, rng)))
        if rng.random() < 0.5:
            later = t0 + _sec(rng, 40, 120)
            name = "UnifiedEnrollment_AddMdm_Discovery_DiscoverEndpoints_Failed"
            events.append((later, name, _discovery_value(0x80190194, rng)))
    elif sc == "entra_join_failed":
        code = rng.choice((0x801C0003, 0x801C03F3))
        plan.failure_phase, plan.failure_code = "EntraJoin", code
        events.append((t0, "CDJUIError", f"{code:08x}"))  # bare hex (§3.2)
    else:
        plan.failure_phase, plan.failure_code = "AutopilotProfile", 807
        plan.ztd_error = (807, "ZtdDeviceIsNotRegistered")
        message = json.dumps(
            {"message": "Autopilot profile unavailable.", "errorCode": 0},
            separators=(",", ":"),
        )
        events.append((t0, "CommercialOOBE_Autopilot_Profile_Unavailable", message))
    plan.failure_name = events[0][1]
    plan.pre_esp_events = events
    plan.esp_end = events[-1][0]


def app_failure(plan, rng: random.Random) -> None:
    """A Win32 app fails through the IME once the task sequence has finished."""
    name, exit_code, hresult = rng.choice(APP_FAILURES)
    ts_end = plan.ts_steps[-1].end
    assert ts_end is not None
    plan.app_failure = (name, exit_code, hresult)
    plan.app_failed_at = ts_end + _sec(rng, 10, 90)
    plan.failure_at = plan.app_failed_at + _sec(rng, 30, 150)
    plan.failure_phase = "DeviceSetup"
    plan.failure_code = 0  # SubcategoryProcessing_Failed, state = failed
    plan.failure_name = (
        "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed"
    )
    plan.root_code = hresult
    plan.esp_end = plan.failure_at
    if plan.scenario == "continue_anyway":
        plan.continued_at = plan.failure_at + _sec(rng, 60, 300)
        plan.esp_end = plan.continued_at + _sec(rng, 120, 600)


def msi_failure(plan, rng: random.Random) -> None:
    """An MSI app of the MDM (EnterpriseDesktopAppManagement) fails to install
    once the task sequence has finished (DMEDP Admin 1920 then 1924,
    docs/formats.md §3.5); half the time the apps monitor logs its free-text
    "Monitoring apps ... failed" first (§3.3.10)."""
    product, result = rng.choice(MSI_FAILURES)
    ts_end = plan.ts_steps[-1].end
    assert ts_end is not None
    plan.msi_failure = (product, result)
    plan.msi_failed_at = ts_end + _sec(rng, 40, 240)
    plan.failure_at = plan.msi_failed_at + _sec(rng, 30, 150)
    if rng.random() < 0.5:
        plan.monitor_failed_at = plan.failure_at - _sec(rng, 0.2, 2)
    plan.failure_phase = "DeviceSetup"
    plan.failure_code = 0  # SubcategoryProcessing_Failed, state = failed
    plan.failure_name = (
        "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed"
    )
    plan.root_code = result
    plan.esp_end = plan.failure_at


def account_setup_failure(plan, rng: random.Random) -> None:
    """Device setup succeeded; an app of the user's Account setup fails."""
    assert plan.esp_end is not None
    plan.failure_phase = "AccountSetup"
    plan.failure_code = rng.choice((0x80070643, 0x80070002))
    plan.failure_name = "CommercialOOBE_ESPAccountSetup_ApplicationsInstallation_Failed"
    plan.failure_at = plan.esp_end + _sec(rng, 180, 900)  # esp_end: Device setup's


def try_again_timing(plan, rng: random.Random, timeout: datetime) -> None:
    """Device preparation times out before ccmsetup ends; Try again succeeds."""
    plan.tried_again_at = plan.runs[-1].end + _sec(rng, 30, 300)
    plan.retry_start = plan.tried_again_at + _sec(rng, 1, 3)
    plan.timeout_at = timeout


def try_again_failure(plan, timeout: datetime) -> None:
    """The first run's failure, set once Device setup of the second run is planned."""
    plan.failure_at = timeout
    plan.failure_phase = "DevicePreparation"
    plan.failure_code = TIMEOUT
    plan.failure_name = (
        "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_TimedOut"
    )
