"""The Shell-Core 62407 event sequence of one attempt (docs/formats.md §3.2-§3.3).

Names and message templates follow Windows' own CloudExperienceHost JS; the
Value is the JSON ``{"message":...,"errorCode":N}`` Windows writes for
``CommercialOOBE_*`` names. Non-ESP noise (region/language retrieval, prefetch,
navigation events with arbitrary values) comes before the ESP.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from .scenarios import TIMEOUT, Plan

Event = tuple[datetime, str, str]

_CAT = "CommercialOOBE_ESPProgress_Category_"
_SUB = "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_"
_PP = "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_"


def commercial_value(message: str, code: int = 0, signed: bool = False) -> str:
    """The Value JSON of a CommercialOOBE_* event, compact like JSON.stringify."""
    if signed and code >= 2**31:
        code -= 2**32
    return json.dumps({"message": message, "errorCode": code}, separators=(",", ":"))


class _Seq:
    """Collects events at strictly increasing instants."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[Event] = []

    def add(
        self,
        at: datetime,
        name: str,
        message: str,
        code: int = 0,
        *,
        signed: bool = False,
    ) -> datetime:
        if self.events and at <= self.events[-1][0]:
            at = self.events[-1][0] + timedelta(milliseconds=self.rng.randint(3, 90))
        self.events.append((at, name, commercial_value(message, code, signed)))
        return at

    def raw(self, at: datetime, name: str, value: str) -> datetime:
        if self.events and at <= self.events[-1][0]:
            at = self.events[-1][0] + timedelta(milliseconds=self.rng.randint(3, 90))
        self.events.append((at, name, value))
        return at

    def step(self, at: datetime, lo: float = 0.05, hi: float = 2.0) -> datetime:
        return at + timedelta(seconds=self.rng.uniform(lo, hi))


def _sub(seq: _Seq, at: datetime, sub: str, ok: bool = True) -> datetime:
    at = seq.add(
        at, _SUB + "Started", f"BootstrapStatus: Starting subcategory {sub}..."
    )
    at = seq.step(at, 0.2, 4)
    if ok:
        at = seq.add(
            at,
            _SUB + "Success",
            f"BootstrapStatus: Subcategory ID = {sub}; state = succeeded.",
        )
    return at


def _noise(seq: _Seq, plan: Plan, t0: datetime) -> None:
    rng = seq.rng
    at = t0 - timedelta(minutes=rng.uniform(9, 25))
    seq.raw(at, "ZDPStatusChanged", "true")
    for area in ("AutopilotRegion", "AutopilotLanguage", "AutopilotKeyboard"):
        at = seq.step(at, 1, 20)
        seq.add(
            at,
            f"CommercialOOBE_{area}_SettingRetrieval_Started",
            f"{area}: retrieving the Autopilot setting.",
        )
        at = seq.step(at, 0.1, 2)
        seq.add(
            at,
            f"CommercialOOBE_{area}_SettingRetrieval_Succeeded",
            f"{area}: setting retrieved.",
        )
    at = seq.step(at, 5, 40)
    seq.add(
        at,
        "CommercialOOBE_AutopilotPreFetch_PolicyCache_Started",
        "AutoPilot prefetch ZTP policy cache started",
    )
    at = seq.step(at, 0.5, 3)
    elapsed = round(rng.uniform(20, 90), 1)
    seq.add(
        at,
        "CommercialOOBE_AutopilotPreFetch_PolicyCache_Returned",
        "AutoPilot prefetch ZTP policy cache returned"
        + json.dumps({"timeElapsed": elapsed}, separators=(",", ":")),
    )
    at = seq.step(at, 1, 30)
    os_info = json.dumps(
        {
            "platformId": 2,
            "majorVersion": 10,
            "minorVersion": 0,
            "buildNumber": int(plan.build),
        },
        separators=(",", ":"),
    )
    nav = {
        "cxh-osVersionInfo": os_info,
        "cxh-targetPersonality": "InclusiveBlue",
        "cxid": "AadWebAuth",
    }
    seq.raw(
        at,
        "CloudExperienceHost.Navigation.WebAppLaunch",
        json.dumps(nav, separators=(",", ":")),
    )
    at = seq.step(at, 20, 120)
    seq.raw(at, "populateAutoPilotPolicyReturned", "null")
    if plan.whiteglove:
        at = seq.step(at, 5, 60)
        seq.add(
            at,
            "CommercialOOBE_WhiteGlove_TechnicianFlow_Started",
            "White glove page starting technician flow.",
        )


