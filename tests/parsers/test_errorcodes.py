"""parsers/errorcodes.py: spellings -> u32, facilities, the catalogue, explain()."""

from __future__ import annotations

import csv
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from espfleet.parsers import errorcodes as ec

U32 = st.integers(min_value=0, max_value=0xFFFFFFFF)


def spellings(u: int) -> list[str]:
    return [f"0x{u:08X}", f"0x{u:x}", str(u), str(ec.to_signed(u))]


# --- conversions -------------------------------------------------------------------


@given(U32)
def test_every_spelling_gives_the_same_code(u):
    assert {ec.parse_code(s) for s in spellings(u)} == {u}
    assert ec.parse_code(f"{u:08x}", bare_hex=True) == u
    assert ec.normalize(str(ec.to_signed(u))) == (u, f"0x{u:08X}")


@given(st.integers(min_value=1, max_value=0xFFFF))
def test_win32_round_trips_through_hresult(w):
    hr = ec.hresult_from_win32(w)
    assert ec.win32_of(hr) == w and ec.facility_of(hr) == ec.FACILITY_WIN32
    assert ec.severity_of(hr) == "failure"


def test_worked_examples_from_formats_6_1():
    assert ec.parse_code("2147943860") == ec.hresult_from_win32(1460) == 0x800705B4
    assert ec.parse_code("-2147467259") == 0x80004005
    assert ec.parse_code("-2016410844") == ec.parse_code("2278556452") == 0x87D00324
    assert [ec.hresult_from_win32(w) for w in (1603, 1618, 3010)] == [
        0x80070643,
        0x80070652,
        0x80070BC2,
    ]


def test_facility_names():
    assert ec.facility_name(0x800705B4) == "WIN32"
    assert ec.facility_name(0x80072EFD) == "WIN32 (WinINet/WinHTTP)"
    assert ec.facility_name(0x87D00324) == "Configuration Manager"
    assert ec.facility_name(0x80180014) == "MDM enrollment (MENROLL_E_*)"
    assert ec.facility_name(0x81036501) == "Autopilot / ESP"


# --- explain -----------------------------------------------------------------------------


def test_three_spellings_print_the_same_answer():
    texts = [
        ec.format_explanation(ec.explain(s))
        for s in ("0x800705b4", "2147943860", "-2147023436")
    ]
    bodies = {t.split("\n", 1)[1] for t in texts}
    assert len(bodies) == 1
    body = bodies.pop()
    assert (
        "0x800705B4" in body and "ERROR_TIMEOUT" in body and "Win32 error 1460" in body
    )
    assert [t.split("\n", 1)[0] for t in texts] == [
        "input:      0x800705b4",
        "input:      2147943860",
        "input:      -2147023436",
    ]


@given(U32.filter(lambda u: u > 0xFFFF and not 80_000_000 <= u <= 99_999_999))
def test_explain_ignores_the_spelling(u):
    bodies = {
        ec.format_explanation(ec.explain(s)).split("\n", 1)[1] for s in spellings(u)
    }
    assert len(bodies) == 1


def test_small_decimal_is_ambiguous():
    e = ec.explain("1603")
    assert (e.hex, e.win32, e.symbol) == ("0x80070643", 1603, "ERROR_INSTALL_FAILURE")
    readings = [c.reading for c in e.candidates]
    assert (
        "MSI exit code 1603" in readings and "HRESULT 0x00000643 (literal)" in readings
    )


def test_dds_and_ccmsetup_codes():
    assert ec.explain("807").symbol == "ZtdDeviceIsNotRegistered"
    assert ec.explain(807).confidence == "low"
    assert ec.explain("7").meaning == "ccmsetup.exe return code: a restart is required."


def test_bare_eight_digit_hex_prefers_the_hresult():
    e = ec.explain("80070002")
    assert (e.hex, e.symbol) == ("0x80070002", "ERROR_FILE_NOT_FOUND")
    assert e.candidates[0].reading == "decimal 80070002"


def test_symbols_and_enum_names():
    assert ec.explain("E_FAIL").hex == "0x80004005"
    e = ec.explain("enExecutionFail")
    assert (e.code, e.symbol) == (None, "enExecutionFail")


def test_enrollment_discovery_code_is_catalogued():
    # Logged twice during enrollment discovery in the jaeng sample (docs/formats.md §6.7).
    e = ec.explain("0x80192EE7")
    assert (e.hex, e.confidence) == ("0x80192EE7", "high")
    assert "WinHTTP 12007" in e.meaning and "name" in e.meaning
    assert "how-to-monitor.md" in e.source
    http404 = ec.explain("0x80190194")
    assert (http404.symbol, http404.confidence) == ("HTTP_E_STATUS_NOT_FOUND", "high")
    assert "HTTP 404" in http404.meaning


