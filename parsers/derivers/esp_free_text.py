"""ESP progress logged as free text: the 62407 Name is ``BootstrapStatus: ...``.

Builds that log through ``sessionUtilities.logInfoEvent("BootstrapStatus: ...")``
with one argument put the text in the Name and write the Value
``{"message":"","errorCode":0}`` (docs/formats.md §3.3.10). `classify_free_text`
gives such a Name the `ESP_EVENTS` fields the ``CommercialOOBE_*`` name of the
same emitter call would have, so the facts read both forms alike.
"""

from __future__ import annotations

import re

from ..events.codes import message_error_code, value_error_code
from .esp_messages import CATEGORY, STATE, STATES, SUBCATEGORY, canon_phase, esp_row

FREE_TEXT_PREFIX = "BootstrapStatus: "
# Free-text Name -> (area, subcategory, outcome, phase): the same fields the
# CommercialOOBE_ name of the same emitter call gives (formats.md §3.3.10).
_FREE_TEXT = [
    (re.compile(p), area, sub, outcome, phase)
    for p, area, sub, outcome, phase in (
        (r"^Starting category \w+Category\.\.\.", "ESPProgress", None, "started", None),
        (
            r"^Category \w+Category (?:succeeded|failed)\.",
            "ESPProgress",
            None,
            None,
            None,
        ),
        (r"^Starting subcategory ", "BootstrapStatusCategory", None, "started", None),
        (r"^Subcategory ID = ", "BootstrapStatusCategory", None, None, None),
        (r"^Try Again button selected", "ESPProgress", "TryAgain", "started", None),
        (
            r"^Continue button selected",
            "ESPProgress",
            "ContinueAnyway",
            "started",
            None,
        ),
        (
            r"^Reset button selected",
            "ESPProgress",
            "DeviceResetInitiation",
            "started",
            None,
        ),
        (
            r"^The page is resuming after a reboot\.",
            "ESPProgress",
            "Initialization",
            "page_loaded",
            None,
        ),
        (
            r"^Applying the ESP Timeout value: ",
            "ESPProgress",
            "ESPTimeOutValue",
            "started",
            None,
        ),
        (r"^Exiting page normally\.", "ESPProgress", "Page", "exiting", None),
        (
            r"^Exiting page due to White Glove success\.",
            "ESPProgress",
            "WhiteGlove",
            "succeeded",
            None,
        ),
        (
            r"^Exiting page due to White Glove failure\.",
            "ESPProgress",
            "WhiteGlove",
            "failed",
            None,
        ),
        (
            r"^TPM attestation timed out\.",
            "ESPDevicePreparation",
            "TPMAttestation",
            "timed_out",
            "DevicePreparation",
        ),
    )
]
# "Monitoring apps from management server failed. Expected 5 items
# provisioned, but got only 3." and "An error occured during app installation.
# Error = 0x80070643" (mdmbootstrapsessionutilities.js): the monitor's failure
_MONITORED = {
    "policies": "PoliciesInstallation",
    "policy application": "PoliciesInstallation",
    "network profiles": "NetworkProfilesInstallation",
    "network profile application": "NetworkProfilesInstallation",
    "apps": "ApplicationsInstallation",
    "app installation": "ApplicationsInstallation",
    "certificates": "CertificatesInstallation",
    "certificate installation": "CertificatesInstallation",
}
_MONITOR_FAILED = re.compile(
    r"^(?:Monitoring (.+?) from management server failed\."
    r"|An error occured during (.+?)\. Error = )"
)
# page-level results written after the category that failed: their phase is
# the last phase the run named (filled in by `derive_esp_events`)
PHASE_FROM_CONTEXT = {"WhiteGlove", *_MONITORED.values()}


def classify_free_text(name: str, value: str | None) -> dict:
    """A free-text ``BootstrapStatus: ...`` Name -> the `ESP_EVENTS` fields.

    The text is the message; its code is the Value's, else the one the text
    states (``Error = 0x80070643``).
    """
    text = name[len(FREE_TEXT_PREFIX) :]
    area, subcategory, outcome, phase = "BootstrapStatus", None, None, None
    for pattern, r_area, r_sub, r_outcome, r_phase in _FREE_TEXT:
        if pattern.match(text):
            area, subcategory, outcome, phase = r_area, r_sub, r_outcome, r_phase
            break
    else:
        m = _MONITOR_FAILED.match(text)
        if m:
            subcategory = _MONITORED.get((m[1] or m[2]).lower())
            area, outcome = "ESPMonitoring", "failed"
    sub_m = SUBCATEGORY.search(text)
    if sub_m:
        phase = canon_phase(sub_m.group(1))
        subcategory = sub_m.group(2)
    cat_m = CATEGORY.search(text)
    if cat_m:
        phase = canon_phase(cat_m.group(1))
        outcome = cat_m.group(2).lower() if cat_m.group(2) else outcome
    state_m = STATE.search(text)
    if state_m:
        outcome = STATES.get(state_m.group(1).lower(), state_m.group(1).lower())
    code = value_error_code(name, value) or message_error_code(text)
    described = (area, subcategory, outcome)
    meaning = "free-text ESP progress: " + " ".join(p for p in described if p)
    return esp_row(area, phase, subcategory, outcome, code, name, False, meaning)
