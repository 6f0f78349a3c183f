"""parsers/events/codes.py: each way a Value, EventData or a message gives a code."""

from __future__ import annotations

import re

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from espfleet.parsers.events import codes

OOBE_ERROR = "CommercialOOBE_ESPDevicePreparation_MdmEnrollment_CDJUIError"


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        # 1a. JSON errorCode: unsigned, signed, as text
        ("N", '{"message":"x","errorCode":2147943860}', 0x800705B4),
        ("N", '{"message":"x","errorCode":-2147024891}', 0x80070005),
        ("N", '{"errorCode":"0x800705B4"}', 0x800705B4),
        ("N", '{"errorCode":"2147943860"}', 0x800705B4),
        ("N", '{"errorCode":"-2147024891"}', 0x80070005),
        ("N", '{"errorCode":"800705b4"}', 0x800705B4),
        ("N", '{"errorCode":"+1603"}', 1603),
        ("N", '{"errorCode":2147943860.0}', 0x800705B4),
        ("N", ' \t{"errorCode":2147943860}', 0x800705B4),
        # 1b. JSON number: JavaScript's hex, -0x7fe6fe6c & 0xFFFFFFFF = 0x80190194
        ("N", '{"number":"-7fe6fe6c"}', 0x80190194),
        ("N", '{"number":"-7fe6fe6c","message":"Discovery failed"}', 0x80190194),
        ("N", '{"number":-2145844844}', 0x80190194),
        # 1c. the message's text, or the whole Value when message is not text
        ("N", '{"message":"failed HRESULT=0x80070005","errorCode":0}', 0x80070005),
        (
            "N",
            '{"message":"BootstrapStatus: Policy provider(s) installation failed. '
            'Error: 0x87d00324.","errorCode":0}',
            0x87D00324,
        ),
        ("N", '{"message":"Error: 0x0, then Error: 0x80070002"}', 0x80070002),
        ("N", '{"errorCode":0,"detail":"Error: 0x80070005"}', 0x80070005),
        # 2a. bare 8-digit hex under an ...Error name
        ("CDJUIError", "80180014", 0x80180014),
        (OOBE_ERROR, " 80180014 ", 0x80180014),
        # 2b. plain text as a message
        ("N", "HRESULT=0x80070005", 0x80070005),
        ("N", "Policy provider(s) installation failed. Error: 0x87d00324.", 0x87D00324),
    ],
)
def test_value_error_code(name, value, code):
    assert codes.value_error_code(name, value) == code


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        # errorCode decides before number, number before the message
        (
            "N",
            '{"errorCode":2147943860,"number":"-7fe6fe6c","message":"Error: 0x80070005"}',
            0x800705B4,
        ),
        (
            "N",
            '{"errorCode":0,"number":"-7fe6fe6c","message":"Error: 0x80070005"}',
            0x80190194,
        ),
        (
            "N",
            '{"errorCode":"x","number":"0","message":"Error: 0x80070005"}',
            0x80070005,
        ),
        # invalid JSON is text
        ("N", '{"message":"unterminated Error: 0x80070005"', 0x80070005),
    ],
)
def test_value_parts_decide_in_order(name, value, code):
    assert codes.value_error_code(name, value) == code


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("N", '{"message":"x","errorCode":0}'),
        ("N", '{"message":"x","errorCode":true}'),
        # the message is text: other keys are not read
        ("N", '{"message":"x","errorCode":null,"hr":"HRESULT=0x8007000d"}'),
        ("N", "null"),
        ("N", "true"),
        ("N", ""),
        ("N", None),
        ("N", "80180014"),  # bare hex counts only under an ...Error name
        ("CDJUIError", "8018001"),
        ("CDJUIError", "00000000"),
        ("N", '{"webErrorStatus":18,"uri":"https://login.microsoftonline.com/"}'),
        ("N", "Error: 123"),  # decimals need four digits
    ],
)
def test_value_without_code(name, value):
    assert codes.value_error_code(name, value) is None


