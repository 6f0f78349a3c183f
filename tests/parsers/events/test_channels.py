"""parsers/events/channels.py: decoded meanings as data."""

from __future__ import annotations

from espfleet.parsers.events import channels

AP = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot"
DMEDP = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
UDR = "Microsoft-Windows-User Device Registration/Admin"
AAD = "Microsoft-Windows-AAD/Operational"


def test_table_covers_the_issue_ids():
    table = channels.meanings()
    for eid in (
        100,
        101,
        103,
        111,
        153,
        160,
        161,
        163,
        164,
        171,
        172,
        807,
        809,
        815,
        908,
    ):
        assert (AP.lower(), eid) in table, eid
    for eid in (52, 71, 72, 75, 76, 100, 111, 200, 209, 400, 404, 1905, 1924):
        assert (DMEDP.lower(), eid) in table, eid


def test_autopilot_and_dmedp_meanings():
    assert channels.meaning_of(AP, None, 171).startswith("Failed to set TPM identity")
    assert channels.meaning_of(DMEDP.upper(), None, 71) == "MDM enroll failed (HRESULT)"


def test_user_device_registration():
    # the manifest's messages (docs/formats.md §3.6): 304 and 305 fail, 306 succeeds
    assert channels.meaning_of(UDR, None, 304) == (
        "Automatic device registration (hybrid Entra join) failed at the join phase"
        " (exit code, server error)"
    )
    assert channels.meaning_of(UDR, None, 306) == (
        "Automatic device registration succeeded (hybrid Entra join)"
    )


def test_msi_app_install_events():
    dmedp = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
    assert channels.meaning_of(dmedp, None, 1924) == (
        "MSI app install failed (MSI log, install command, product code, user SID,"
        " result)"
    )
    assert channels.meaning_of(dmedp, None, 1922) == (
        "MSI app install succeeded (product code, user SID, result)"
    )


def test_aad_errors_only_at_error_level():
    assert channels.meaning_of(AAD, None, 1098, level=2) == "AAD error"
    assert channels.meaning_of(AAD, None, 1098, level=4) is None
    assert channels.meaning_of(AAD, None, 1098, level=None) is None


def test_pre_1903_autopilot_channel_alias():
    old = "Microsoft-Windows-Provisioning-Diagnostics-Provider/Autopilot"
    assert channels.meaning_of(old, None, 807).startswith("ZtdDeviceIsNotRegistered")


def test_provider_fallback_without_channel():
    got = channels.meaning_of(None, "Microsoft-Windows-Shell-Core", 62404)
    assert got.startswith("CloudExperienceHost web app activity started")


def test_known_esp_name_beats_generic_62407():
    name = "CommercialOOBE_ESPProgress_Page_Exiting"
    assert "not by itself success" in channels.meaning_of(
        None, "Microsoft-Windows-Shell-Core", 62407, name=name
    )
    assert channels.meaning_of(
        None, "Microsoft-Windows-Shell-Core", 62407, name="Other"
    ).startswith("CloudExperienceHost web app event")


def test_unknown_event_has_no_meaning():
    assert channels.meaning_of(DMEDP, None, 99999) is None
    assert channels.meaning_of(None, None, 71) is None
