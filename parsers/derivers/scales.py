"""The value scales of the ESP tracking keys and the Autopilot profile.

The same number means different things under different keys (docs/formats.md §4.3):
``InstallationState`` 2 is "not required" under DevicePreparation\\PolicyProviders
but "in progress" under Setup\\Apps\\Tracking. Each scale has a name, stored in
`esp_tracking.scale` beside the decoded `state`, so a reader can tell which one
applied.
"""

from __future__ import annotations

from ..errorcodes import lookup

POLICY_PROVIDER = {1: "not_installed", 2: "not_required", 3: "complete", 4: "error"}
SETUP_APP = {1: "not_installed", 2: "in_progress", 3: "complete", 4: "error"}
PROCESSED = {0: "not_processed", 1: "processed"}
WIN32_SNAPSHOT = {1: "not_installed", 2: "in_progress", 3: "complete", 4: "error"}
MSI_STATUS = {
    0: "none",
    10: "initialized",
    20: "download_in_progress",
    25: "pending_download_retry",
    30: "download_failed",
    40: "download_completed",
    48: "pending_user_session",
    50: "enforcement_in_progress",
    55: "pending_enforcement_retry",
    60: "enforcement_failed",
    70: "success",
}
SCALES: dict[str, dict[int, str]] = {
    "policy_provider_1_4": POLICY_PROVIDER,
    "setup_app_1_4": SETUP_APP,
    "processed_0_1": PROCESSED,
    "win32_1_4": WIN32_SNAPSHOT,
    "msi_0_70": MSI_STATUS,
}

BLOCK_IN_STATUS_PAGE_BITS = {
    1: "allow_reset",
    2: "allow_try_again",
    4: "allow_continue_anyway",
}
OOBE_CONFIG_BITS = {
    1: "SkipCortanaOptIn",
    2: "OobeUserNotLocalAdmin",
    4: "SkipExpressSettings",
    8: "SkipOemRegistration",
    16: "SkipEula",
    # 32 and up: community ([APDIAG]) only.
    32: "TpmAttestation",
    64: "AadDeviceAuth",
    128: "AadTpmRequired",
    256: "SkipWindowsUpgradeUx",
    512: "EnablePatchDownload",
    1024: "SkipKeyboard",
}
DOMAIN_JOIN = {0: "entra_joined", 1: "hybrid_joined"}


def on_scale(value: int | None, scale: str) -> str | None:
    """Decode `value` on a named scale; ``unknown(<n>)`` when off the scale."""
    if value is None:
        return None
    return SCALES[scale].get(value, f"unknown({value})")


def bits(value: int, names: dict[int, str]) -> str:
    """``a|b`` for the set bits with names, ``none`` for 0, unnamed bits as hex."""
    if value == 0:
        return "none"
    out = [name for bit, name in names.items() if value & bit]
    rest = value & ~sum(names)
    if rest:
        out.append(f"0x{rest:X}")
    return "|".join(out)


def first_sync_state(setting: str, value: int | None) -> tuple[str | None, str | None]:
    """(state, scale) for a FirstSync value; (None, None) when not decoded."""
    if value is None:
        return None, None
    s = setting.lower()
    if s in ("skipdevicestatuspage", "skipuserstatuspage"):
        if value == 0:
            return "shown", "skip_flag"
        if value == 0xFFFFFFFF:
            return "skipped", "skip_flag"
        return f"unknown({value})", "skip_flag"
    if s == "blockinstatuspage":
        return bits(value, BLOCK_IN_STATUS_PAGE_BITS), "block_in_status_page_bits"
    if s == "syncfailuretimeout":
        return f"{value} min", "minutes"
    return None, None


def profile_state(setting: str, value: int | None) -> tuple[str | None, str | None]:
    """(state, scale) for an Autopilot profile value (registry or JSON)."""
    if value is None:
        return None, None
    s = setting.lower()
    if s == "cloudassigneddomainjoinmethod":
        return DOMAIN_JOIN.get(value, f"unknown({value})"), "domain_join_method"
    if s == "cloudassignedoobeconfig":
        return bits(value, OOBE_CONFIG_BITS), "oobe_config_bits"
    if s == "isautopilotdisabled":
        names = {0: "autopilot_enabled", 1: "autopilot_disabled"}
        return names.get(value, f"unknown({value})"), "bool_0_1"
    if s == "tenantmatched":
        names = {0: "tenant_mismatch", 1: "tenant_matched"}
        return names.get(value, f"unknown({value})"), "bool_0_1"
    if s == "cloudassignedforcedenrollment":
        # Real dumps hold garbage here (DWORD:b2d285f0): only 0/1 are meaningful.
        names = {0: "not_forced", 1: "forced"}
        return names.get(value, f"unknown({value})"), "bool_0_1"
    if s == "errorcode":
        entry = lookup(value, "dds")
        return (entry.symbol if entry else f"unknown({value})"), "dds"
    return None, None
