"""ESP progress derived from Shell-Core 62407 ``CommercialOOBE_*`` events, and
from the free-text ``BootstrapStatus: ...`` Names of builds that log progress as
text (`classify_free_text`, docs/formats.md §3.3.10).

Names follow ``CommercialOOBE_<Area>_<Thing>_<Outcome>`` but vary by Windows
build (docs/formats.md §3.3), so they are split generically and the known-names table
(`data/esp_names.csv`) only adds the exact meaning (and overrides a field where
the generic split would mislead). The Value is JSON
``{"message": ..., "errorCode": N}`` (extra keys allowed) or plain text; its
error code is decided where the `events` table's is,
`events.codes.value_error_code`, so both tables carry the same code.

Phase and subcategory also come from the message: ``BootstrapStatus:
Subcategory ID = DeviceSetup.AppsSubcategory; state = failed.``, ``Starting
subcategory X.Y...``, ``Starting category DevicePreparationCategory...``,
``Category DeviceSetupCategory succeeded.``; a ``state = X`` message decides
the outcome. ``Page_Exiting`` gives outcome ``exiting`` and
``RebootCoalescing_Required`` gives ``required``: neither is by itself success
or a reboot. Read from the emitters (docs/formats.md §3.3.1-§3.3.6): a
``SubcategoryProcessing_Failed`` whose state is ``rebootRequiredAndTryAgain``
is ``reboot_required``, not a failure; ``..._Complete`` is ``info`` (a wait
returned); ``..._Incomplete`` is ``incomplete`` (a failure with errorCode 0);
``Initialization_ResumingAfterReboot`` is ``page_loaded`` (every page load);
``AadRegistrationTask_Complete`` with a non-zero errorCode is ``failed``.

Where each column comes from (`schema.ESP_EVENTS` declares what it means):
    record_id, ts_utc: from the event.
    name: the 62407 Name.
    area: ESPProgress, ESPDevicePreparation, ESPDeviceSetup, ESPAccountSetup,
        BootstrapStatusCategory, AutopilotRegion, WhiteGlove, ...
    phase: DevicePreparation | DeviceSetup | AccountSetup, or null.
    subcategory: AppsSubcategory, PolicyProvidersInstallation, TPMAttestation...
    outcome: started, succeeded, failed, timed_out, skipped, incomplete,
        not_required, required, exiting, page_loaded, cancelled, reboot_required,
        in_progress, not_started, info, ...
    error_code, error_code_hex: the Value's code as `events.codes.value_error_code`
        decides it (the same function fills `events`); 0 means none (null).
    message: the JSON message, or the raw Value when it is not JSON.
    is_known_name: the name is in the known-names table.
    meaning: the table's meaning, else a generic one built from the parts.
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..events.channels import esp_names
from ..events.codes import value_error_code, value_object
from .esp_free_text import FREE_TEXT_PREFIX, PHASE_FROM_CONTEXT, classify_free_text
from .esp_messages import (
    CATEGORY,
    PHASES,
    STATE,
    STATES,
    SUBCATEGORY,
    canon_phase,
    esp_row,
)

PREFIX = "CommercialOOBE_"

# Last name token -> outcome. Longest suffixes are matched first.
OUTCOMES = {
    "Started": "started",
    "Start": "started",
    "Success": "succeeded",
    "Succeeded": "succeeded",
    "Successful": "succeeded",
    # `_Complete` is written when a wait returns, whatever its result: the
    # event after it decides (docs/formats.md §3.3.3).
    "Complete": "info",
    "Completed": "succeeded",
    "Done": "succeeded",
    "Failed": "failed",
    "Failure": "failed",
    "Error": "failed",
    "TimedOut": "timed_out",
    "Timeout": "timed_out",
    "Skipped": "skipped",
    "Incomplete": "incomplete",
    "NotRequiredForScenario": "not_required",
    "NotRequired": "not_required",
    "Required": "required",
    "Exiting": "exiting",
    # written at every page load, the first one too (docs/formats.md §3.3.6)
    "ResumingAfterReboot": "page_loaded",
    "Resuming": "resuming",
    "Cancelled": "cancelled",
    "Canceled": "cancelled",
    "Unavailable": "unavailable",
    "Available": "available",
}
_SUFFIXES = sorted(OUTCOMES, key=len, reverse=True)


@lru_cache(maxsize=4096)
def split_name(name: str) -> tuple[str, str | None, str | None]:
    """``CommercialOOBE_<Area>_<Thing>_<Outcome>`` -> (area, thing, outcome).

    The outcome may be glued to the last token (``WhiteGloveError``,
    ``ESPTimeOutValueRetrieved``): a known suffix is split off when present.
    Cached: a device logs a few hundred distinct names many times over.
    """
    parts = name[len(PREFIX) :].split("_") if name.startswith(PREFIX) else [name]
    area = parts[0]
    rest = parts[1:]
    outcome = None
    if rest:
        last = rest[-1]
        for suffix in _SUFFIXES:
            if last.endswith(suffix):
                outcome = OUTCOMES[suffix]
                stem = last[: -len(suffix)]
                rest = rest[:-1] + ([stem] if stem else [])
                break
    thing = "_".join(rest) or None
    return area, thing, outcome


def phase_of_area(area: str) -> str | None:
    """``ESPDeviceSetup`` / ``DeviceSetup`` -> ``DeviceSetup``."""
    for phase in PHASES:
        if area in (phase, "ESP" + phase):
            return phase
    return None


def value_message(value: str | None) -> str | None:
    """The Value's text the other fields are read from: its JSON ``message``
    when that is text, else the whole Value."""
    obj = value_object(value)
    message = obj.get("message") if obj is not None else None
    return message if isinstance(message, str) else value


def classify(name: str, value: str | None) -> dict:
    """One ``CommercialOOBE_*`` event -> the `ESP_EVENTS` fields it determines.

    Args:
        name: the 62407 Name.
        value: the 62407 Value (JSON or text), may be None.

    Returns:
        area, phase, subcategory, outcome, error_code, error_code_hex, message,
        is_known_name and meaning.
    """
    area, thing, outcome = split_name(name)
    phase = phase_of_area(area)
    subcategory = thing
    message = value_message(value)
    code = value_error_code(name, value)
    text = message or ""
    sub_m = SUBCATEGORY.search(text)
    if sub_m:
        phase = phase or canon_phase(sub_m.group(1))
        subcategory = sub_m.group(2)
    cat_m = CATEGORY.search(text)
    if cat_m:
        phase = phase or canon_phase(cat_m.group(1))
        if not sub_m:  # a category-level event has no subcategory
            subcategory = None
        if cat_m.group(2):
            outcome = cat_m.group(2).lower()
    state_m = STATE.search(text)
    if state_m:
        outcome = STATES.get(state_m.group(1).lower(), state_m.group(1).lower())
    known = esp_names().get(name)
    if known:
        # the message is more specific than the table for what it states
        area = known["area"] or area
        phase = phase or known["phase"] or None
        if not (sub_m or cat_m):
            subcategory = known["subcategory"] or subcategory
        if not (state_m or (cat_m and cat_m.group(2))):
            outcome = known["outcome"] or outcome
        meaning = known["meaning"]
        if name.endswith("_AadRegistrationTask_Complete") and code:
            outcome = "failed"  # the task's HRESULT: 0 = registered (§3.3.3)
    else:
        described = (area, thing and thing.replace("_", " "), outcome)
        meaning = " ".join(p for p in described if p)
    return esp_row(
        area, phase, subcategory, outcome, code, message, known is not None, meaning
    )


def derive_esp_events(events: pa.Table) -> pa.Table:
    """`esp_events` rows from an `events` table (any source format).

    Args:
        events: a table with the `schema.EVENTS` columns.

    Returns:
        One `schema.ESP_EVENTS` row per 62407 event whose Name starts with
        ``CommercialOOBE_``, in input order.
    """
    names = events.column("name")
    mask = pc.fill_null(
        pc.or_(pc.starts_with(names, PREFIX), pc.starts_with(names, FREE_TEXT_PREFIX)),
        False,
    )
    picked = events.filter(mask)
    cols: dict[str, list] = {f.name: [] for f in schema.ESP_EVENTS}
    last_phase = None  # the phase the run last named, for page-level results
    for rid, ts, name, value in zip(
        picked.column("record_id").to_pylist(),
        picked.column("ts_utc").to_pylist(),
        picked.column("name").to_pylist(),
        picked.column("value").to_pylist(),
        strict=True,
    ):
        if name.startswith(FREE_TEXT_PREFIX):
            fields = classify_free_text(name, value)
        else:
            fields = classify(name, value)
        if fields["phase"]:
            last_phase = fields["phase"]
        elif (
            fields["subcategory"] in PHASE_FROM_CONTEXT
            and fields["outcome"] in ("failed", "timed_out")
            and last_phase
        ):
            fields["phase"] = last_phase
        if fields["area"] == "ESPMonitoring":
            fields["area"] = "ESP" + (fields["phase"] or "Progress")
        fields.update(record_id=rid, ts_utc=ts, name=name)
        for key, col in cols.items():
            col.append(fields[key])
    return pa.table(
        [pa.array(cols[f.name], f.type) for f in schema.ESP_EVENTS],
        schema=schema.ESP_EVENTS,
    )


TABLES = ("esp_events",)


def derive(events: pa.Table) -> dict[str, pa.Table]:
    """The `Derivation` entry point: one member's events -> its ESP events."""
    return {"esp_events": derive_esp_events(events)}
