"""What the simulated fleet is made of: sites and zones, builds, models, client
versions, scenario weights, the codes the scenarios use, and the fleet's dates.

Every value is a plain constant; `scenarios` draws plans from them.
"""

from __future__ import annotations

from datetime import UTC, datetime

TIMEOUT = 0x800705B4
E_FAIL = 0x80004005
MSI_1603 = 0x80070643
DC_NOT_FOUND = 0x80070774

CAUSES = (
    "ok",
    "ccmsetup_never_ran",
    "ccmsetup_failed",
    "ccmsetup_too_late",
    "ts_step_failed",
    "ts_still_running",
    "unsupported_hybrid_join",
    "unsupported_preprovisioning",
    "mdm_enrollment_failed",
    "entra_join_failed",
    "autopilot_profile_failed",
    "win32_app_failed",
    "account_setup_failed",
    "try_again_ok",
    "continue_anyway",
)
# Plausible first-attempt frequencies (docs/scenarios.md table order): the
# co-management path's failures, then the rest of the Autopilot path.
WEIGHTS = (
    0.52,
    0.06,
    0.07,
    0.04,
    0.07,
    0.04,
    0.02,
    0.02,
    0.03,
    0.02,
    0.02,
    0.04,
    0.02,
    0.02,
    0.01,
)
# Scenarios a lone CAB (no loose ConfigMgr logs) is enough to diagnose.
LONE_CAB_OK = {
    "ok",
    "ccmsetup_never_ran",
    "ts_still_running",
    "unsupported_hybrid_join",
    "mdm_enrollment_failed",
    "entra_join_failed",
    "autopilot_profile_failed",
    "account_setup_failed",
}
# Win32 apps that fail through the IME: (name, installer exit code, HRESULT)
APP_FAILURES = (
    ("Contoso VPN Client", 1603, 0x80070643),
    ("Fabrikam Endpoint Agent", 1618, 0x80070652),
)

# An app failure in Device setup is, this often, an MSI app of the MDM
# (EnterpriseDesktopAppManagement, scenario msi_app_failed) rather than a Win32
# app of the IME; drawn per device from its own generator, so the mix above (and
# the committed sample) keep their draws.
MSI_SHARE = 0.5
# Line-of-business MSI apps the MDM installs: (product code, result as HRESULT)
MSI_FAILURES = (
    ("{6F1C2B3A-4D5E-4F60-8A7B-9C0D1E2F3A4B}", 0x80070643),
    ("{0B9E8D7C-6A5F-4E3D-9C2B-1A0F9E8D7C6B}", 0x80070652),
)

# (site folder, Windows zone key name, device-name prefix)
SITES = (
    ("US-SEA", "Pacific Standard Time", "SEA"),
    ("US-NYC", "Eastern Standard Time", "NYC"),
    ("US-CHI", "Central Standard Time", "CHI"),
    ("DE-FRA", "W. Europe Standard Time", "FRA"),
    ("HU-BUD", "Central Europe Standard Time", "BUD"),
    ("UK-LON", "GMT Standard Time", "LON"),
    ("IN-BLR", "India Standard Time", "BLR"),
    ("IL-TLV", "Israel Standard Time", "TLV"),
    ("AU-SYD", "AUS Eastern Standard Time", "SYD"),
    ("JP-TYO", "Tokyo Standard Time", "TYO"),
)
SITE_WEIGHTS = (14, 12, 8, 14, 6, 12, 10, 8, 8, 8)

# (CurrentBuild, DisplayVersion, UBR choices, BuildBranch, BuildLab suffix)
BUILDS = (
    (
        "19042",
        "20H2",
        (2006, 2364),
        "vb_release",
        "19041.1.amd64fre.vb_release.191206-1406",
    ),
    (
        "19044",
        "21H2",
        (3086, 3570, 4291),
        "vb_release",
        "19041.1.amd64fre.vb_release.191206-1406",
    ),
    (
        "19045",
        "22H2",
        (4894, 5737, 6093),
        "vb_release",
        "19041.1.amd64fre.vb_release.191206-1406",
    ),
    (
        "22000",
        "21H2",
        (2538, 3260),
        "co_release",
        "22000.1.amd64fre.co_release.210604-1628",
    ),
    (
        "22621",
        "22H2",
        (4317, 5909),
        "ni_release",
        "22621.1.amd64fre.ni_release.220506-1250",
    ),
    (
        "22631",
        "23H2",
        (4890, 5909, 6060),
        "ni_release",
        "22621.1.amd64fre.ni_release.220506-1250",
    ),
    (
        "26100",
        "24H2",
        (4652, 6899, 7019),
        "ge_release",
        "26100.1.amd64fre.ge_release.240331-1435",
    ),
)
BUILD_WEIGHTS = (3, 5, 14, 5, 14, 30, 29)

# (manufacturer, model, serial style)
MODELS = (
    ("Dell Inc.", "Latitude 7440", "dell"),
    ("Dell Inc.", "Latitude 5540", "dell"),
    ("Dell Inc.", "OptiPlex 7010", "dell"),
    ("HP", "HP EliteBook 840 G9 Notebook PC", "hp"),
    ("HP", "HP ProBook 450 15.6 inch G10 Notebook PC", "hp"),
    ("LENOVO", "ThinkPad T14 Gen 4", "lenovo"),
    ("LENOVO", "ThinkPad X1 Carbon Gen 11", "lenovo"),
    ("Microsoft Corporation", "Surface Laptop 5", "surface"),
)

# Client versions; the new "Pointer: <n>. Type: ..." smsts form starts with 2211.
CLIENT_VERSIONS = (
    "5.00.9106.1000",
    "5.00.9122.1033",
    "5.00.9128.1012",
    "5.00.9129.1017",
    "5.00.9132.1011",
)
NEW_SMSTS_FROM = (5, 0, 9122)

# Task-sequence step failures: (code, text as smsts/Windows renders it)
STEP_FAILURES = (
    (0x80070002, "The system cannot find the file specified."),
    (0x87D00324, "The application was not detected after installation completed."),
    (0x80070643, "Fatal error during installation."),
    (0x80004005, "Unspecified error"),
    (0x87D00607, "Content not found on any distribution point."),
)

FIRST_DAY = datetime(2025, 10, 21, tzinfo=UTC)  # spans EU/UK/IL (26 Oct) and US (2 Nov)
DAYS = 13
