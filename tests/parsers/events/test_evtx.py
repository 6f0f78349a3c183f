"""parsers/events/evtx.py: synthetic .evtx from the simulator's writer, then the real corpus."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import evtx as pyevtx
import pytest

from espfleet.parsers.events import evtx
from espfleet.parsers.events.rows import EventRows
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


def test_real_flood_rows_kept_with_their_hresult(corpus):
    # floods are summarised by the event_floods view (tests/sql); every row stays
    member = "zip_Gsagar109-Public__moderndeployment-diagnostics-provider-managementservice.evtx"
    table = evtx.parse((corpus / "evtx" / member).read_bytes()).table
    assert table.num_rows == 1666
    assert Counter(table.column("error_code_hex").to_pylist()) == {
        "0x8007000D": 1650,
        "0x80004005": 12,
        "0x80004003": 4,
    }


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


# --- fast path (one regex per record, whole file) against a plain reference ---


def reference_table(data: bytes):
    """Straightforward reading: every record through json.loads, one by one."""
    rows = EventRows("evtx")
    for rec in pyevtx.PyEvtxParser(io.BytesIO(data)).records_json():
        event = json.loads(rec["data"])["Event"]
        system = event["System"]
        payload = event.get("EventData", event.get("UserData"))
        rows.add(
            system["Channel"],
            system["Provider"]["#attributes"]["Name"],
            system["EventID"],
            rec["event_record_id"],
            system["TimeCreated"]["#attributes"]["SystemTime"],
            system["Level"],
            system["Computer"],
            None,
        )
        rows.raw["event_data"][-1] = (
            None
            if payload is None
            else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        )
    return rows.table()


def assert_same_as_reference(data: bytes) -> None:
    result = evtx.parse(data)
    assert (result.warnings, result.skipped) == ([], 0)
    expected = reference_table(data)
    for name in expected.column_names:
        assert result.table.column(name) == expected.column(name), name


ODD_VALUES = (
    ("Quoted", 'say "hi" and \\ back\\slash'),
    ("Lines", "first line\nsecond\r\nthird\ttab"),
    ("Unicode", "Grüße – 日本語 – emoji \U0001f600"),
    ("Json", '{"message":"a \\"quoted\\" msg","errorCode":-2147024809}'),
    ("HRESULT", "0x80070057"),
    ("Braces", '}},"EventData":{"x":1}}'),
)


@pytest.fixture(scope="module")
def multi_chunk_file() -> bytes:
    """Several 64 KiB chunks, three providers, odd characters in the values."""
    records = []
    for i in range(900):
        ts = T0 + timedelta(seconds=i)
        if i % 3 == 0:
            value = f'{{"message":"step {i} \\"q\\"","errorCode":{i % 7}}}'
            records.append(shellcore_62407(ts, f"CommercialOOBE_Step{i}", value))
        elif i % 3 == 1:
            records.append(EventRecord(171, ts, ODD_VALUES, level=2, **AUTOPILOT))
        else:
            records.append(
                EventRecord(404, ts, (("Note", "x" * (i % 50)),), provider="P-Ü")
            )
    data = write_evtx(records)
    assert len(data) > 4096 + 3 * 65536  # genuinely several chunks
    return data


def test_fast_path_equals_reference_on_multi_chunk_writer_file(multi_chunk_file):
    assert evtx.parse(multi_chunk_file).table.num_rows == 900
    assert_same_as_reference(multi_chunk_file)


def test_fast_path_equals_reference_on_every_corpus_file(corpus):
    for path in corpus_files(corpus):
        assert_same_as_reference(path.read_bytes())


def test_fast_path_equals_record_by_record_path(corpus, multi_chunk_file):
    """The whole-file regex and the per-record `_fast`/`_slow` path agree exactly."""
    datas = [p.read_bytes() for p in corpus_files(corpus)] + [multi_chunk_file]
    for data in datas:
        recs = list(pyevtx.PyEvtxParser(io.BytesIO(data)).records_json())
        texts = [r["data"] for r in recs]
        if texts:
            assert evtx._fields(texts) is not None  # the fast path is taken
        replayed = evtx._replay(recs, texts, [])
        assert evtx.parse(data).table.equals(replayed.table)


def test_backslash_in_computer_takes_record_path_with_same_rows(multi_chunk_file):
    data = write_evtx(
        [shellcore_62407(T0, "N", '{"errorCode":1}', computer="DOM\\PC")] * 3
    )
    texts = [r["data"] for r in pyevtx.PyEvtxParser(io.BytesIO(data)).records_json()]
    assert evtx._fields(texts) is None
    assert evtx.parse(data).table.column("computer").to_pylist() == ["DOM\\PC"] * 3
    assert_same_as_reference(data)


def record_offsets(data: bytes) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(b"\x2a\x2a\x00\x00"), data)]


def test_unreadable_record_is_skipped_with_warning(multi_chunk_file):
    data = bytearray(multi_chunk_file)
    at = record_offsets(multi_chunk_file)[5]
    data[at + 24 : at + 64] = b"\xff" * 40  # garble the 6th record's BinXml
    result = evtx.parse(bytes(data))
    assert (result.table.num_rows, result.skipped) == (899, 1)
    assert [(w.line, w.reason) for w in result.warnings] == [
        (6, "evtx record unreadable")
    ]
    ids = result.table.column("record_id").to_pylist()
    assert 6 not in ids and ids[:6] == [1, 2, 3, 4, 5, 7]


def test_twenty_unreadable_records_in_a_row_give_up(multi_chunk_file):
    data = bytearray(multi_chunk_file)
    offsets = record_offsets(multi_chunk_file)
    for at in offsets[10:35]:
        data[at + 24 : at + 64] = b"\xff" * 40
    result = evtx.parse(bytes(data))
    assert result.table.num_rows == 10 and result.skipped == 20
    assert result.warnings[-1].reason == "gave up after 20 failures in a row"
    assert result.warnings[-1].line == 30


def test_collect_stops_reading_after_twenty_failures_in_a_row(multi_chunk_file):
    data = bytearray(multi_chunk_file)
    for at in record_offsets(multi_chunk_file)[10:35]:
        data[at + 24 : at + 64] = b"\xff" * 40
    recs, fails = evtx._collect(
        pyevtx.PyEvtxParser(io.BytesIO(bytes(data))).records_json()
    )
    assert len(recs) == 10 and [at for at, _ in fails] == [10] * 20


def test_one_odd_record_sends_the_file_record_by_record(esp_file):
    recs = list(pyevtx.PyEvtxParser(io.BytesIO(esp_file)).records_json())
    text = recs[0]["data"]
    odd = text.replace(
        '"EventID":62407',
        '"EventID":{"#attributes":{"Qualifiers":16384},"#text":62407}',
    )
    assert evtx._fields([text]) is not None
    assert evtx._fields([text, odd]) is None
    recs[1] = dict(recs[0], data=odd)
    replayed = evtx._replay(recs, [r["data"] for r in recs], []).table
    assert replayed.column("event_id").to_pylist() == [62407, 62407, 171]


def test_fast_path_takes_records_without_security_or_data(esp_file):
    texts = [
        r["data"] for r in pyevtx.PyEvtxParser(io.BytesIO(esp_file)).records_json()
    ]
    security = ',"Security":{"#attributes":{"UserID":"S-1-5-18"}}'
    bare = texts[0].replace(security, "")
    no_data = texts[0][: texts[0].index('"EventData":')] + '"EventData":null}}'
    assert bare != texts[0] and no_data != texts[0]
    for odd in (bare, no_data):
        columns = evtx._fields([texts[0], odd])
        assert columns is not None
        channel, provider, event_id, stamp, level, computer, data = evtx._fast(odd)
        providers, (kinds, index), *rest = columns
        assert [providers[1], kinds[index[1]], *(col[1] for col in rest)] == [
            provider,
            (event_id, level),
            stamp,
            channel,
            computer,
            "null" if data is None else data,
        ]
    assert evtx._fields([no_data])[5] == ("null",)  # parse stores it as null
