"""parsers/evtx.py: synthetic .evtx from the simulator's writer, then the real corpus."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import evtx as pyevtx
import pytest

from espfleet.parsers import channels, evtx
from espfleet.simulator.evtx_writer import EventRecord, shellcore_62407, write_evtx

T0 = datetime(2025, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)
TIMED_OUT = (
    '{"message":"BootstrapStatus: Timed out waiting for all policy providers to '
    'provide a list of policies.","errorCode":2147943860}'
)
AUTOPILOT = dict(
    provider="Microsoft-Windows-ModernDeployment-Diagnostics-Provider",
    provider_guid="{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}",
    channel="Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot",
    keywords=0x4000000000000000,
)
NAME_TIMED_OUT = (
    "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_TimedOut"
)


@pytest.fixture(scope="module")
def esp_file() -> bytes:
    """A genuine .evtx: ESP TimedOut, a failed subcategory, ModernDeployment 171."""
    return write_evtx(
        [
            shellcore_62407(T0, NAME_TIMED_OUT, TIMED_OUT, computer="DESKTOP-T1"),
            shellcore_62407(
                T0 + timedelta(seconds=5),
                "CommercialOOBE_BootstrapStatusCategory_SubcategoryProcessing_Failed",
                '{"message":"BootstrapStatus: Subcategory ID = '
                'DeviceSetup.AppsSubcategory; state = failed.","errorCode":0}',
            ),
            EventRecord(
                171,
                T0 + timedelta(seconds=9),
                (("HRESULT", "0x80280095"),),
                level=2,
                **AUTOPILOT,
            ),
        ],
        first_record_id=40,
    )


def corpus_files(corpus: Path) -> list[Path]:
    files = sorted((corpus / "evtx").glob("*.evtx"))
    assert len(files) >= 30
    return files


def raw_records(path: Path) -> list[dict]:
    """Independent count: pyevtx-rs and the stdlib json module only."""
    parser = pyevtx.PyEvtxParser(str(path))
    return [json.loads(r["data"])["Event"] for r in parser.records_json()]


def test_sniff_accepts_evtx_header():
    assert evtx.sniff(b"ElfFile\x00" + b"\x00" * 120)


def test_sniff_rejects_chunk_magic_and_text():
    assert not evtx.sniff(b"ElfChnk\x00" + b"\x00" * 120)
    assert not evtx.sniff(b"ElfFile is a word")


def test_golden_writer_file_rows(esp_file):
    result = evtx.parse(esp_file)
    assert (result.table.num_rows, result.warnings, result.skipped) == (3, [], 0)


def test_golden_timed_out_row(esp_file):
    # [ETW] ... Name: 'CommercialOOBE_..._TimedOut', Value: '{...,"errorCode":2147943860}'
    row = evtx.parse(esp_file).table.to_pylist()[0]
    assert row["source_format"] == "evtx" and row["record_id"] == 40
    assert (row["event_id"], row["level"], row["computer"]) == (62407, 4, "DESKTOP-T1")
    assert row["ts_utc"] == T0
    assert (row["name"], row["value"]) == (NAME_TIMED_OUT, TIMED_OUT)
    assert (row["error_code"], row["error_code_hex"]) == (0x800705B4, "0x800705B4")
    assert json.loads(row["event_data"]) == {"Name": NAME_TIMED_OUT, "Value": TIMED_OUT}
    assert "timed out" in row["meaning"]


def test_golden_autopilot_171_hresult(esp_file):
    row = evtx.parse(esp_file).table.to_pylist()[2]
    assert row["channel"] == AUTOPILOT["channel"] and row["name"] is None
    assert (row["event_id"], row["level"], row["error_code_hex"]) == (
        171,
        2,
        "0x80280095",
    )
    assert row["meaning"].startswith("Failed to set TPM identity confirmed")


def test_zero_error_code_is_null(esp_file):
    row = evtx.parse(esp_file).table.to_pylist()[1]
    assert row["error_code"] is None and row["error_code_hex"] is None


def test_truncated_file_never_raises(esp_file):
    result = evtx.parse(esp_file[: 4096 + 700])
    assert result.table.schema == evtx.SCHEMA
    assert result.table.num_rows + result.skipped <= 3


def test_not_evtx_is_a_warning():
    result = evtx.parse(b"hello world")
    assert result.table.num_rows == 0 and result.warnings


def test_every_corpus_file_parses_without_warnings(corpus):
    for path in corpus_files(corpus):
        result = evtx.parse(path.read_bytes())
        assert (result.warnings, result.skipped) == ([], 0), path.name
        assert result.table.num_rows == len(raw_records(path)), path.name


def test_empty_channel_gives_no_rows(corpus):
    path = (
        corpus / "evtx" / "ModernDeployment_Diagnostics_EMPTY_tugix456-randaodcxjj.evtx"
    )
    result = evtx.parse(path.read_bytes())
    assert (result.table.num_rows, result.warnings) == (0, [])


def test_62407_count_matches_raw_parser(corpus):
    total = 0
    for path in corpus_files(corpus):
        raw = sum(e["System"]["EventID"] == 62407 for e in raw_records(path))
        ids = evtx.parse(path.read_bytes()).table.column("event_id").to_pylist()
        assert ids.count(62407) == raw, path.name
        total += raw
    assert total > 1000  # Gsagar109 591 + joopjaeng 412 + ...


def test_event_data_is_the_records_eventdata(corpus):
    for path in corpus_files(corpus)[:12]:
        table = evtx.parse(path.read_bytes()).table
        for raw, text in zip(
            raw_records(path), table.column("event_data").to_pylist(), strict=True
        ):
            expected = raw.get("EventData", raw.get("UserData"))
            assert (json.loads(text) if text else None) == expected


def rows_named(corpus: Path, member: str, name: str) -> list[dict]:
    table = evtx.parse((corpus / "evtx" / member).read_bytes()).table
    return [r for r in table.to_pylist() if r["name"] == name]


def test_real_autopilot_region_names_decode(corpus):
    rows = rows_named(
        corpus,
        "zip_Gsagar109-Public__shell-core-operational.evtx",
        "CommercialOOBE_AutopilotRegion_SettingRetrieval_Started",
    )
    assert len(rows) == 2
    assert json.loads(rows[0]["value"])["errorCode"] == 0
    assert rows[0]["error_code"] is None
    assert rows[0]["meaning"] == "Autopilot region setting retrieval started"


def test_real_cdjuierror_bare_hex_decodes(corpus):
    member = "zip_Gsagar109-Public__shell-core-operational.evtx"
    (row,) = rows_named(corpus, member, "CDJUIError")
    assert (row["value"], row["error_code_hex"]) == ("80180014", "0x80180014")


def test_real_unified_enrollment_negative_hex_number(corpus):
    member = "cab_joopjaeng-jaeng__shell-core-operational.evtx"
    name = "UnifiedEnrollment_AddMdm_Discovery_DiscoverEndpoints_Failed"
    rows = rows_named(corpus, member, name)
    # {"number":"-7fe6fe6c",...}: JavaScript's hex of a negative HRESULT
    assert {r["error_code_hex"] for r in rows} == {"0x80190194"}


def test_real_flood_kept_and_summarised(corpus):
    member = "zip_Gsagar109-Public__moderndeployment-diagnostics-provider-managementservice.evtx"
    table = evtx.parse((corpus / "evtx" / member).read_bytes()).table
    assert table.num_rows == 1666
    floods = channels.summarise_floods(table).to_pylist()
    assert [(f["event_id"], f["count"]) for f in floods] == [(1005, 1666)]
    assert floods[0]["variants"] > 1
    assert (floods[0]["last_ts_utc"] - floods[0]["first_ts_utc"]).total_seconds() <= 10
    assert "0x8007000d" in floods[0]["sample"]


def test_real_flood_rows_carry_hresult(corpus):
    member = "zip_Gsagar109-Public__moderndeployment-diagnostics-provider-managementservice.evtx"
    table = evtx.parse((corpus / "evtx" / member).read_bytes()).table
    codes = table.column("error_code_hex").to_pylist()
    assert None not in codes
    assert max(set(codes), key=codes.count) == "0x8007000D"


def test_real_dmedp_meanings(corpus):
    member = "cab_itziktdk-MyRes__devicemanagement-enterprise-diagnostics-provider-admin.evtx"
    rows = evtx.parse((corpus / "evtx" / member).read_bytes()).table.to_pylist()
    by_id = {r["event_id"]: r["meaning"] for r in rows}
    assert by_id[200] == "OMA-DM message sent"
    assert by_id[404].startswith("CSP command failure")


def test_parse_accepts_bytes_of_file_like_origin(esp_file):
    # the parser must not need a path: same bytes via BytesIO round trip
    assert evtx.parse(io.BytesIO(esp_file).getvalue()).table.num_rows == 3


def test_fast_slicing_agrees_with_full_json_decode(corpus):
    fast_hits = 0
    for path in corpus_files(corpus):
        for rec in pyevtx.PyEvtxParser(str(path)).records_json():
            text = rec["data"]
            fast = evtx._fast(text)
            if fast is None:
                continue
            fast_hits += 1
            slow = evtx._slow(text, json.loads(text)["Event"])
            assert fast[:6] == slow[:6]
            assert (json.loads(fast[6]) if fast[6] else None) == (
                json.loads(slow[6]) if slow[6] else None
            )
    assert fast_hits > 12000


def test_odd_record_shapes_take_the_slow_path(esp_file):
    text = next(pyevtx.PyEvtxParser(io.BytesIO(esp_file)).records_json())["data"]
    assert evtx._fast(text) is not None
    qualifiers = text.replace(
        '"EventID":62407',
        '"EventID":{"#attributes":{"Qualifiers":16384},"#text":62407}',
    )
    escaped = text.replace('"Computer":"DESKTOP-T1"', '"Computer":"DESK\\\\TOP"')
    null_level = text.replace('"Level":4', '"Level":null')
    for odd in (qualifiers, escaped, null_level):
        assert odd != text and evtx._fast(odd) is None
    assert evtx._slow(qualifiers, json.loads(qualifiers)["Event"])[2] == 62407
    assert evtx._slow(escaped, json.loads(escaped)["Event"])[5] == "DESK\\TOP"