def test_one_new_code_prints_the_same_answer_in_every_spelling():
    texts = [
        ec.format_explanation(ec.explain(s))
        for s in ("0x80192EE7", "0x80192ee7", "80192ee7", "2149134055", "-2145833241")
    ]
    bodies = {t.split("\n", 1)[1] for t in texts}
    assert len(bodies) == 1
    assert "0x80192EE7  (unsigned 2149134055, signed -2145833241)" in bodies.pop()


def test_multiple_mdm_configurations_code_is_spelled_as_published():
    # Windows Autopilot known issues publishes it as 0xc1036501, not 0x81036501.
    for spelling in ("0xC1036501", "0xc1036501", "3238225153", "-1056742143"):
        e = ec.explain(spelling)
        assert e.hex == "0xC1036501" and "more than one MDM configuration" in e.meaning
    assert ec.lookup(0xC1036501).code == "0xC1036501"
    assert ec.lookup(0xC1036501) is not ec.lookup(0x81036501)


def test_ime_return_codes_are_a_domain():
    e = ec.explain("1707")
    assert (e.reading, e.symbol) == (
        "Intune Win32 app return code 1707",
        "ERROR_INSTALL_SUCCESS",
    )
    readings = [c.reading for c in ec.explain("3010").candidates]
    assert "Intune Win32 app return code 3010" in readings
    assert "MSI exit code 3010" in readings
    assert [c.reading for c in ec.explain("0").candidates][-1] == "ime_exit 0"
    assert ec.lookup(1641, "ime_exit").meaning.startswith(
        "Intune Win32 app return code 1641: hard reboot"
    )


def test_sources_that_disagree_lower_the_confidence():
    e = ec.explain("0x8018002B")
    assert (e.symbol, e.confidence) == ("MENROLL_E_MDM_NOT_CONFIGURED", "medium")
    assert "Sources disagree" in e.meaning
    assert ec.explain("0x87D00215").confidence == "medium"
    assert ec.explain("0x80072F8F").confidence == "medium"


def test_unverified_codes_are_low_confidence():
    assert ec.explain("0x81036501").confidence == "low"
    assert ec.explain("0x81036502").confidence == "low"


def test_unknown_and_garbage():
    assert "not in the catalogue" in ec.format_explanation(ec.explain("0x80071234"))
    assert ec.format_explanation(ec.explain("banana")).endswith(
        "not a recognised error code"
    )


# --- catalogue ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with ec.CATALOGUE_PATH.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == ec.CATALOGUE_COLUMNS
        return list(reader)


def test_catalogue_has_150_rows_and_no_duplicate_code_per_domain(rows):
    keys = [(r["domain"], r["code"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert len(rows) >= 150
    # hresult and configmgr share one 32-bit key space in lookup().
    numeric = [r["code"] for r in rows if r["domain"] in ec.NUMERIC_DOMAINS]
    assert len(set(numeric)) == len(numeric)


def test_catalogue_rows_are_valid(rows):
    for r in rows:
        assert None not in r.values() and r["meaning"] and r["source"], r
        assert r["confidence"] in ec.CONFIDENCES, r
        if r["domain"] in ec.NUMERIC_DOMAINS:
            assert r["code"] == f"0x{int(r['code'], 16):08X}", r
        elif r["domain"] in ec.SMALL_DOMAINS:
            assert r["code"].isdigit(), r
        else:
            assert r["domain"] == "ts_engine", r


SUFFIX = re.compile(r"; docs/formats\.md §[\d.]+(, §[\d.]+)*$")


def test_every_source_is_one_line_ending_in_a_section_of_6(rows):
    for r in rows:
        assert "\n" not in r["source"] and SUFFIX.search(r["source"]), r
        assert re.search(r"§6\.\d+$", r["source"]), r


def test_unverified_or_community_rows_are_low(rows):
    for r in rows:
        reference = SUFFIX.sub("", r["source"]).rstrip(" )").removesuffix("(")
        if "unverified" in r["source"] or reference.endswith("community"):
            assert r["confidence"] == "low", r


def test_rows_whose_sources_disagree_are_at_most_medium(rows):
    disagree = [r for r in rows if "sources disagree" in r["meaning"].lower()]
    assert len(disagree) >= 5
    assert all(r["confidence"] != "high" for r in disagree)


def test_facility_names_say_what_the_low_word_is():
    assert ec.facility_name(0x80190194) == "HTTP (status 404)"
    assert ec.facility_name(0x80192EE7) == "HTTP (WinHTTP error 12007)"
    assert ec.facility_name(0xCAA82EE2) == "Entra token broker (ADAL/WAM)"
    assert ec.facility_name(0x87D1041C).startswith("Configuration Manager / Intune")
    assert ec.facility_name(0x87D300C9) == "Intune Management Extension (Win32 apps)"
