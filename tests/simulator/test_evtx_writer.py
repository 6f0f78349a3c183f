"""The EVTX writer, read back by pyevtx-rs with checksum validation on.

Byte offsets in the structural tests come from docs/formats.md §3.7.2-§3.7.6;
CRCs are recomputed here with zlib, independently of the writer.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import evtx
import pytest
from defusedxml import ElementTree

from espfleet.simulator.binxml import name_hash, sid_bytes
from espfleet.simulator.evtx_writer import EventRecord, shellcore_62407, write_evtx
from tests.conftest import corpus_file

T0 = datetime(2025, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)
NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
AUTOPILOT = dict(
    provider="Microsoft-Windows-ModernDeployment-Diagnostics-Provider",
    provider_guid="{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}",
    channel="Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot",
    keywords=0x4000000000000000,
)
DMEDP = dict(
    provider="Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider",
    provider_guid="{3DA494E4-0FE2-415C-B895-FB5265C5C83B}",
    channel="Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
    keywords=0x8000000000000000,
)
REAL_SHELLCORE = "evtx/cab_joopjaeng-jaeng__shell-core-operational.evtx"


def _read(tmp_path: Path, data: bytes) -> list[dict]:
    """Records as {id, ts, event (JSON), pairs (ordered EventData pairs)}."""
    path = tmp_path / "out.evtx"
    path.write_bytes(data)
    out = []
    parser = evtx.PyEvtxParser(str(path), validate_checksums=True)
    for rec in parser.records_json():
        pairs = json.loads(rec["data"], object_pairs_hook=list)
        event_data = dict(dict(pairs)["Event"]).get("EventData")
        out.append(
            {
                "id": rec["event_record_id"],
                "ts": datetime.fromisoformat(rec["timestamp"].removesuffix(" UTC")),
                "event": json.loads(rec["data"])["Event"],
                "pairs": [tuple(p) for p in event_data or []],
            }
        )
    return out


def _xml_pairs(data: bytes) -> list[list[tuple[str, str]]]:
    """EventData pairs in order, from the XML rendering (a file object this time)."""
    parser = evtx.PyEvtxParser(io.BytesIO(data), validate_checksums=True)
    out = []
    for rec in parser.records():
        root = ElementTree.fromstring(rec["data"].encode("utf-8"))
        datas = root.iter(f"{NS}Data")
        out.append([(d.get("Name"), d.text or "") for d in datas])
    return out


def _chunks(data: bytes) -> list[bytes]:
    count = struct.unpack_from("<H", data, 42)[0]
    return [data[4096 + k * 65536 : 4096 + (k + 1) * 65536] for k in range(count)]


def _big_records(n: int) -> list[EventRecord]:
    rng = random.Random(7)
    return [
        shellcore_62407(
            T0 + timedelta(milliseconds=i),
            f"ESPProgress_{i}",
            "".join(rng.choices("abcXYZ<&>\"'{}:,é€", k=rng.randint(1000, 3000))),
        )
        for i in range(n)
    ]


def test_62407_round_trips_system_fields(tmp_path):
    rec = shellcore_62407(
        T0, "N", "V", computer="LP-630015B60", process_id=10200, thread_id=2440
    )
    (got,) = _read(tmp_path, write_evtx([rec]))
    system = got["event"]["System"]
    assert (got["id"], got["ts"], system["EventRecordID"]) == (1, T0, 1)
    assert system["TimeCreated"]["#attributes"]["SystemTime"] == (
        "2025-03-04T10:00:00.123456Z"
    )
    assert system["Provider"]["#attributes"] == {
        "Name": "Microsoft-Windows-Shell-Core",
        "Guid": "30336ED4-E327-447C-9DE0-51B652C86108",
    }
    assert (system["EventID"], system["Task"], system["Level"]) == (62407, 62407, 4)
    assert system["Keywords"] == "0x2000000800010000"
    assert system["Channel"] == "Microsoft-Windows-Shell-Core/Operational"
    assert system["Computer"] == "LP-630015B60"
    assert system["Execution"]["#attributes"] == {"ProcessID": 10200, "ThreadID": 2440}
    assert system["Security"]["#attributes"]["UserID"] == "S-1-5-18"
    assert got["pairs"] == [("Name", "N"), ("Value", "V")]


def test_special_characters_round_trip_exactly(tmp_path):
    value = json.dumps({"a": "<&>\"'", "b": "x\r\ny\t", "c": "😀 ไทย €"})
    data = [("Name", 'q"<&>'), ("Value", value), ("Empty", ""), ("Name", "dup")]
    (got,) = _read(tmp_path, write_evtx([EventRecord(7, T0, data)]))
    assert got["pairs"] == data


def test_xml_rendering_keeps_order_and_escapes():
    data = [("PolicyName", "a<b&c"), ("Value", '{"k": "v"}'), ("HRESULT", "0x800705B4")]
    assert _xml_pairs(write_evtx([EventRecord(1, T0, data)])) == [data]


def test_long_and_empty_values(tmp_path):
    long_value = "x" * 8000 + "€" * 8000
    records = [shellcore_62407(T0, "Long", long_value), shellcore_62407(T0, "", "")]
    got = _read(tmp_path, write_evtx(records))
    assert [g["pairs"] for g in got] == [
        [("Name", "Long"), ("Value", long_value)],
        [("Name", ""), ("Value", "")],
    ]


def test_empty_data_list(tmp_path):
    got = _read(tmp_path, write_evtx([EventRecord(101, T0, [], user_sid=None)]))
    assert got[0]["event"]["EventData"] is None
    assert got[0]["event"]["System"]["Security"] is None


def test_mixed_providers_in_one_file(tmp_path):
    records = [
        shellcore_62407(T0, "ESPProgress", "{}"),
        EventRecord(100, T0, [("Message", "m")], level=2, **AUTOPILOT),
        EventRecord(404, T0, [("PolicyName", "P"), ("HRESULT", "0x1")], **DMEDP),
        shellcore_62407(T0, "Again", "{}", computer="OTHER-PC"),
    ]
    got = _read(tmp_path, write_evtx(records))
    for rec, g in zip(records, got, strict=True):
        system = g["event"]["System"]
        assert system["Provider"]["#attributes"]["Name"] == rec.provider
        assert (system["Channel"], system["EventID"]) == (rec.channel, rec.event_id)
        assert (system["Level"], system["Computer"]) == (rec.level, rec.computer)
        assert system["Keywords"] == f"0x{rec.keywords:016x}"
        assert g["pairs"] == list(rec.data)


def test_multi_chunk_file_loses_and_duplicates_nothing(tmp_path):
    records = _big_records(5000)
    data = write_evtx(records)
    got = _read(tmp_path, data)
    assert len(_chunks(data)) > 100
    assert [g["id"] for g in got] == list(range(1, 5001))
    assert [g["event"]["System"]["EventRecordID"] for g in got] == list(range(1, 5001))
    assert [g["pairs"][1][1] for g in got] == [r.data[1][1] for r in records]
    assert [g["ts"] for g in got] == [r.ts_utc for r in records]


def test_file_size_is_header_plus_whole_chunks():
    data = write_evtx(_big_records(100))
    assert len(data) == 4096 + 65536 * len(_chunks(data))
    assert (len(data) - 4096) // 65536 == struct.unpack_from("<H", data, 42)[0]


def test_crcs_match_zlib():
    data = write_evtx(_big_records(200))
    assert struct.unpack_from("<I", data, 124)[0] == zlib.crc32(data[:120])
    for chunk in _chunks(data):
        free = struct.unpack_from("<I", chunk, 48)[0]
        assert struct.unpack_from("<I", chunk, 52)[0] == zlib.crc32(chunk[512:free])
        header_crc = zlib.crc32(chunk[:120] + chunk[128:512])
        assert struct.unpack_from("<I", chunk, 124)[0] == header_crc


def test_corrupted_chunk_fails_checksum_validation(tmp_path):
    data = bytearray(write_evtx(_big_records(100)))
    data[4096 + 65536 + 600] ^= 0xFF  # inside chunk 1's records
    path = tmp_path / "bad.evtx"
    path.write_bytes(data)
    parser = evtx.PyEvtxParser(str(path), validate_checksums=True)
    with pytest.raises(RuntimeError, match="(?i)crc|checksum"):
        list(parser.records_json())


def test_header_fields():
    data = write_evtx(_big_records(60), first_record_id=1000)
    n = len(_chunks(data))
    assert data[:8] == b"ElfFile\x00"
    fields = struct.unpack_from("<QQQIHHHH", data, 8)
    assert fields == (0, n - 1, 1060, 128, 2, 3, 4096, n)


def test_chunk_record_ids_and_offsets():
    data = write_evtx(_big_records(60), first_record_id=1000)
    expected_first = 1000
    for chunk in _chunks(data):
        first, last, first_id, last_id = struct.unpack_from("<4Q", chunk, 8)
        last_offset, free = struct.unpack_from("<II", chunk, 44)
        assert (first, first_id) == (expected_first, expected_first)
        assert (last, struct.unpack_from("<Q", chunk, last_offset + 8)[0]) == (
            last_id,
            last_id,
        )
        size = struct.unpack_from("<I", chunk, last_offset + 4)[0]
        assert last_offset + size == free and not any(chunk[free:])
        expected_first = last_id + 1
    assert expected_first == 1060


def test_records_are_aligned_with_size_copy():
    chunk = _chunks(write_evtx(_big_records(10)))[0]
    free, offset, sizes = struct.unpack_from("<I", chunk, 48)[0], 512, []
    while offset < free:
        magic, size = struct.unpack_from("<II", chunk, offset)
        assert (magic, size % 8) == (0x2A2A, 0)
        assert struct.unpack_from("<I", chunk, offset + size - 4)[0] == size
        sizes.append(size)
        offset += size
    assert len(sizes) == 10


def test_string_table_chains_hold_defined_names():
    chunk = _chunks(write_evtx([shellcore_62407(T0, "a", "b")]))[0]
    names = []
    for bucket, head in enumerate(struct.unpack_from("<64I", chunk, 128)):
        while head:
            nxt, h, n = struct.unpack_from("<IHH", chunk, head)
            name = chunk[head + 8 : head + 8 + 2 * n].decode("utf-16-le")
            assert (h, h % 64) == (name_hash(name), bucket)
            names.append(name)
            head = nxt
    assert {"Event", "System", "EventData", "Data", "Name", "UserID"} <= set(names)
    assert len(names) == len(set(names))


def test_template_table_entries_follow_their_instance_token():
    chunk = _chunks(write_evtx([shellcore_62407(T0, "a", "b")]))[0]
    entries = [e for e in struct.unpack_from("<32I", chunk, 384) if e]
    assert len(entries) == 2  # System and EventData templates (distinct buckets)
    for entry in entries:
        assert chunk[entry - 10] == 0x0C
        assert struct.unpack_from("<I", chunk, entry - 4)[0] == entry


def test_templates_are_reused_within_a_chunk():
    one = write_evtx([shellcore_62407(T0, "a", "b")])
    two = write_evtx([shellcore_62407(T0, "a", "b")] * 2)
    free = [struct.unpack_from("<I", d, 4096 + 48)[0] - 512 for d in (one, two)]
    assert free[1] - free[0] < free[0] / 3  # second record: no definitions


def test_record_too_large_for_a_chunk_is_rejected():
    with pytest.raises(ValueError):
        write_evtx([shellcore_62407(T0, "x", "y" * 40000)])


def test_near_limit_record_moves_to_a_fresh_chunk(tmp_path):
    # 31600 units fit a fresh chunk (with template definitions) but not behind
    # a first record; the big one brings a new EventData template, which the
    # writer must forget in chunk 0 and define again in chunk 1.
    big = "z" * 31600
    records = [shellcore_62407(T0, "small", "s"), EventRecord(1, T0, [("P", big)])]
    data = write_evtx(records)
    assert len(_chunks(data)) == 2
    for chunk in _chunks(data):  # nothing left over from the failed attempt
        free = struct.unpack_from("<I", chunk, 48)[0]
        assert all(e < free for e in struct.unpack_from("<96I", chunk, 128))
    got = [g["pairs"] for g in _read(tmp_path, data)]
    assert got == [[("Name", "small"), ("Value", "s")], [("P", big)]]


def test_no_records_gives_an_empty_log(tmp_path):
    data = write_evtx([])
    assert len(data) == 4096 + 65536 and _read(tmp_path, data) == []


def test_aware_non_utc_timestamp_is_converted(tmp_path):
    ts = datetime(2025, 3, 4, 12, 0, 0, 1, tzinfo=timezone(timedelta(hours=2)))
    (got,) = _read(tmp_path, write_evtx([shellcore_62407(ts, "a", "b")]))
    assert got["ts"] == datetime(2025, 3, 4, 10, 0, 0, 1, tzinfo=UTC)


def test_out_of_range_event_id_is_rejected():
    with pytest.raises(ValueError, match="out of range"):
        write_evtx([EventRecord(70000, T0, [])])


def test_output_is_deterministic():
    assert write_evtx(_big_records(30)) == write_evtx(_big_records(30))


def test_naive_timestamp_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        write_evtx([shellcore_62407(datetime(2025, 1, 1), "a", "b")])


def test_name_hash_matches_windows():
    hashes = [name_hash(n) for n in ("Event", "System", "Data", "Name")]
    assert hashes == [0x0CBA, 0x546F, 0x6F8A, 0x954B]


def test_sid_encoding():
    assert sid_bytes("S-1-5-18") == bytes.fromhex("010100000000000512000000")
    assert len(sid_bytes("S-1-5-21-1826187002-192254098-2465700952-1001")) == 28


def _shape(node):
    """Keys (in order) and leaf types of a parsed JSON event, values dropped."""
    if isinstance(node, dict):
        return [(k, _shape(v)) for k, v in node.items()]
    return type(node).__name__


def _real_62407(corpus: Path) -> tuple[dict, str]:
    path = corpus_file(corpus, REAL_SHELLCORE)
    as_json = evtx.PyEvtxParser(str(path)).records_json()
    as_xml = evtx.PyEvtxParser(str(path)).records()
    for json_rec, xml_rec in zip(as_json, as_xml, strict=True):
        event = json.loads(json_rec["data"])["Event"]
        if event["System"]["EventID"] == 62407:
            return event, xml_rec["data"]
    raise AssertionError("no 62407 in the real Shell-Core file")


def _ours_62407(tmp_path: Path) -> tuple[dict, str]:
    rec = shellcore_62407(
        T0,
        "NavigationStarted",
        '{"requestUri":{}}',
        process_id=1,
        thread_id=2,
        user_sid="S-1-5-21-1-2-3-1001",
    )
    data = write_evtx([rec])
    (got,) = _read(tmp_path, data)
    xml = next(iter(evtx.PyEvtxParser(io.BytesIO(data)).records()))["data"]
    return got["event"], xml


def test_json_shape_matches_real_62407(corpus, tmp_path):
    real, _ = _real_62407(corpus)
    ours, _ = _ours_62407(tmp_path)
    assert _shape(ours["System"]) == _shape(real["System"])
    assert _shape(ours) == _shape(real)
    assert list(ours["EventData"]) == list(real["EventData"]) == ["Name", "Value"]


def test_xml_structure_matches_real_62407(corpus, tmp_path):
    def structure(xml: str) -> list[tuple[str, list[str]]]:
        root = ElementTree.fromstring(xml.encode("utf-8"))
        return [(e.tag, sorted(e.attrib)) for e in root.iter()]

    assert structure(_ours_62407(tmp_path)[1]) == structure(_real_62407(corpus)[1])


# A minimal BinXML walker (docs/formats.md §3.7.6-§3.7.7) to compare template
# token streams with a real Windows record, byte for byte except sizes and offsets.
def _u16(b: bytes, o: int) -> int:
    return struct.unpack_from("<H", b, o)[0]


def _u32(b: bytes, o: int) -> int:
    return struct.unpack_from("<I", b, o)[0]


def _name_at(c: bytes, off: int) -> str:
    return c[off + 8 : off + 8 + 2 * _u16(c, off + 6)].decode("utf-16-le")


def _skip_inline_name(c: bytes, off: int, pos: int) -> int:
    return pos + 10 + 2 * _u16(c, off + 6) if off == pos else pos


def _tokens(c: bytes, pos: int, end: int) -> list[tuple]:
    out: list[tuple] = []
    while pos < end:
        t = c[pos]
        if t == 0x0F:
            out.append(("fragment",))
            pos += 4
        elif t & 0xBF == 0x01:  # element start: token, dep id, size, name
            off = _u32(c, pos + 7)
            out.append(("open", t, _u16(c, pos + 1), _name_at(c, off)))
            pos = _skip_inline_name(c, off, pos + 11) + (4 if t & 0x40 else 0)
        elif t & 0xBF == 0x06:
            off = _u32(c, pos + 1)
            out.append(("attr", t, _name_at(c, off)))
            pos = _skip_inline_name(c, off, pos + 5)
        elif t & 0xBF == 0x05:
            n = _u16(c, pos + 2)
            out.append(("value", t, c[pos + 1], c[pos + 4 : pos + 4 + 2 * n]))
            pos += 4 + 2 * n
        elif t in (0x0D, 0x0E):
            out.append(("sub", t, _u16(c, pos + 1), c[pos + 3]))
            pos += 4
        else:
            assert t in (0x00, 0x02, 0x03, 0x04), hex(t)
            out.append((t,))
            pos += 1
    return out


def _template(c: bytes, pos: int) -> tuple[list[tuple], list[tuple], int]:
    """(template tokens, descriptors, values offset) of the fragment at pos."""
    assert c[pos : pos + 5] == b"\x0f\x01\x01\x00\x0c"
    definition = _u32(c, pos + 10)
    size = _u32(c, definition + 20)
    body = _tokens(c, definition + 24, definition + 24 + size)
    inst = definition + 24 + size if definition == pos + 14 else pos + 14
    n = _u32(c, inst)
    descriptors = [struct.unpack_from("<HB", c, inst + 4 + 4 * i) for i in range(n)]
    return body, descriptors, inst + 4 + 4 * n


def _first_62407_templates(data: bytes) -> tuple:
    for k in range(_u16(data, 42)):
        c = data[4096 + k * 65536 : 4096 + (k + 1) * 65536]
        pos, free = 512, _u32(c, 48)
        while pos < free:
            body, desc, values = _template(c, pos + 24)
            event_id_at = values + sum(size for size, _ in desc[:3])
            if len(desc) == 18 and _u16(c, event_id_at) == 62407:
                inner = _template(c, values + sum(size for size, _ in desc[:17]))
                return body, desc, inner[0], [t for _, t in inner[1]]
            pos += _u32(c, pos + 4)
    raise AssertionError("no 62407 record")


def test_templates_match_real_62407_token_for_token(corpus):
    real = _first_62407_templates(corpus_file(corpus, REAL_SHELLCORE).read_bytes())
    at = next(i for i, t in enumerate(real[0]) if t[-1:] == ("Computer",))
    computer = real[0][at + 2][3].decode("utf-16-le")  # open, 0x02, literal
    rec = shellcore_62407(T0, "a", "b", computer=computer, user_sid="S-1-5-21-1-2-3-4")
    ours = _first_62407_templates(write_evtx([rec]))
    assert ours[0] == real[0] and len(ours[0]) == 75  # System template tokens
    assert ours[1][:17] == real[1][:17]  # descriptors before the EventData value
    assert ours[1][17][1] == real[1][17][1] == 0x21
    assert ours[2:] == real[2:]  # EventData template tokens and value types
