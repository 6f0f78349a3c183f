"""parsers/events/rows.py: events rows built from what a source read."""

from __future__ import annotations

from datetime import UTC, datetime

from espfleet.parsers.events.rows import EventRows, name_value, parse_iso_utc

SHELL = "Microsoft-Windows-Shell-Core/Operational"
AUTOPILOT = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot"


def test_parse_iso_utc_any_fraction():
    assert parse_iso_utc("2022-08-02T13:28:10.3350735Z") == datetime(
        2022, 8, 2, 13, 28, 10, 335073, tzinfo=UTC
    )
    assert parse_iso_utc(" 2024-04-03 07:40:00 UTC") == datetime(
        2024, 4, 3, 7, 40, tzinfo=UTC
    )
    assert parse_iso_utc("2024-02-30T00:00:00Z") is None
    assert parse_iso_utc("yesterday") is None
    assert parse_iso_utc(None) is None


def test_name_value_by_item_name_or_position():
    assert name_value(62407, {"Name": "CDJUIError", "Value": "80180014"}) == (
        "CDJUIError",
        "80180014",
    )
    assert name_value(62407, {"Data": ["N", "V"]}) == ("N", "V")
    assert name_value(62407, {"param1": "N", "param2": 5}) == ("N", "5")
    assert name_value(62407, {"Data": ["N"]}) == ("N", None)
    assert name_value(62404, {"Name": "N", "Value": "V"}) == (None, None)
    assert name_value(62407, None) == (None, None)


def test_table_derives_names_codes_and_meanings():
    rows = EventRows("xml")
    rows.add(
        SHELL,
        "Microsoft-Windows-Shell-Core",
        62407,
        1,
        "2024-04-03T07:40:00.1234567Z",
        4,
        "DESKTOP-TEST01",
        {"Name": "CDJUIError", "Value": "80180014"},
    )
    rows.add(
        AUTOPILOT,
        "Microsoft-Windows-ModernDeployment-Diagnostics-Provider",
        171,
        2,
        datetime(2024, 4, 3, 7, 41, tzinfo=UTC),
        2,
        "DESKTOP-TEST01",
        {"HRESULT": "0x80280095"},
    )
    rows.add(
        None,
        "Some-Provider",
        7,
        3,
        None,
        300,
        None,
        None,
        "The call failed. HRESULT=0x80070005",
    )
    got = rows.table().to_pylist()
    assert [r["source_format"] for r in got] == ["xml", "xml", "xml"]
    assert [r["ts_utc"] for r in got] == [
        datetime(2024, 4, 3, 7, 40, 0, 123456, tzinfo=UTC),
        datetime(2024, 4, 3, 7, 41, tzinfo=UTC),
        None,
    ]
    assert [(r["name"], r["value"]) for r in got] == [
        ("CDJUIError", "80180014"),
        (None, None),
        (None, None),
    ]
    assert [(r["error_code"], r["error_code_hex"]) for r in got] == [
        (0x80180014, "0x80180014"),
        (0x80280095, "0x80280095"),
        (0x80070005, "0x80070005"),
    ]
    assert [r["level"] for r in got] == [4, 2, None]  # 300 is out of int8
    assert got[0]["event_data"] == '{"Name":"CDJUIError","Value":"80180014"}'
    assert got[1]["meaning"].startswith("Failed to set TPM identity confirmed")
    assert got[2]["meaning"] is None


def test_rows_without_codes_or_62407_give_null_columns():
    rows = EventRows("evtx")
    rows.add(SHELL, "P", 62404, 1, "2024-04-03T07:40:00Z", 4, "C", {"CXID": "x"})
    (row,) = rows.table().to_pylist()
    assert (row["name"], row["value"], row["error_code"], row["error_code_hex"]) == (
        None,
        None,
        None,
        None,
    )
    assert row["meaning"].startswith("CloudExperienceHost web app activity started")


def test_negated_hex_error_item_gives_its_code_in_small_and_large_files():
    for count in (1, 300):  # below and above the rows where RE2 takes the hint
        rows = EventRows("evtx")
        for i in range(count):
            rows.add(
                AUTOPILOT,
                "P",
                171,
                i,
                "2024-04-03T07:40:00Z",
                2,
                "C",
                {"Error": "-0x7ff8fffb"},
            )
        got = rows.table()
        assert got.column("error_code").to_pylist() == [0x80070005] * count
        assert got.column("error_code_hex").to_pylist() == ["0x80070005"] * count
