"""ESP tracking facts derived from `registry_values` -> `esp_tracking`.

Not a file parser: `derive_esp_tracking` reads a registry table (any dialect)
and decodes each value with the scale that belongs to its key (docs/formats.md §4.3).
Keys are matched case-insensitively (real dumps are mostly lower-case).

Kinds (key paths under ``HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft``):

* ``policy_provider``: ``Windows\\Autopilot\\EnrollmentStatusTracking\\Device\\
  DevicePreparation\\PolicyProviders\\<item>`` ``InstallationState`` 1 not_installed,
  2 not_required, 3 complete, 4 error (scale ``policy_provider_1_4``).
* ``setup_app``: ``...\\EnrollmentStatusTracking\\Device\\Setup\\Apps\\Tracking\\
  <provider>\\<item>`` (and the per-user ``<SID>\\Setup\\...`` twin)
  ``InstallationState`` 1 not_installed, 2 in_progress, 3 complete, 4 error
  (scale ``setup_app_1_4``).
* ``snapshot``: ``...\\EnrollmentStatusTracking\\ESPTrackingInfo\\Diagnostics\\
  [<SID>\\]<class>\\<timestamp>``: one row per URI value, `snapshot_at` from the
  subkey name; scales ``processed_0_1`` (policies, certs, modern apps),
  ``win32_1_4`` (Sidecar), ``msi_0_70`` (MSI/Office status table).
* ``first_sync``: ``Enrollments\\<GUID>\\FirstSync[\\<SID>]`` (SkipDeviceStatusPage,
  SkipUserStatusPage, SyncFailureTimeout, BlockInStatusPage decoded).
* ``autopilot_profile``: ``Provisioning\\Diagnostics\\Autopilot`` (+
  ``EstablishedCorrelations``) and the JSON in
  ``Provisioning\\AutopilotPolicyCache`` ``PolicyJsonCache``.
* ``os_build``: ``Windows NT\\CurrentVersion`` (CurrentBuild, CurrentBuildNumber,
  UBR, DisplayVersion, ProductName, EditionID, ReleaseId) plus a derived row
  ``FullBuild`` = ``<CurrentBuild>.<UBR>``.
* ``configmgr_client``: ``SMS\\Mobile Client`` and ``CCMSetup`` values.

Columns: see schema.ESP_TRACKING (kind, key_path as written, item, setting =
value name, value_int, value_text, state, scale, snapshot_at).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..autopilotjson import profile_rows
from ..regfile import normalize_key
from .scales import first_sync_state, on_scale, profile_state

SCHEMA = schema.ESP_TRACKING
TABLE = "esp_tracking"

_SW = ("hkey_local_machine", "software", "microsoft")
_EST = _SW + ("windows", "autopilot", "enrollmentstatustracking")
_ENROLLMENTS = _SW + ("enrollments",)
_AP_DIAG = _SW + ("provisioning", "diagnostics", "autopilot")
_AP_CACHE = _SW + ("provisioning", "autopilotpolicycache")
_OS = _SW + ("windows nt", "currentversion")
_SMS = _SW + ("sms", "mobile client")
_CCMSETUP = _SW + ("ccmsetup",)
_OS_SETTINGS = {
    "currentbuild",
    "currentbuildnumber",
    "ubr",
    "displayversion",
    "productname",
    "editionid",
    "releaseid",
}
# Cheap vectorised pre-filter (RE2: no backtracking) before per-row classification.
_NEEDLES = (
    r"enrollmentstatustracking",
    r"\\enrollments\\[^\\]+\\firstsync",
    r"\\provisioning\\diagnostics\\autopilot",
    r"\\provisioning\\autopilotpolicycache",
    r"\\windows nt\\currentversion",
    r"\\sms\\mobile client",
    r"\\ccmsetup",
)
_NEEDLE = "|".join(_NEEDLES)
_TS_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
)


def snapshot_time(name: str) -> datetime | None:
    """The time in a snapshot subkey name (ISO 8601 or US ``M/D/YYYY h:m:s``).

    Names without a zone are taken as UTC (the subkey names carry none).
    """
    text = name.strip()
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        ts = None
        for fmt in _TS_FORMATS:
            try:
                ts = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _snapshot_scale(cls: str) -> str:
    c = cls.lower()
    if c.startswith("sidecar"):
        return "win32_1_4"
    if "msi" in c or "office" in c:
        return "msi_0_70"
    return "processed_0_1"


def _find(segs: list[str], run: tuple[str, ...]) -> int:
    """Index just after the first occurrence of `run` in `segs`, or -1."""
    n = len(run)
    for i in range(len(segs) - n + 1):
        if tuple(segs[i : i + n]) == run:
            return i + n
    return -1


def _win32_item(uri: str) -> str | None:
    for part in uri.split("/"):
        if part.lower().startswith("win32app_"):
            return part
    return None


def _classify(key: str) -> tuple[str, str | None, str | None, datetime | None] | None:
    """(kind, item, scale, snapshot_at) for a key path, or None if not tracked."""
    low = normalize_key(key).split("\\")
    orig = key.strip("\\").split("\\")
    if len(orig) != len(low):
        return None
    n = len(_SW)
    if tuple(low[: len(_EST)]) == _EST:
        rest, orest = low[len(_EST) :], orig[len(_EST) :]
        if rest[:2] == ["esptrackinginfo", "diagnostics"] and len(rest) >= 4:
            cls, stamp = orest[-2], orest[-1]
            item = "\\".join(orest[2:-1])
            return "snapshot", item, _snapshot_scale(cls), snapshot_time(stamp)
        i = _find(rest, ("devicepreparation", "policyproviders"))
        if i >= 0 and len(rest) == i + 1:
            return "policy_provider", orest[i], "policy_provider_1_4", None
        i = _find(rest, ("setup", "apps", "tracking"))
        if i >= 0 and len(rest) in (i + 1, i + 2):
            return "setup_app", orest[-1], "setup_app_1_4", None
        return None
    if tuple(low[: n + 1]) == _ENROLLMENTS and len(low) in (n + 3, n + 4):
        if low[n + 2] == "firstsync":
            return "first_sync", "\\".join([orig[n + 1]] + orig[n + 3 :]), None, None
        return None
    if tuple(low[: len(_AP_DIAG)]) == _AP_DIAG and len(low) <= len(_AP_DIAG) + 1:
        if len(low) == len(_AP_DIAG) or low[-1] == "establishedcorrelations":
            return "autopilot_profile", orig[-1], None, None
        return None
    if tuple(low) == _AP_CACHE:
        return "autopilot_profile", orig[-1], None, None
    if tuple(low) == _OS:
        return "os_build", None, None, None
    if tuple(low) in (_SMS, _CCMSETUP):
        return "configmgr_client", orig[-1], None, None
    return None


def _is_number(text: str) -> bool:
    """ASCII digits that fit value_int (int64): "²" passes str.isdigit, and
    neither it nor a 30-digit string fits."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def derive_esp_tracking(registry_values: pa.Table) -> pa.Table:
    """Decode the ESP-related registry values of one registry export.

    Args:
        registry_values: a `registry_values` table (schema.REGISTRY_VALUES).

    Returns:
        An `esp_tracking` table, in registry order, with derived rows
        (``FullBuild``) after the values they come from.
    """
    if registry_values.num_rows == 0:
        return schema.empty(SCHEMA)
    # a dump repeats each key for its values: match each distinct key once
    keys = registry_values.column("key_path").combine_chunks().dictionary_encode()
    hits = pc.match_substring_regex(keys.dictionary, _NEEDLE, ignore_case=True)
    mask = pc.take(hits, keys.indices)
    sub = registry_values.filter(pc.fill_null(mask, False))
    rows: list[dict] = []
    classified: dict[str, tuple | None] = {}
    builds: dict[str, dict[str, object]] = {}
    for r in sub.to_pylist():
        key = r["key_path"]
        if key not in classified:
            classified[key] = _classify(key)
        hit = classified[key]
        if hit is None or r["value_type"] == "KEY" or r["is_deletion"]:
            continue
        kind, item, scale, when = hit
        setting = r["value_name"]
        num, text = r["value_int"], r["value_text"]
        state = None
        if kind in ("policy_provider", "setup_app"):
            if setting.lower() == "installationstate":
                state = on_scale(num, scale)
            else:
                scale = None
        elif kind == "snapshot":
            if num is None and text is not None and _is_number(text.strip()):
                num = int(text)
            state = on_scale(num, scale)
            if scale == "win32_1_4":
                item = _win32_item(setting) or item
        elif kind == "first_sync":
            state, scale = first_sync_state(setting, num)
        elif kind == "autopilot_profile":
            if setting == "PolicyJsonCache" and text:
                rows += _json_rows(text, key)
                continue
            state, scale = profile_state(setting, num)
        elif kind == "os_build":
            if setting.lower() not in _OS_SETTINGS:
                continue
            builds.setdefault(key, {})[setting.lower()] = (
                num if num is not None else text
            )
        rows.append(
            {
                "kind": kind,
                "key_path": key,
                "item": item,
                "setting": setting,
                "value_int": num,
                "value_text": text,
                "state": state,
                "scale": scale,
                "snapshot_at": when,
            }
        )
    rows += _full_builds(builds)
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _full_builds(builds: dict[str, dict[str, object]]) -> list[dict]:
    """A ``FullBuild`` row (``<CurrentBuild>.<UBR>``) per CurrentVersion key."""
    rows = []
    for key, found in builds.items():
        build = found.get("currentbuild") or found.get("currentbuildnumber")
        if build is not None and found.get("ubr") is not None:
            rows.append(
                {
                    "kind": "os_build",
                    "key_path": key,
                    "item": None,
                    "setting": "FullBuild",
                    "value_int": None,
                    "value_text": f"{build}.{found['ubr']}",
                    "state": None,
                    "scale": None,
                    "snapshot_at": None,
                }
            )
    return rows


def _json_rows(text: str, key: str) -> list[dict]:
    try:
        obj = json.loads(text)
    except ValueError:
        return []
    if not isinstance(obj, dict):
        return []
    rows, _ = profile_rows(obj, key, "PolicyJsonCache")
    return rows


TABLES = ("esp_tracking",)


def derive(registry_values: pa.Table) -> dict[str, pa.Table]:
    """The `Derivation` entry point: one export's values -> ESP tracking facts."""
    return {"esp_tracking": derive_esp_tracking(registry_values)}
