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

from . import esp_paths
from .scenarios import TIMEOUT, Plan

Event = tuple[datetime, str, str]

CAT = "CommercialOOBE_ESPProgress_Category_"
SUB = "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_"
PP = "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_"
PROVIDERS = "DevicePreparation.EspProviderInstallationSubcategory"
APPS = "DeviceSetup.AppsSubcategory"


def commercial_value(message: str, code: int = 0, signed: bool = False) -> str:
    """The Value JSON of a CommercialOOBE_* event, compact like JSON.stringify."""
    if signed and code >= 2**31:
        code -= 2**32
    return json.dumps({"message": message, "errorCode": code}, separators=(",", ":"))


class Seq:
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


def sub(seq: Seq, at: datetime, sub: str, ok: bool = True) -> datetime:
    at = seq.add(at, SUB + "Started", f"BootstrapStatus: Starting subcategory {sub}...")
    at = seq.step(at, 0.2, 4)
    if ok:
        at = seq.add(
            at,
            SUB + "Success",
            f"BootstrapStatus: Subcategory ID = {sub}; state = succeeded.",
        )
    return at


def _noise(seq: Seq, plan: Plan, t0: datetime) -> None:
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


def run_start(seq: Seq, at: datetime, category: str) -> datetime:
    """A run of the page's categories: the timeout applied, then the first start."""
    seq.add(
        at - timedelta(seconds=seq.rng.uniform(0.2, 0.9)),
        "CommercialOOBE_ESPProgress_ESPTimeOutValue_Applied",
        "BootstrapStatus: Applying the ESP Timeout value: 60 minutes.",
    )
    return seq.add(
        at, CAT + "Started", f"BootstrapStatus: Starting category {category}..."
    )


def preparation_begin(seq: Seq, at: datetime) -> datetime:
    """Device preparation up to the wait for the policy providers."""
    at = sub(seq, seq.step(at), "DevicePreparation.TpmAttestationSubcategory")
    at = seq.add(
        seq.step(at),
        "CommercialOOBE_ESPDevicePreparation_TPMAttestation_NotRequiredForScenario",
        "BootstrapStatus: TPM attestation is not required for this scenario.",
    )
    at = sub(seq, seq.step(at), "DevicePreparation.AadjSubcategory")
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
    at = sub(seq, seq.step(at), "DevicePreparation.MdmEnrollmentSubcategory")
    return provider_wait(seq, at)


def provider_wait(seq: Seq, at: datetime) -> datetime:
    """The policy-provider subcategory starts waiting."""
    at = seq.add(
        seq.step(at),
        SUB + "Started",
        f"BootstrapStatus: Starting subcategory {PROVIDERS}...",
    )
    return seq.add(
        seq.step(at),
        PP + "Started",
        "BootstrapStatus: Waiting for policy providers to install "
        "a list of policies...",
    )


def preparation_success(seq: Seq, plan: Plan) -> datetime:
    """The providers' wait returns, Device preparation succeeds."""
    assert plan.ds_start is not None
    done = plan.ds_start - timedelta(seconds=seq.rng.uniform(3, 8))
    at = seq.add(
        done - timedelta(seconds=2),
        PP + "Complete",
        "BootstrapStatus: waitForPolicyProviderInstallationToComplete "
        "returned, processing results...",
    )
    at = seq.add(
        seq.step(at, 0.01, 0.3),
        PP + "Succeeded",
        "BootstrapStatus: All policy providers have successfully "
        "installed a list of policies.",
    )
    at = seq.add(
        seq.step(at, 0.01, 0.3),
        SUB + "Success",
        f"BootstrapStatus: Subcategory ID = {PROVIDERS}; state = succeeded.",
    )
    at = sub(seq, seq.step(at), "DevicePreparation.InitiateSyncSessions")
    at = sub(seq, seq.step(at), "DevicePreparation.SetContinueAnywayButtonVisibility")
    return seq.add(
        seq.step(at, 0.01, 0.5),
        CAT + "Success",
        "BootstrapStatus: Category DevicePreparationCategory succeeded.",
    )


def device_setup_begin(seq: Seq, plan: Plan) -> datetime:
    """Device setup: its three monitors succeed, the apps monitor starts."""
    assert plan.ds_start is not None
    at = seq.add(
        plan.ds_start,
        CAT + "Started",
        "BootstrapStatus: Starting category DeviceSetupCategory...",
    )
    for sub2, fam in (
        ("SecurityPoliciesSubcategory", "Policies"),
        ("CertificatesSubcategory", "Certificates"),
        ("NetworkConnectionsSubcategory", "NetworkProfiles"),
    ):
        at = seq.add(
            seq.step(at),
            SUB + "Started",
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
            SUB + "Success",
            f"BootstrapStatus: Subcategory ID = DeviceSetup.{sub2}; state = succeeded.",
        )
    at = seq.add(
        seq.step(at),
        SUB + "Started",
        f"BootstrapStatus: Starting subcategory {APPS}...",
    )
    return seq.add(
        seq.step(at),
        "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Started",
        "BootstrapStatus: Beginning apps installation tracking.",
    )


