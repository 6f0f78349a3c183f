"""Decoded meanings of the event channels used in diagnosis.

The meanings are data (`data/event_meanings.csv`: channel, event id or ``*``,
highest level it applies to, meaning, source), written from docs/formats.md
§3.1, §3.4 and §3.5. Shell-Core 62407 events whose Name is a known
``CommercialOOBE_*`` name (`data/esp_names.csv`) get that name's exact meaning
instead.

Bursts of one event kind (floods) are found in SQL, by the
``sql/reports/event_floods.sql`` view.
"""

from __future__ import annotations

import csv
from functools import cache, lru_cache
from pathlib import Path

DATA = Path(__file__).parents[1] / "data"

# Older builds and text renderings name the same source differently.
CHANNEL_ALIASES = {
    # before 1903 the Autopilot channel lived under Provisioning (docs/formats.md §3.4)
    "microsoft-windows-provisioning-diagnostics-provider/autopilot": (
        "microsoft-windows-moderndeployment-diagnostics-provider/autopilot"
    ),
}

# Provider -> the channel its diagnosis events live in, for sources without a
# channel (the `[ETW] [Provider] [Level] - message` rendering).
PROVIDER_CHANNELS = {
    "microsoft-windows-shell-core": "Microsoft-Windows-Shell-Core/Operational",
    "microsoft-windows-moderndeployment-diagnostics-provider": (
        "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot"
    ),
    "microsoft-windows-devicemanagement-enterprise-diagnostics-provider": (
        "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
    ),
    "microsoft-windows-user device registration": (
        "Microsoft-Windows-User Device Registration/Admin"
    ),
    "microsoft-windows-aad": "Microsoft-Windows-AAD/Operational",
}


@cache
def meanings() -> dict[tuple[str, int | None], tuple[int | None, str]]:
    """The meaning table: (lower-case channel, event id or None for ``*``) ->
    (highest level it applies to or None, meaning)."""
    table: dict[tuple[str, int | None], tuple[int | None, str]] = {}
    with open(DATA / "event_meanings.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            eid = None if row["event_id"] == "*" else int(row["event_id"])
            max_level = int(row["max_level"]) if row["max_level"] else None
            table[(row["channel"].lower(), eid)] = (max_level, row["meaning"])
    return table


@cache
def esp_names() -> dict[str, dict[str, str]]:
    """Known ``CommercialOOBE_*`` names (`data/esp_names.csv`) keyed by name."""
    with open(DATA / "esp_names.csv", newline="", encoding="utf-8") as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def channel_for(channel: str | None, provider: str | None) -> str | None:
    """The canonical lower-case channel key of an event (alias or provider map)."""
    if channel:
        key = channel.lower()
        return CHANNEL_ALIASES.get(key, key)
    if provider:
        mapped = PROVIDER_CHANNELS.get(provider.lower())
        return mapped.lower() if mapped else None
    return None


@lru_cache(maxsize=8192)
def meaning_of(
    channel: str | None,
    provider: str | None,
    event_id: int | None,
    level: int | None = None,
    name: str | None = None,
) -> str | None:
    """Decoded meaning of one event, or None when nothing is known.

    Args:
        channel: event channel (``Microsoft-Windows-AAD/Operational``), any case.
        provider: provider name, used when the channel is unknown.
        event_id: the event id.
        level: event level (1 critical .. 5 verbose); some entries only apply
            at or below a level (AAD errors).
        name: the 62407 Name, looked up in the known ESP names first.

    Returns:
        The meaning text, or None.
    """
    if name and event_id == 62407:
        known = esp_names().get(name)
        if known:
            return known["meaning"]
    key = channel_for(channel, provider)
    if key is None:
        return None
    table = meanings()
    for eid in (event_id, None):
        hit = table.get((key, eid))
        if hit is None:
            continue
        max_level, meaning = hit
        if max_level is None or (level is not None and 0 < level <= max_level):
            return meaning
    return None