def esp_events(plan: Plan, rng: random.Random) -> list[Event]:
    """Every 62407 event (UTC instant, Name, Value) of the attempt, in order."""
    seq = _Seq(rng)
    _noise(seq, plan, plan.started_at)
    t0 = plan.started_at
    at = seq.add(
        t0,
        _CAT + "Started",
        "BootstrapStatus: Starting category DevicePreparationCategory...",
    )
    assert seq.events[-1][0] == t0, "noise must end before the ESP starts"
    at = seq.step(at)
    at = _sub(seq, at, "DevicePreparation.TpmAttestationSubcategory")
    at = seq.add(
        seq.step(at),
        "CommercialOOBE_ESPDevicePreparation_TPMAttestation_NotRequiredForScenario",
        "BootstrapStatus: TPM attestation is not required for this scenario.",
    )
    at = _sub(seq, seq.step(at), "DevicePreparation.AadjSubcategory")
    at = seq.add(
        seq.step(at),
        "CommercialOOBE_ESPDevicePreparation_DeviceEnrollment_Started",
        "BootstrapStatus: Starting Autopilot device enrollment.",
    )
    at = seq.add(
        seq.step(at, 5, 40),
        "CommercialOOBE_ESPDevicePreparation_DeviceEnrollment_Complete",
        "BootstrapStatus: Autopilot device enrollment complete.",
    )
    at = _sub(seq, seq.step(at), "DevicePreparation.MdmEnrollmentSubcategory")
    at = seq.add(
        seq.step(at),
        _SUB + "Started",
        "BootstrapStatus: Starting subcategory "
        "DevicePreparation.EspProviderInstallationSubcategory...",
    )
    at = seq.add(
        seq.step(at),
        _PP + "Started",
        "BootstrapStatus: Waiting for policy providers to install "
        "a list of policies...",
    )
    sub = "DevicePreparation.EspProviderInstallationSubcategory"
    if plan.failure_phase == "DevicePreparation":
        assert plan.failure_at is not None
        code = plan.failure_code
        if plan.failure_name.endswith("_TimedOut"):
            msg = (
                "BootstrapStatus: Timed out waiting for all policy providers "
                "to provide a list of policies."
            )
        else:
            msg = (
                "BootstrapStatus: Policy provider(s) installation failed. "
                f"Error: 0x{code:08x}."
            )
        fat = seq.add(
            plan.failure_at,
            plan.failure_name,
            msg,
            code,
            signed=plan.failure_code_signed,
        )
        assert fat == plan.failure_at
        at = seq.add(
            seq.step(fat),
            _SUB + "Failed",
            f"BootstrapStatus: Subcategory ID = {sub}; state = failed.",
            code,
        )
        at = seq.add(
            seq.step(at),
            _CAT + "Failed",
            "BootstrapStatus: Category DevicePreparationCategory failed.",
            code,
        )
        _error_page(seq, plan, at)
        return seq.events
    assert plan.ds_start is not None
    done = plan.ds_start - timedelta(seconds=rng.uniform(3, 8))
    at = seq.add(
        done - timedelta(seconds=2),
        _PP + "Complete",
        "BootstrapStatus: waitForPolicyProviderInstallationToComplete "
        "returned, processing results...",
    )
    at = seq.add(
        seq.step(at, 0.01, 0.3),
        _PP + "Succeeded",
        "BootstrapStatus: All policy providers have successfully "
        "installed a list of policies.",
    )
    at = seq.add(
        seq.step(at, 0.01, 0.3),
        _SUB + "Success",
        f"BootstrapStatus: Subcategory ID = {sub}; state = succeeded.",
    )
    at = _sub(seq, seq.step(at), "DevicePreparation.InitiateSyncSessions")
    at = _sub(seq, seq.step(at), "DevicePreparation.SetContinueAnywayButtonVisibility")
    at = seq.add(
        seq.step(at, 0.01, 0.5),
        _CAT + "Success",
        "BootstrapStatus: Category DevicePreparationCategory succeeded.",
    )
    at = seq.add(
        plan.ds_start,
        _CAT + "Started",
        "BootstrapStatus: Starting category DeviceSetupCategory...",
    )
    for sub2, fam in (
        ("SecurityPoliciesSubcategory", "Policies"),
        ("CertificatesSubcategory", "Certificates"),
        ("NetworkConnectionsSubcategory", "NetworkProfiles"),
    ):
        at = seq.add(
            seq.step(at),
            _SUB + "Started",
            f"BootstrapStatus: Starting subcategory DeviceSetup.{sub2}...",
        )
        at = seq.add(
            seq.step(at),
            f"CommercialOOBE_ESPDeviceSetup_{fam}Installation_Started",
            f"BootstrapStatus: Beginning {fam.lower()} installation tracking.",
        )
        at = seq.add(
            seq.step(at, 1, 30),
            f"CommercialOOBE_ESPDeviceSetup_{fam}Installation_Succeeded",
            f"BootstrapStatus: {fam} installation tracking succeeded.",
        )
        at = seq.add(
            seq.step(at),
            _SUB + "Success",
            f"BootstrapStatus: Subcategory ID = DeviceSetup.{sub2}; state = succeeded.",
        )
    apps = "DeviceSetup.AppsSubcategory"
    at = seq.add(
        seq.step(at),
        _SUB + "Started",
        f"BootstrapStatus: Starting subcategory {apps}...",
    )
    at = seq.add(
        seq.step(at),
        "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Started",
        "BootstrapStatus: Beginning apps installation tracking.",
    )
    if plan.failure_phase == "DeviceSetup":
        assert plan.failure_at is not None
        code = plan.failure_code
        fat = seq.add(
            plan.failure_at,
            plan.failure_name,
            f"BootstrapStatus: Subcategory ID = {apps}; state = failed.",
            code,
        )
        assert fat == plan.failure_at
        at = seq.add(
            seq.step(fat),
            _CAT + "Failed",
            "BootstrapStatus: Category DeviceSetupCategory failed.",
            code,
        )
        _error_page(seq, plan, at)
        return seq.events
    assert plan.esp_end is not None
    at = seq.add(
        plan.esp_end - timedelta(seconds=rng.uniform(20, 28)),
        "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Succeeded",
        "BootstrapStatus: Apps installation tracking succeeded.",
    )
    at = seq.add(
        seq.step(at),
        _SUB + "Success",
        f"BootstrapStatus: Subcategory ID = {apps}; state = succeeded.",
    )
    at = _sub(seq, seq.step(at), "DeviceSetup.RebootCoalescing")
    at = _sub(seq, seq.step(at), "DeviceSetup.SendResultsToMdmServer")
    at = seq.add(
        seq.step(at),
        _CAT + "Success",
        "BootstrapStatus: Category DeviceSetupCategory succeeded.",
    )
    at = seq.add(
        seq.step(at),
        "CommercialOOBE_ESPProgress_Page_Exiting",
        "BootstrapStatus: Exiting page normally.",
    )
    at = seq.add(
        seq.step(at, 30, 120),
        _CAT + "Started",
        "BootstrapStatus: Starting category AccountSetupCategory...",
    )
    at = _sub(seq, seq.step(at), "AccountSetup.WaitingForAadRegistrationSubcategory")
    at = _sub(seq, seq.step(at, 5, 60), "AccountSetup.AppsSubcategory")
    at = seq.add(
        seq.step(at),
        _CAT + "Success",
        "BootstrapStatus: Category AccountSetupCategory succeeded.",
    )
    seq.add(
        seq.step(at),
        "CommercialOOBE_ESPProgress_Page_Exiting",
        "BootstrapStatus: Exiting page normally.",
    )
    return seq.events


def _error_page(seq: _Seq, plan: Plan, at: datetime) -> None:
    """What follows a failure: the error page, log collection by the user."""
    if plan.whiteglove:
        seq.add(
            seq.step(at),
            "CommercialOOBE_ESPProgress_Page_Exiting",
            "BootstrapStatus: Exiting page due to White Glove failure.",
        )
        return
    at = seq.step(at, 30, 240)
    seq.add(
        at,
        "CommercialOOBE_ESPProgress_CollectLogs_Started",
        "BootstrapStatus: Collecting logs.",
    )


__all__ = ["TIMEOUT", "Event", "commercial_value", "esp_events"]