def apps_success(seq: Seq, plan: Plan) -> datetime:
    """Apps tracked to the end (a coalesced reboot on the way), Device setup done."""
    assert plan.ds_end is not None
    at = seq.add(
        plan.ds_end - timedelta(seconds=seq.rng.uniform(20, 28)),
        "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Succeeded",
        "BootstrapStatus: Apps installation tracking succeeded.",
    )
    at = seq.add(
        seq.step(at),
        SUB + "Success",
        f"BootstrapStatus: Subcategory ID = {APPS}; state = succeeded.",
    )
    if plan.coalesced_reboot:
        at = coalesced_reboot(seq, at)
    at = sub(seq, seq.step(at), "DeviceSetup.RebootCoalescing")
    at = sub(seq, seq.step(at), "DeviceSetup.SendResultsToMdmServer")
    at = seq.add(
        seq.step(at),
        CAT + "Success",
        "BootstrapStatus: Category DeviceSetupCategory succeeded.",
    )
    return seq.add(
        seq.step(at),
        "CommercialOOBE_ESPProgress_Page_Exiting",
        "BootstrapStatus: Exiting page normally.",
    )


def account_setup(seq: Seq, plan: Plan, at: datetime) -> datetime:
    """The user ESP page: Account setup, its success or its apps' failure."""
    at = seq.add(
        seq.step(at, 30, 120),
        CAT + "Started",
        "BootstrapStatus: Starting category AccountSetupCategory...",
    )
    at = sub(seq, seq.step(at), "AccountSetup.WaitingForAadRegistrationSubcategory")
    if plan.failure_phase == "AccountSetup":
        return esp_paths.account_apps_failure(seq, plan, at)
    at = sub(seq, seq.step(at, 5, 60), "AccountSetup.AppsSubcategory")
    at = seq.add(
        seq.step(at),
        CAT + "Success",
        "BootstrapStatus: Category AccountSetupCategory succeeded.",
    )
    return seq.add(
        seq.step(at),
        "CommercialOOBE_ESPProgress_Page_Exiting",
        "BootstrapStatus: Exiting page normally.",
    )


def esp_events(plan: Plan, rng: random.Random) -> list[Event]:
    """Every 62407 event (UTC instant, Name, Value) of the attempt, in order."""
    seq = Seq(rng)
    _noise(seq, plan, plan.started_at)
    if plan.pre_esp_events:  # a failure before the ESP: no ESP page at all
        for at, name, value in plan.pre_esp_events:
            seq.raw(at, name, value)
        return seq.events
    at = run_start(seq, plan.started_at, "DevicePreparationCategory")
    assert seq.events[-1][0] == plan.started_at, "noise must end before the ESP"
    at = preparation_begin(seq, at)
    if plan.failure_phase == "DevicePreparation":
        at = esp_paths.preparation_failure(seq, plan)
        if plan.tried_again_at is None:
            esp_paths.error_page(seq, plan, at)
            return seq.events
        esp_paths.try_again(seq, plan, at)
    at = preparation_success(seq, plan)
    at = device_setup_begin(seq, plan)
    if plan.failure_phase == "DeviceSetup":
        at = esp_paths.apps_failure(seq, plan)
        if plan.continued_at is None:
            esp_paths.error_page(seq, plan, at)
            return seq.events
        at = esp_paths.continue_anyway(seq, plan, at)
    else:
        at = apps_success(seq, plan)
    account_setup(seq, plan, at)
    return seq.events


def coalesced_reboot(seq: Seq, at: datetime) -> datetime:
    """RebootCoalescing returns rebootRequiredAndTryAgain (logged _Failed, not a
    failure); the page comes back and Device setup runs again (formats.md §3.3.6)."""
    reboot = "DeviceSetup.RebootCoalescing"
    at = seq.add(
        seq.step(at),
        SUB + "Started",
        f"BootstrapStatus: Starting subcategory {reboot}...",
    )
    at = seq.add(
        seq.step(at),
        "CommercialOOBE_ESPDeviceSetup_RebootCoalescing_Required",
        "BootstrapStatus: Coalesced reboot required.",
    )
    at = seq.add(
        seq.step(at),
        SUB + "Failed",
        f"BootstrapStatus: Subcategory ID = {reboot}; "
        "state = rebootRequiredAndTryAgain.",
    )
    at = seq.add(
        seq.step(at),
        f"CommercialOOBE_ESP_Subcategory_RebootRequiredBySubcategory_{reboot}",
        f"BootstrapStatus: Subcategory {reboot} requires a reboot.",
    )
    at = seq.add(
        seq.step(at),
        "CommercialOOBE_BootstrapStatusCategory_RebootCoalescing_Initiated",
        "BootstrapStatus: Batch of 1 subcategories requires a reboot.",
    )
    at = seq.add(
        seq.step(at, 60, 150),
        "CommercialOOBE_ESPProgress_Initialization_ResumingAfterReboot",
        "BootstrapStatus: The page is resuming after a reboot.",
    )
    return run_start(seq, seq.step(at, 2, 8), "DeviceSetupCategory")


__all__ = ["TIMEOUT", "Event", "commercial_value", "esp_events"]
