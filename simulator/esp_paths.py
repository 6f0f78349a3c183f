"""The ESP's failure paths and the user's choices (docs/formats.md §3.3.2-§3.3.6).

What a page writes when a phase fails, its error page, and what Try again and
Continue anyway log next; `esp_timeline` strings them into the attempt's
sequence. Messages follow Windows' CloudExperienceHost templates.
"""

from __future__ import annotations

from datetime import datetime

from . import esp_timeline as tl
from .scenarios import Plan


def preparation_failure(seq: tl.Seq, plan: Plan) -> datetime:
    """The policy providers' wait times out (or fails): Device preparation fails."""
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
        plan.failure_at, plan.failure_name, msg, code, signed=plan.failure_code_signed
    )
    assert fat == plan.failure_at
    at = seq.add(
        seq.step(fat),
        tl.SUB + "Failed",
        f"BootstrapStatus: Subcategory ID = {tl.PROVIDERS}; state = failed.",
        code,
    )
    return seq.add(
        seq.step(at),
        tl.CAT + "Failed",
        "BootstrapStatus: Category DevicePreparationCategory failed.",
        code,
    )


def apps_failure(seq: tl.Seq, plan: Plan) -> datetime:
    """The apps monitor fails (a step, a Win32 app, the timeout): Device setup fails."""
    assert plan.failure_at is not None
    code = plan.failure_code
    if plan.monitor_failed_at is not None:  # free text: the Name is the text
        seq.raw(
            plan.monitor_failed_at,
            "BootstrapStatus: Monitoring apps from management server failed. "
            "Expected 4 items provisioned, but got only 3.",
            '{"message":"","errorCode":0}',
        )
    fat = seq.add(
        plan.failure_at,
        plan.failure_name,
        f"BootstrapStatus: Subcategory ID = {tl.APPS}; state = failed.",
        code,
    )
    assert fat == plan.failure_at
    return seq.add(
        seq.step(fat),
        tl.CAT + "Failed",
        "BootstrapStatus: Category DeviceSetupCategory failed.",
        code,
    )


def account_apps_failure(seq: tl.Seq, plan: Plan, at: datetime) -> datetime:
    """An app of Account setup fails: the monitor's error, then the category."""
    assert plan.failure_at is not None
    code = plan.failure_code
    apps = "AccountSetup.AppsSubcategory"
    at = seq.add(
        seq.step(at),
        tl.SUB + "Started",
        f"BootstrapStatus: Starting subcategory {apps}...",
    )
    fat = seq.add(
        plan.failure_at,
        plan.failure_name,
        "BootstrapStatus: An error occured during app installation. "
        f"Error = 0x{code:08x}",
        code,
    )
    assert fat == plan.failure_at
    at = seq.add(
        seq.step(fat),
        tl.SUB + "Failed",
        f"BootstrapStatus: Subcategory ID = {apps}; state = failed.",
    )
    at = seq.add(
        seq.step(at),
        tl.CAT + "Failed",
        "BootstrapStatus: Category AccountSetupCategory failed.",
    )
    error_page(seq, plan, at)
    return seq.events[-1][0]


def _error_buttons(seq: tl.Seq, at: datetime) -> datetime:
    return seq.add(
        seq.step(at, 1, 3),
        "CommercialOOBE_ESPProgress_ErrorButtons_Displayed",
        "BootstrapStatus: Displaying error buttons, visibility bitmask = 0x6.",
    )


def error_page(seq: tl.Seq, plan: Plan, at: datetime) -> None:
    """What follows a failure: the error page, log collection by the user."""
    if plan.whiteglove:  # the pre-provisioning result page, not the error page
        at = seq.add(
            seq.step(at, 5, 6),
            "CommercialOOBE_ESPProgress_WhiteGlove_Failed",
            "BootstrapStatus: Exiting page due to White Glove failure.",
        )
        seq.add(
            seq.step(at),
            "CommercialOOBE_ESP_RebootResumption_Unset",
            "",  # logInfoEventName: the name alone
        )
        return
    at = seq.step(at, 30, 240)
    seq.add(
        at,
        "CommercialOOBE_ESPProgress_CollectLogs_Started",
        "BootstrapStatus: Collecting logs.",
    )


def try_again(seq: tl.Seq, plan: Plan, at: datetime) -> datetime:
    """Try again: a new run of the page's categories, the providers waited for again."""
    assert plan.tried_again_at is not None and plan.retry_start is not None
    _error_buttons(seq, at)
    seq.add(
        plan.tried_again_at,
        "CommercialOOBE_ESPProgress_TryAgain_Started",
        "BootstrapStatus: Try again selected.",
    )
    at = tl.run_start(seq, plan.retry_start, "DevicePreparationCategory")
    return tl.provider_wait(seq, at)


def continue_anyway(seq: tl.Seq, plan: Plan, at: datetime) -> datetime:
    """Continue anyway: the page exits without Page_Exiting; the user page loads."""
    assert plan.continued_at is not None
    _error_buttons(seq, at)
    at = seq.add(
        plan.continued_at,
        "CommercialOOBE_ESPProgress_ContinueAnyway_Started",
        "BootstrapStatus: Continue anyway selected.",
    )
    at = seq.add(
        seq.step(at, 30, 90),
        "CommercialOOBE_ESPProgress_Initialization_ResumingAfterReboot",
        "BootstrapStatus: The page is resuming after a reboot.",
    )
    return seq.add(
        seq.step(at, 0.2, 1),
        "CommercialOOBE_ESPProgress_ESPTimeOutValue_Applied",
        "BootstrapStatus: Applying the ESP Timeout value: 60 minutes.",
    )