def test_value_object():
    assert codes.value_object(' {"message":"x"}') == {"message": "x"}
    assert codes.value_object('{"message":') is None
    assert codes.value_object("[1, 2]") is None
    assert codes.value_object("null") is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"HRESULT": "0x80280095"}, 0x80280095),
        ({"HRESULT": "0x8007000d", "File": "jsonhelpers.cpp", "Line": 127}, 0x8007000D),
        ({"HRESULT1": "-2147024891"}, 0x80070005),
        ({"hr": 2147942405}, 0x80070005),
        ({"ErrorCode": "5"}, 5),
        ({"Error": "-0x7ff8fffb"}, 0x80070005),
        ({"Result": "0x00000001"}, None),  # no severity bit: a success code
        ({"HRESULT": "0x0"}, None),
        ({"Other": "0x80070005"}, None),
        ({"ErrorCode": "800705b4"}, None),  # bare hex is not read in EventData
        # User Device Registration 304 "Exit code: %1" (formats.md §3.6)
        ({"ExitCode": "-2145648611", "ServerErrorMessage": ""}, 0x801C001D),
        # DMEDP 1924 "... MSI ProductCode: %3, User SID: (%4), Result: (%5)"
        (
            {
                "Message3": "{01A1A484-A75B-456A-BE98-D98D0609CDAA}",
                "Message4": "S-0-0-00-0000000000-0000000000-000000000-000",
                "HexInt1": "0x80070643",
            },
            0x80070643,
        ),
        ({"HexInt1": "0x2", "HexInt3": "0x2ab0003"}, None),  # DMEDP 306: no code
        (None, None),
    ],
)
def test_data_error_code(data, code):
    assert codes.data_error_code(data) == code


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("Failed to set TPM identity confirmed. HRESULT=0x800705B4", 0x800705B4),
        (
            "BootstrapStatus: TPM identity attestation failed. Error: 0x800705b4",
            0x800705B4,
        ),
        ("hr = -2147024891", 0x80070005),
        ("The client could not connect. Result: (0x80004005).", 0x80004005),
        ("MSI install failed. Error code: 1603", 1603),
        ("HRESULT=0x0 then hr=0x80070002", 0x80070002),
        ("SomeError: 0x80070005", 0x80070005),  # no word boundary before a keyword
        ("HRESULT=0x80070005x, Result: 0x80004005", 0x80004005),  # needs a boundary
        ("\u00e9chec HRESULT=\u00a00x80070005", 0x80070005),
        ("Re\u017fult: 0x80070005", 0x80070005),  # IGNORECASE takes the long s for s
        ('{"a":"' + "x: 12, " * 2000 + 'Error: 0x87d00324"}', 0x87D00324),
        ("Error: 123", None),
        ("HRESULT=0x0", None),
        ("", None),
        (None, None),
    ],
)
def test_message_error_code(message, code):
    assert codes.message_error_code(message) == code


# Every code key, and values spelled as JSON text (exponents and signs as a
# file may hold them): the hint must match each text `data_error_code` finds
# a code in, or that row would lose its code in `EventRows.table`.
_HINT_KEYS = (
    *("HRESULT", "HRESULT2", "hr", "Result", "ExitCode", "HexInt1", "HexInt12"),
    *("ErrorCode", "errorCode", "Error", "Other"),
)
_HINT_VALUES = (
    *("0", "1", "5", "19", "1603", "2147483647", "2147483648", "2147943860"),
    *("4294967295", "4294967296", "-1", "-2147024891", "5.0", "2147943860.0"),
    *("3e9", "3.0E9", "0.3e10", "-0.5e1", "0.5e1", "1e3", "0e5", "-0", "true", "null"),
    *('"0"', '"0x0"', '"0x1"', '"0x13"', '"0x00000001"', '"0x7fffffff"'),
    *('"0x80070005"', '"0xC0000005"', '"0x080070005"', '"0X80070005"', '"1603"'),
    *('"-0x7ff8fffb"', '"-0x1"', '"-0x0"', '"-1"', '"-0005"', '"2147943860"'),
    *('"-2147024891"', '"0x"', '"0x-1"', '"x"'),
    *('"800705b4"', '" 0x80070005"', '"\\t-1"', '"+1603"', '""', '"abc"', '"00000005"'),
)


@pytest.mark.parametrize("key", _HINT_KEYS)
def test_data_code_hint_matches_every_text_with_a_code(key):
    texts = [f'{{"Before":"x","{key}":{v},"After":1}}' for v in _HINT_VALUES]
    found = [codes.data_error_code(orjson.loads(t)) for t in texts]
    python = [bool(re.search(codes.DATA_CODE_HINT, t, re.ASCII)) for t in texts]
    re2 = pc.match_substring_regex(pa.array(texts), codes.DATA_CODE_HINT).to_pylist()
    assert python == re2  # the small files' path and the large files' agree
    missed = [t for t, c, h in zip(texts, found, python, strict=True) if c and not h]
    assert missed == []


@pytest.mark.parametrize(
    ("text", "hinted"),
    [
        ('{"HexInt1":"0x2","HexInt2":"0x13","HexInt3":"0x0"}', False),  # DMEDP counts
        ('{"HexInt1":"0x80070643"}', True),
        ('{"Result":"0x00000001"}', False),
        ('{"HRESULT":-2147024891}', True),
        ('{"ExitCode":"-2145648611"}', True),
        ('{"ExitCode":"1"}', False),
        ('{"ErrorCode":"5"}', True),
        ('{"Error":"-0x7ff8fffb"}', True),  # missed before: a negated hex error
        ('{"Error":"0"}', False),
        ('{"Data":"HRESULT 0x80070005"}', False),  # a message: not an item
    ],
)
def test_data_code_hint(text, hinted):
    assert bool(re.search(codes.DATA_CODE_HINT, text, re.ASCII)) is hinted
