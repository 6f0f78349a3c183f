"""AutopilotDDSZTDFile.json (the downloaded Autopilot profile) -> `esp_tracking`.

``%WINDIR%\\ServiceState\\wmansvc\\AutopilotDDSZTDFile.json`` is UTF-16LE with a
BOM and one line (docs/formats.md §9.5). Three shapes are seen: the full profile
(``CloudAssignedTenantId``, ``DeploymentProfileName``, ...), an error
(``{"ErrorCode":908,"ErrorReason":"HardwareMarkerMismatch, ..."}``) and date
only (``{"PolicyDownloadDate":"..."}``). Every top-level field becomes one row of
kind ``autopilot_profile``; ``ErrorCode`` is decoded with the DDS/ZTD meanings
of docs/formats.md §6.6, and known profile fields with `derivers.scales`.

How the file fills `schema.ESP_TRACKING`:
    kind (string): always ``autopilot_profile``.
    key_path (string): the member name (``AutopilotDDSZTDFile.json``).
    item (string): ``AutopilotDDSZTDFile``.
    setting (string): the JSON field name.
    value_int (int64): integers and booleans (true = 1).
    value_text (string): strings as they are; objects/arrays as compact JSON;
        numbers and booleans also as text.
    state (string): decoded meaning (``entra_joined``, ``ZtdDeviceIsNotRegistered``).
    scale (string): which scale decoded it (``domain_join_method``, ``dds``, ...).
    snapshot_at (timestamp[us, UTC]): ``PolicyDownloadDate``, on every row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from . import schema
from .base import ParseContext, Parser, ParseResult, ParseWarning
from .columns import fits
from .derivers.scales import profile_state
from .textdecode import decode, decode_head, loss_warning

SCHEMA = schema.ESP_TRACKING

MEMBER_NAME = "AutopilotDDSZTDFile.json"
_MARKERS = (
    '"ZtdRegistrationId"',
    '"CloudAssignedTenantId"',
    '"PolicyDownloadDate"',
    '"CloudAssignedOobeConfig"',
    '"ErrorReason"',
    '"DeploymentProfileName"',
)


def sniff(head: bytes, name: str = "") -> bool:
    """A JSON object carrying one of the profile's own field names."""
    text = decode_head(head[:65536]).text.lstrip("\ufeff \t\r\n")
    if not text.startswith("{"):
        return False
    if name.lower().endswith(MEMBER_NAME.lower()):
        return True
    return any(marker in text for marker in _MARKERS)


def _timestamp(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def profile_rows(
    obj: dict, key_path: str, item: str
) -> tuple[list[dict], list[ParseWarning]]:
    """One `esp_tracking` row (as a dict) per top-level field of a profile object.

    Used for the JSON file and for the registry's ``PolicyJsonCache`` value.

    Args:
        obj: the decoded JSON object.
        key_path: where it came from (file name or registry key).
        item: the `item` column value.

    Returns:
        Rows and warnings (none today; kept for symmetry with parsers).
    """
    when = _timestamp(obj.get("PolicyDownloadDate"))
    rows = []
    for setting, value in obj.items():
        num: int | None = None
        if isinstance(value, bool):
            num, text = int(value), str(value).lower()
        elif isinstance(value, int):
            num = fits(value, pa.int64())
            text = str(value)
        elif isinstance(value, str):
            text = value
        elif value is None:
            text = None
        else:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        state, scale = profile_state(setting, num)
        rows.append(
            {
                "kind": "autopilot_profile",
                "key_path": key_path,
                "item": item,
                "setting": setting,
                "value_int": num,
                "value_text": text,
                "state": state,
                "scale": scale,
                "snapshot_at": when,
            }
        )
    return rows, []


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """Parse AutopilotDDSZTDFile.json into `esp_tracking` rows.

    Args:
        data: the whole file (UTF-16LE with BOM in practice; any encoding sniffed).
        context: its member name becomes `key_path`.

    Returns:
        One row per top-level field; a warning and no rows for bad JSON.
    """
    name = (context.member_name if context else "") or MEMBER_NAME
    decoded = decode(data)
    loss = [ParseWarning.at(None, w)] if (w := loss_warning(decoded)) else []
    text = decoded.text.strip("\ufeff \t\r\n\x00")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        warning = ParseWarning.at(1, f"not JSON: {exc.msg}", text)
        return ParseResult(schema.empty(SCHEMA), [*loss, warning], 1)
    if not isinstance(obj, dict):
        warning = ParseWarning.at(1, "JSON is not an object", text)
        return ParseResult(schema.empty(SCHEMA), [*loss, warning], 1)
    rows, warnings = profile_rows(obj, name, MEMBER_NAME.removesuffix(".json"))
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    return ParseResult(table, [*loss, *warnings], 0)


PARSER = Parser(
    name="autopilotjson",
    description="AutopilotDDSZTDFile.json: downloaded Autopilot profile or DDS error",
    table="esp_tracking",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
)
