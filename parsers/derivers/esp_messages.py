"""The grammar of the ESP's BootstrapStatus messages (docs/formats.md §3.3):
the category and subcategory a message names and the ``state = X`` it reports,
read the same way from a ``CommercialOOBE_*`` event's message and from a
free-text Name."""

from __future__ import annotations

import re

from .. import errorcodes

PHASES = ("DevicePreparation", "DeviceSetup", "AccountSetup")
# `state = X` strings of Windows' ESP JavaScript (docs/formats.md §3.3).
STATES = {
    "notstarted": "not_started",
    "inprogress": "in_progress",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "failedfromprevioussubcategory": "failed_from_previous",
    "failedfrompreviouscategory": "failed_from_previous",
    "rebootrequiredandtryagain": "reboot_required",
}
SUBCATEGORY = re.compile(
    r"(?:Subcategory ID = |Starting subcategory )(\w+)\.(\w+)", re.IGNORECASE
)
CATEGORY = re.compile(
    r"(?:Starting category |Category )(DevicePreparation|DeviceSetup|AccountSetup)"
    r"Category(?:\.\.\.| (succeeded|failed))?",
    re.IGNORECASE,
)
STATE = re.compile(r"\bstate = (\w+)", re.IGNORECASE)


def canon_phase(text: str) -> str | None:
    """``devicesetup`` -> ``DeviceSetup``; None for anything else."""
    for phase in PHASES:
        if text.lower() == phase.lower():
            return phase
    return None


def esp_row(
    area: str | None,
    phase: str | None,
    subcategory: str | None,
    outcome: str | None,
    code: int | None,
    message: str | None,
    known: bool,
    meaning: str,
) -> dict:
    """One `esp_events` row's reading of a message (outcome "info" when none)."""
    return {
        "area": area,
        "phase": phase,
        "subcategory": subcategory,
        "outcome": outcome or "info",
        "error_code": code,
        "error_code_hex": errorcodes.to_hex(code),
        "message": message,
        "is_known_name": known,
        "meaning": meaning,
    }
