"""parsers/regfile/: three .reg dialects into registry_values."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from espfleet.parsers import regfile, schema
from tests.conftest import corpus_file

DATA = Path(__file__).parents[1] / "data" / "registry"
V5 = DATA / "esp_keys_regedit5_utf16.reg"
V4 = DATA / "esp_keys_regedit4_ansi.reg"
DUMPS = [
    "reg/MdmDiagReport_RegistryDump_Gsagar109-Public_2026.reg.gz",
    "reg/MdmDiagReport_RegistryDump_itziktdk-MyRes_2024.reg.gz",
    "reg/MdmDiagReport_RegistryDump_joopjaeng-jaeng_2020.reg.gz",
    "reg/MdmDiagReport_RegistryDump_Gsagar109-Public_2026_TAIL-from-line33359.reg",
    "reg/MdmDiagReport_RegistryDump_itziktdk-MyRes_2024_TAIL-from-line37647.reg",
    "reg/MdmDiagReport_RegistryDump_joopjaeng-jaeng_2020_TAIL-from-line14207.reg",
]
AP_KEY = r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot"


def rows(data: bytes) -> list[dict]:
    result = regfile.parse(data)
    assert result.table.schema == schema.REGISTRY_VALUES
    return result.table.to_pylist()


def value(table_rows: list[dict], name: str, key: str | None = None) -> dict:
    hits = [
        r
        for r in table_rows
        if r["value_name"] == name
        and (
            key is None
            or regfile.normalize_key(r["key_path"]).endswith(regfile.normalize_key(key))
        )
    ]
    assert hits, name
    return hits[0]


def load(corpus: Path, relative: str) -> bytes:
    data = corpus_file(corpus, relative).read_bytes()
    return gzip.decompress(data) if relative.endswith(".gz") else data


# --- sniff -------------------------------------------------------------------


def test_sniff_regedit5_utf16():
    head = (
        "\ufeffWindows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\X]\r\n"
    )
    assert regfile.sniff(head.encode("utf-16-le"))


def test_sniff_regedit4_and_mdmdiag():
    assert regfile.sniff(b"REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\X]\r\n")
    assert regfile.sniff(b'[HKEY_LOCAL_MACHINE\\software\\x]\r\n    "a"=DWORD:1\r\n')


def test_sniff_rejects_ini_json_and_binary():
    assert not regfile.sniff(b"[Settings]\r\nName=value\r\n")
    assert not regfile.sniff(b'{"HKEY_LOCAL_MACHINE": 1}')
    assert not regfile.sniff(b"[HKEY_LOCAL_MACHINE\\x]\x00\x01\x02\x00\x00\x00\x00")


# --- golden fixtures -----------------------------------------------------------


def test_regedit5_golden():
    result = regfile.parse(V5.read_bytes())
    t = result.table.to_pylist()
    assert (len(t), result.warnings, result.skipped) == (35, [], 0)
    assert {r["dialect"] for r in t} == {"regedit5"}
    # "InstallationState"=dword:00000002 under ...\Tracking\ConfigMgr\Provisioning_TS
    ts = value(t, "InstallationState", r"\Tracking\ConfigMgr\Provisioning_TS")
    assert (ts["value_type"], ts["value_int"]) == ("REG_DWORD", 2)


def test_regedit5_wrapped_hex7_decodes_to_lines():
    t = rows(V5.read_bytes())
    multi = value(t, "LastSuccessfulInstallParams")
    assert multi["value_type"] == "REG_MULTI_SZ"
    assert (
        multi["value_text"]
        == "SMSSITECODE=PS1\nCCMHOSTNAME=cmg.contoso.example/CCM_Proxy"
    )


def test_regedit5_wrapped_binary_and_qword():
    t = rows(V5.read_bytes())
    binary = value(t, "FailureActions")
    assert binary["value_type"] == "REG_BINARY"
    assert binary["value_hex"].startswith("80510100") and binary["value_hex"].endswith(
        "4647"
    )
    assert len(binary["value_hex"]) == 2 * 68
    qword = value(t, "FirstRunTime")
    assert (qword["value_type"], qword["value_int"]) == (
        "REG_QWORD",
        0x01DA84F13CE959FB,
    )


def test_regedit5_expand_sz_escapes_default_and_deletions():
    t = rows(V5.read_bytes())
    assert value(t, "LogDirectory")["value_text"] == "%SystemRoot%\\ccmsetup\\Logs"
    assert value(t, "InstallDir")["value_text"] == 'C:\\Windows\\CCM "client"'
    assert value(t, "")["value_text"] == "default value"
    assert value(t, "ObsoleteValue")["is_deletion"]
    deleted = [
        r["key_path"] for r in t if r["is_deletion"] and r["value_type"] == "KEY"
    ]
    assert deleted == ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\CCMSetup\\Stale"]


def test_empty_key_gets_a_key_row():
    t = rows(V5.read_bytes())
    keys = [r for r in t if r["value_type"] == "KEY" and not r["is_deletion"]]
    assert [r["key_path"].rsplit("\\", 1)[1] for r in keys] == [
        "EnrollmentStatusTracking"
    ]


def test_regedit4_golden_ansi():
    result = regfile.parse(V4.read_bytes())
    t = result.table.to_pylist()
    assert (len(t), result.warnings) == (35, [])
    assert {r["dialect"] for r in t} == {"regedit4"}
    assert (
        value(t, "DeploymentProfileName")["value_text"] == "Profil déploiement hybride"
    )
    # hex(7)/hex(2) in REGEDIT4 are ANSI bytes, not UTF-16LE
    assert value(t, "LastSuccessfulInstallParams")["value_text"].startswith(
        "SMSSITECODE=PS1\n"
    )
    assert value(t, "LogDirectory")["value_text"] == "%SystemRoot%\\ccmsetup\\Logs"


# --- inline quirks ---------------------------------------------------------------


MDM = (
    b"[HKEY_LOCAL_MACHINE\\software\\microsoft\\x]\r\n"
    b'    "Json"="{"a":"b"}"\r\n'
    b'    "Path"="SYSTEM\\Control\\"\r\n'
    b'    "Xml"="<a x="1">\r\n'
    b"  <b/>\r\n"
    b'</a>"\r\n'
    b'    "Q"=QWORD:ffffffffffffffff\r\n'
    b'    "D"=DWORD:b2d285f0\r\n'
    b'    "M"=MULTI_SZ:"https://x/y"\r\n'
    b'    "Bin"=hex(3):de,ad\r\n'
    b'    "Ctl"="a\x05b\xd3"\r\n'
    b"\r\n"
    b"[HKEY_LOCAL_MACHINE\\software\\microsoft\\empty]\r\n"
    b"\r\n"
)


def test_mdmdiag_strings_are_literal_up_to_the_last_quote():
    t = rows(MDM)
    assert value(t, "Json")["value_text"] == '{"a":"b"}'
    assert value(t, "Path")["value_text"] == "SYSTEM\\Control\\"


def test_mdmdiag_string_spanning_lines():
    t = rows(MDM)
    assert value(t, "Xml")["value_text"] == '<a x="1">\r\n  <b/>\r\n</a>'
    assert value(t, "Q")["line_no"] == 7


def test_mdmdiag_numeric_types():
    t = rows(MDM)
    assert value(t, "Q")["value_int"] == -1  # QWORD kept two's complement
    assert value(t, "D")["value_int"] == 0xB2D285F0
    assert (value(t, "M")["value_type"], value(t, "M")["value_text"]) == (
        "REG_MULTI_SZ",
        "https://x/y",
    )
    assert (value(t, "Bin")["value_type"], value(t, "Bin")["value_hex"]) == (
        "REG_BINARY",
        "dead",
    )


def test_mdmdiag_control_and_non_utf8_bytes():
    assert value(rows(MDM), "Ctl")["value_text"] == "a\x05bÓ"


def test_bad_lines_warn_and_keep_going():
    data = b'[HKEY_LOCAL_MACHINE\\x]\r\n"a"=dword:zz\r\n"b"=hex:0g\r\ngarbage\r\n"c"=dword:1\r\n'
    result = regfile.parse(data)
    assert [w.line for w in result.warnings] == [2, 3, 4]
    assert (result.skipped, result.table.column("value_name").to_pylist()) == (3, ["c"])


def test_stops_after_twenty_consecutive_failures():
    data = b"[HKEY_LOCAL_MACHINE\\x]\r\n" + b"junk\r\n" * 50 + b'"late"=dword:1\r\n'
    result = regfile.parse(data)
    assert result.skipped == 20 and result.table.num_rows == 1  # only the KEY row
    assert result.warnings[-1].reason == "gave up after 20 failures in a row"


def test_normalize_key_spells_out_the_root_and_lowercases():
    assert (
        regfile.normalize_key(r"[HKLM\SOFTWARE\Microsoft\Enrollments\ABC\FirstSync\]")
        == r"hkey_local_machine\software\microsoft\enrollments\abc\firstsync"
    )


# --- real dumps ------------------------------------------------------------------


@pytest.mark.parametrize("relative", DUMPS)
def test_real_dumps_parse_cleanly(corpus, relative):
    result = regfile.parse(load(corpus, relative))
    assert result.warnings == [] and result.table.num_rows > 500
    assert set(result.table.column("dialect").to_pylist()) == {"mdmdiag"}


@pytest.mark.parametrize("relative", DUMPS[:3])
def test_real_dumps_autopilot_disabled_flag(corpus, relative):
    row = value(rows(load(corpus, relative)), "IsAutoPilotDisabled", AP_KEY)
    assert (row["value_type"], row["value_int"]) == ("REG_DWORD", 0)


def test_real_dump_known_values(corpus):
    t = rows(load(corpus, DUMPS[1]))
    assert value(t, "_Container_LatestRunTickCount")["value_int"] == 0x3636E70
    urls = [r["value_text"] for r in t if r["value_name"] == "DownloadUrlList"]
    assert "https://naprodimedatahotfix.azureedge.net/IntuneWindowsAgent.msi" in urls
    hashes = [r for r in t if r["value_name"] == "hashValue"]
    assert hashes[0]["value_type"] == "REG_BINARY" and len(hashes[0]["value_hex"]) == 32
    layout = value(t, "StartLayout")["value_text"]
    assert layout.startswith("<LayoutModificationTemplate") and layout.endswith(
        "Template>"
    )
    empty = [
        r
        for r in t
        if r["value_type"] == "KEY"
        and r["key_path"].endswith("EnrollmentStatusTracking")
    ]
    assert len(empty) == 1


def test_real_dump_long_line_and_control_bytes(corpus):
    t = rows(load(corpus, DUMPS[1]))
    long_row = next(
        r for r in t if r["line_no"] == 10689
    )  # 8,390-character hex(3) line
    assert (
        long_row["value_name"] == "admxMetadataDevice"
        and len(long_row["value_hex"]) > 5000
    )
    ctl = next(
        r for r in t if r["line_no"] == 39192
    )  # "ExpectedValue"="????...\x05..."
    assert ctl["value_name"] == "ExpectedValue" and "\x05" in ctl["value_text"]


def test_real_tail_node_uri_with_esp_tracking(corpus):
    t = rows(load(corpus, DUMPS[4]))
    uris = {r["value_text"] for r in t if r["value_name"] == "NodeUri"}
    assert (
        "./Device/Vendor/MSFT/EnrollmentStatusTracking/DevicePreparation/"
        "PolicyProviders/ConfigMgr/InstallationState"
    ) in uris


def test_unterminated_string_stops_at_the_next_key():
    data = (
        b'[HKEY_LOCAL_MACHINE\\a]\r\n    "X"="<a>\r\n<b/>\r\n\r\n'
        b'[HKEY_LOCAL_MACHINE\\b]\r\n    "Y"=DWORD:1\r\n'
    )
    result = regfile.parse(data)
    t = result.table.to_pylist()
    assert [(r["key_path"], r["value_name"]) for r in t] == [
        ("HKEY_LOCAL_MACHINE\\a", "X"),
        ("HKEY_LOCAL_MACHINE\\b", "Y"),
    ]
    assert t[0]["value_text"] == "<a>\r\n<b/>"
    assert [w.reason for w in result.warnings] == ["unterminated string"]


def test_regedit_value_names_with_escapes_equals_and_brackets():
    data = (
        b'REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\k]\r\n"a\\"b"=dword:1\r\n"x=]y"="v"\r\n'
    )
    t = rows(data)
    assert [(r["value_name"], r["value_int"], r["value_text"]) for r in t] == [
        ('a"b', 1, None),
        ("x=]y", None, "v"),
    ]
