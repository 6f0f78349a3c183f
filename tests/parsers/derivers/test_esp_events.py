"""parsers/derivers/esp_events.py: esp_events from synthetic event tables and the real corpus."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from espfleet.parsers import schema
from espfleet.parsers.derivers import esp_events
from espfleet.parsers.events import evtx, rendered_text
from espfleet.simulator.evtx_writer import shellcore_62407, write_evtx

T0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
DATA_FILES = Path(esp_events.__file__).parents[1] / "data"


def events(pairs: list[tuple[str, str | None]]) -> pa.Table:
    """An `events` table of 62407 rows with these Name/Value pairs."""
    n = len(pairs)
    cols = {f.name: [None] * n for f in schema.EVENTS}
    cols["event_id"] = [62407] * n
    cols["record_id"] = list(range(1, n + 1))
    cols["ts_utc"] = [T0 + timedelta(seconds=i) for i in range(n)]
    cols["name"] = [p[0] for p in pairs]
    cols["value"] = [p[1] for p in pairs]
    return pa.table(
        [pa.array(cols[f.name], f.type) for f in schema.EVENTS], schema=schema.EVENTS
    )


def one(name: str, value: str | None = None) -> dict:
    (row,) = esp_events.derive_esp_events(events([(name, value)])).to_pylist()
    return row


def msg(text: str, code: int | str = 0) -> str:
    return f'{{"message":"{text}","errorCode":{code}}}'


P = "CommercialOOBE_"


@pytest.mark.parametrize(
    ("name", "value", "outcome"),
    [
        (P + "ESPDevicePreparation_TPMAttestation_Started", None, "started"),
        (P + "ESPDevicePreparation_TPMAttestation_Succeeded", None, "succeeded"),
        (
            P + "ESPDevicePreparation_PolicyProvidersInstallation_Complete",
            None,
            "info",
        ),
        (P + "ESPDevicePreparation_TPMAttestation_Failed", None, "failed"),
        (
            P + "ESPDevicePreparation_PolicyProvidersInstallation_TimedOut",
            None,
            "timed_out",
        ),
        (P + "ESPDeviceSetup_ApplicationsInstallation_Skipped", None, "skipped"),
        (P + "ESPDeviceSetup_ApplicationsInstallation_Incomplete", None, "incomplete"),
        (
            P + "ESPDevicePreparation_TPMAttestation_NotRequiredForScenario",
            None,
            "not_required",
        ),
        (P + "ESPDeviceSetup_RebootCoalescing_Required", None, "required"),
        (
            P + "ESPProgress_Page_Exiting",
            msg("BootstrapStatus: Exiting page normally."),
            "exiting",
        ),
        (P + "ESPProgress_Initialization_ResumingAfterReboot", None, "page_loaded"),
        (P + "AutopilotPreFetch_PolicyCache_Cleared", None, "info"),
        (P + "Autopilot_Profile_Unavailable", None, "unavailable"),
        (P + "ESPProgress_Failure", None, "failed"),
        (P + "SomeNewArea_Thing_Canceled", None, "cancelled"),
    ],
)
def test_outcome_from_name(name, value, outcome):
    assert one(name, value)["outcome"] == outcome


@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        ("failed", "failed"),
        ("succeeded", "succeeded"),
        ("cancelled", "cancelled"),
        ("failedFromPreviousSubcategory", "failed_from_previous"),
        ("rebootRequiredAndTryAgain", "reboot_required"),
        ("inProgress", "in_progress"),
        ("notStarted", "not_started"),
    ],
)
def test_outcome_from_state_message(state, outcome):
    text = f"BootstrapStatus: Subcategory ID = AccountSetup.AppsSubcategory; state = {state}."
    row = one(P + "BootstrapStatusCategory_SubcategoryProcessing_Success", msg(text))
    assert (row["outcome"], row["phase"], row["subcategory"]) == (
        outcome,
        "AccountSetup",
        "AppsSubcategory",
    )


def test_documented_subcategory_failed_example():
    text = (
        "BootstrapStatus: Subcategory ID = DeviceSetup.AppsSubcategory; state = failed."
    )
    row = one(P + "BootstrapStatusCategory_SubcategoryProcessing_Failed", msg(text))
    assert (row["area"], row["phase"], row["subcategory"]) == (
        "BootstrapStatusCategory",
        "DeviceSetup",
        "AppsSubcategory",
    )
    assert (row["outcome"], row["error_code"], row["message"]) == ("failed", None, text)


def test_documented_timed_out_example():
    text = "BootstrapStatus: Timed out waiting for all policy providers to provide a list of policies."
    row = one(
        P + "ESPDevicePreparation_PolicyProvidersInstallation_TimedOut",
        msg(text, 2147943860),
    )
    assert (row["phase"], row["subcategory"], row["outcome"]) == (
        "DevicePreparation",
        "PolicyProvidersInstallation",
        "timed_out",
    )
    assert (row["error_code"], row["error_code_hex"], row["is_known_name"]) == (
        0x800705B4,
        "0x800705B4",
        True,
    )


def test_starting_subcategory_message():
    text = "BootstrapStatus: Starting subcategory DevicePreparation.EspProviderInstallationSubcategory..."
    row = one(P + "BootstrapStatusCategory_SubcategoryProcessing_Started", msg(text))
    assert (row["phase"], row["subcategory"], row["outcome"]) == (
        "DevicePreparation",
        "EspProviderInstallationSubcategory",
        "started",
    )


def test_category_messages():
    started = one(
        P + "ESPProgress_Category_Started",
        msg("BootstrapStatus: Starting category DevicePreparationCategory..."),
    )
    done = one(
        P + "ESPProgress_Category_Success",
        msg("BootstrapStatus: Category DeviceSetupCategory failed."),
    )
    assert (started["phase"], started["subcategory"], started["outcome"]) == (
        "DevicePreparation",
        None,
        "started",
    )
    assert (done["phase"], done["outcome"]) == ("DeviceSetup", "failed")


def test_signed_error_code():
    row = one(P + "ESPDevicePreparation_TPMAttestation_Failed", msg("x", -2147024891))
    assert row["error_code_hex"] == "0x80070005"


def test_hex_error_in_message_when_code_is_zero():
    text = "BootstrapStatus: Policy provider(s) installation failed. Error: 0x87d00324."
    row = one(
        P + "ESPDevicePreparation_PolicyProvidersInstallation_Failed", msg(text, 0)
    )
    assert row["error_code_hex"] == "0x87D00324"


def test_zero_error_code_is_null():
    assert one(P + "ESPProgress_Page_Exiting", msg("x", 0))["error_code"] is None


@pytest.mark.parametrize("value", ["null", "true", "plain text, not JSON", None])
def test_non_json_values_kept_as_message(value):
    row = one(P + "ESPDeviceSetup_ApplicationsInstallation_Started", value)
    assert (row["message"], row["error_code"]) == (value, None)


def test_extra_json_keys_allowed():
    value = (
        '{"message":"BootstrapStatus: failed","errorCode":2147942402,"stack":"at f()"}'
    )
    row = one(P + "ESPDeviceSetup_ApplicationsInstallation_Failed", value)
    assert (row["message"], row["error_code_hex"]) == (
        "BootstrapStatus: failed",
        "0x80070002",
    )


def test_page_exiting_is_not_success():
    row = one(
        P + "ESPProgress_Page_Exiting", msg("BootstrapStatus: Exiting page normally.")
    )
    assert row["outcome"] == "exiting" and row["phase"] is None


def test_reboot_coalescing_in_started_message_is_not_a_reboot():
    text = "BootstrapStatus: Starting subcategory DeviceSetup.RebootCoalescing..."
    row = one(P + "BootstrapStatusCategory_SubcategoryProcessing_Started", msg(text))
    assert (row["subcategory"], row["outcome"]) == ("RebootCoalescing", "started")


def test_white_glove_names_keep_area_and_outcome():
    tech = one(P + "WhiteGlove_TechnicianFlow_Success", "true")
    glued = one(P + "ESPDevicePreparation_DeviceEnrollment_WhiteGloveError")
    assert (tech["area"], tech["outcome"]) == ("WhiteGlove", "succeeded")
    assert (glued["phase"], glued["subcategory"], glued["outcome"]) == (
        "DevicePreparation",
        "DeviceEnrollment_WhiteGlove",
        "failed",
    )


def test_unknown_name_parsed_generically():
    # a name absent from esp_names.csv (the real _Incomplete names are listed there)
    row = one(P + "ESPAccountSetup_UnlistedInstallation_Incomplete")
    assert (row["is_known_name"], row["phase"], row["outcome"]) == (
        False,
        "AccountSetup",
        "incomplete",
    )
    assert row["meaning"] == "ESPAccountSetup UnlistedInstallation incomplete"


def test_non_commercial_rows_dropped():
    table = events(
        [("CDJUIError", "80180014"), (P + "ESPProgress_Failure", None), (None, None)]
    )
    out = esp_events.derive_esp_events(table)
    assert out.schema == schema.ESP_EVENTS
    assert out.column("record_id").to_pylist() == [2]


def test_every_known_name_classifies_as_its_table_row():
    # the expectations are the data file's rows, read here with csv alone
    with open(DATA_FILES / "esp_names.csv", newline="", encoding="utf-8") as f:
        known = list(csv.DictReader(f))
    assert len(known) > 50
    for row in known:
        got = one(row["name"])
        assert got["is_known_name"], row["name"]
        assert (got["area"], got["outcome"], got["meaning"]) == (
            row["area"],
            row["outcome"],
            row["meaning"],
        ), row["name"]


def test_corpus_commercial_oobe_rows(corpus):
    path = corpus / "evtx" / "zip_Gsagar109-Public__shell-core-operational.evtx"
    table = evtx.parse(path.read_bytes()).table
    names = [n for n in table.column("name").to_pylist() if n and n.startswith(P)]
    out = esp_events.derive_esp_events(table).to_pylist()
    assert len(out) == len(names) > 0
    region = [
        r for r in out if r["name"] == P + "AutopilotRegion_SettingRetrieval_Succeeded"
    ]
    assert (
        region[0]["outcome"] == "succeeded" and region[0]["area"] == "AutopilotRegion"
    )
    assert (
        region[0]["message"]
        == "Successfully retrieved Autopilot region settings policy."
    )


def test_from_documented_paste_end_to_end():
    data = (
        Path(__file__).parents[2] / "data" / "events" / "etw_shellcore_paste.txt"
    ).read_bytes()
    out = esp_events.derive_esp_events(rendered_text.parse(data).table).to_pylist()
    assert [r["outcome"] for r in out] == ["timed_out", "failed", "started", "failed"]
    assert [r["error_code_hex"] for r in out] == [
        "0x800705B4",
        None,
        None,
        "0x80070005",
    ]
    assert out[1]["phase"] == "DeviceSetup" and out[2]["phase"] == "DevicePreparation"


# Values whose code `esp_events` lost before it took codes from events/codes.py
SAME_CODE = [
    (P + "ESPDevicePreparation_MdmEnrollment_CDJUIError", "80180014", 0x80180014),
    (
        P + "ESPDevicePreparation_DeviceEnrollment_Failed",
        '{"number":"-7fe6fe6c"}',
        0x80190194,
    ),
    (
        P + "ESPDeviceSetup_ApplicationsInstallation_Failed",
        '{"message":"BootstrapStatus: failed. HRESULT=0x80070005","errorCode":0}',
        0x80070005,
    ),
    (
        P + "ESPDeviceSetup_ApplicationsInstallation_Failed",
        "HRESULT=0x80070005",
        0x80070005,
    ),
]
SAME_CODE_HEX = ["0x80180014", "0x80190194", "0x80070005", "0x80070005"]


def same_code_events(source: str) -> pa.Table:
    if source == "evtx":
        records = [
            shellcore_62407(T0 + timedelta(seconds=i), name, value)
            for i, (name, value, _) in enumerate(SAME_CODE)
        ]
        return evtx.parse(write_evtx(records)).table
    lines = [
        "[ETW] [Microsoft-Windows-Shell-Core] [Informational] - CloudExperienceHost "
        f"Web App Event 2. Name: '{name}', Value: '{value}'."
        for name, value, _ in SAME_CODE
    ]
    return rendered_text.parse("\r\n".join(lines).encode()).table


@pytest.mark.parametrize("source", ["evtx", "text"])
def test_events_and_esp_events_carry_the_same_code(source):
    table = same_code_events(source)
    expected = list(zip([c for *_, c in SAME_CODE], SAME_CODE_HEX, strict=True))
    events = table.to_pylist()
    assert [(r["error_code"], r["error_code_hex"]) for r in events] == expected
    esp = esp_events.derive_esp_events(table).to_pylist()
    assert [(r["error_code"], r["error_code_hex"]) for r in esp] == expected
    assert [r["message"] for r in esp] == [
        "80180014",
        '{"number":"-7fe6fe6c"}',
        "BootstrapStatus: failed. HRESULT=0x80070005",
        "HRESULT=0x80070005",
    ]
