"""Error codes in event data: the one place event text becomes an error code.

Every code is an unsigned 32-bit int (``0x%08X`` beside it in the tables); 0
means no code and is returned as None. Three sources, one function each:

`value_error_code` reads a Shell-Core 62407 Value (docs/formats.md §3.2) for
both the `events` and the `esp_events` tables. Its parts decide in this order,
the first non-zero code winning:

1. A Value that is a JSON object (leading blanks allowed):

   a. ``errorCode``: a number, unsigned (``2147943860``) or signed
      (``-2147024891``), or text: decimal (``"+1603"`` too), ``0x800705B4``
      (``-0x..`` negated) or bare hex with a letter (``800705b4``);
   b. ``number``: the error as JavaScript prints it in hex, negative numbers
      with a minus sign (``"-7fe6fe6c"`` = ``-0x7fe6fe6c & 0xFFFFFFFF`` =
      0x80190194);
   c. the ``message`` text, or the whole Value when ``message`` is not text,
      read by `message_error_code` (``Error: 0x87d00324``,
      ``HRESULT=0x80070005``).

2. Any other Value (plain text, JSON that is not an object or does not decode):

   a. exactly 8 hex digits under a Name ending in ``Error``
      (``CDJUIError`` = ``80180014``);
   b. the text read by `message_error_code`.

`data_error_code` reads EventData items (``HRESULT``, ``ErrorCode``, ``ExitCode``,
``HexInt1``, ...);
`message_error_code` reads a rendered message and the Value's text above.
"""

from __future__ import annotations

import re

import orjson

from .. import errorcodes

# EventData keys whose non-zero value is an error code; HRESULT-like keys count
# only with the severity bit set (``Result: 0x1`` is a success code).
# ``ExitCode``: User Device Registration (304 "Exit code: %1", formats.md §3.6);
# ``HexInt<n>``: the generic data names of DeviceManagement-Enterprise-Diagnostics
# templates, whose ``Result: (%n)`` is a HexInt (1924, formats.md §3.5).
_ERRORISH_KEYS = ("ErrorCode", "errorCode", "Error")
_SEVERITY_KEYS = r"HRESULT\d*|hr|Result|ExitCode|HexInt\d*"  # a pattern
_CODE_KEYS = re.compile(rf"^(?:{'|'.join(_ERRORISH_KEYS)}|{_SEVERITY_KEYS})$")
# RE2 (pyarrow) pattern over EventData JSON text; only rows it matches are
# given to `data_error_code`, so it must match every text that function finds
# a code in: an errorish key whose value is not a plain zero, or another code
# key whose value can have the severity bit (a negative number, ``-0x..`` too;
# ten digits or more, as 2**31 has ten; an exponent; 0x and eight hex digits
# from 8 up, the most `data_error_code` reads; text after blanks). Most hinted
# texts of a real CAB were DMEDP HexInt counts (``"HexInt2":"0x13"``), which
# the second part leaves out. tests/parsers/events/test_codes.py checks it
# against the function.
_FLOAT_EXP = r"-?0\.[0-9]*[eE]"  # 0.5e1: a float below one times a power of ten
_TEXT = r'"(?: |\\[nrt])*'  # a string's opening quote and the blanks `strip` drops
_ANY_NONZERO = rf"{_TEXT}-?(?:0x0*[1-9a-fA-F]|0*[1-9])|-?[1-9]|{_FLOAT_EXP}"
_SEVERITY = (
    rf"{_TEXT}(?:0x[89a-fA-F][0-9a-fA-F]{{7}}|-0x0*[1-9a-fA-F]|-0*[1-9]|[1-9]\d{{9}})"
    rf"|-[1-9]|[1-9]\d{{9}}|[1-9][0-9.]*[eE]|{_FLOAT_EXP}"
)
DATA_CODE_HINT = (
    rf'"(?:{"|".join(_ERRORISH_KEYS)})":(?:{_ANY_NONZERO})'
    rf'|"(?:{_SEVERITY_KEYS})":(?:{_SEVERITY})'
)
_TEXT_CODE = re.compile(r"^(-?)(0x)?([0-9A-Fa-f]{1,8})$")
_DECIMAL_CODE = re.compile(r"^-?\d{1,10}$")
_MESSAGE_CODE = re.compile(
    r"(?:HRESULT|hr|Error(?: code)?|errorCode|Result)\s*[=:]\s*\(?"
    r"(0x[0-9A-Fa-f]{1,8}|-?\d{4,10})\b",
    re.IGNORECASE,
)
# Every keyword of _MESSAGE_CODE starts with one of these (HRESULT with "hr").
_KEYWORD_HEADS = ("hr", "error", "result")
_BARE_HEX8 = re.compile(r"^[0-9A-Fa-f]{8}$")


def _code_of(raw: object, js_hex: bool = False) -> int | None:
    """A code from a number, or from text: decimal (signed or unsigned) or
    ``0x`` hex (``-0x..`` negated); with `js_hex` all text is hex, as
    JavaScript's ``toString(16)`` writes it (``-7fe6fe6c``)."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return errorcodes.parse_code(raw)
    if isinstance(raw, float) and raw.is_integer():
        return errorcodes.parse_code(int(raw))
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if _DECIMAL_CODE.match(text) and not js_hex:
        return errorcodes.parse_code(text)
    m = _TEXT_CODE.match(text)
    if not m or not (m[2] or js_hex):
        return None
    code = int(m[3], 16)
    return errorcodes.to_u32(-code if m[1] else code)


def _json_error_code(raw: object) -> int | None:
    """A JSON ``errorCode``: what `_code_of` reads, else any spelling
    `errorcodes.parse_code` reads (bare hex ``800705b4``, ``+1603``)."""
    code = _code_of(raw)
    if code is None and isinstance(raw, str):
        code = errorcodes.parse_code(raw)
    return code


def value_object(value: str | None) -> dict | None:
    """The 62407 Value as a JSON object, or None when it is not one."""
    if not value or value.lstrip()[:1] != "{":
        return None
    try:
        obj = orjson.loads(value)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def value_error_code(name: str | None, value: str | None) -> int | None:
    """The error code a 62407 Value carries, its parts read in the module's order.

    Args:
        name: the 62407 Name (only its ``...Error`` ending matters).
        value: the 62407 Value as logged (JSON or text), may be None.

    Returns:
        The code as an unsigned 32-bit int, or None when there is none (0).
    """
    if not value:
        return None
    obj = value_object(value)
    if obj is None:
        text = value.strip()
        if name and name.endswith("Error") and _BARE_HEX8.match(text):
            return int(text, 16) or None
        return message_error_code(value)
    code = _json_error_code(obj.get("errorCode"))
    if not code and "number" in obj:
        code = _code_of(obj["number"], js_hex=True)
    if not code:
        message = obj.get("message")
        code = message_error_code(message if isinstance(message, str) else value)
    return code or None


def data_error_code(event_data: dict | None) -> int | None:
    """First non-zero failure code under an error-like EventData key.

    Args:
        event_data: EventData as a dict (``{"HRESULT": "0x80280095"}``).

    Returns:
        The code (u32), or None. ``HRESULT``/``hr``/``Result`` count only
        with the severity bit set; ``ErrorCode``/``Error`` count when non-zero.
    """
    if not isinstance(event_data, dict):
        return None
    for key, val in event_data.items():
        if not _CODE_KEYS.match(key):
            continue
        code = _code_of(val)
        if code and (code & 0x80000000 or key in _ERRORISH_KEYS):
            return code
    return None


def message_error_code(message: str | None) -> int | None:
    """First non-zero code a text states: ``HRESULT=0x8007000d``, ``Error:
    0x800705b4``, ``hr = -2147024891``, ``Result: (0x80004005)``, ``Error code:
    1603`` (decimals need 4 digits or more).

    Args:
        message: a rendered message or a Value's text, may be None.

    Returns:
        The code (u32), or None.
    """
    if not message:
        return None
    end = 0  # matches do not overlap, as with `_MESSAGE_CODE.finditer`
    for at in _keyword_starts(message):
        m = _MESSAGE_CODE.match(message, at) if at >= end else None
        if m:
            end = m.end()
            code = _code_of(m.group(1))
            if code:
                return code
    return None


def _keyword_starts(text: str) -> list[int]:
    """Where a keyword of `_MESSAGE_CODE` may start in `text`, in order.

    Found by `str.find` in a lower-case ASCII copy of the text with the same
    positions (other characters become ``?``; ``ſ``, the one non-ASCII letter
    IGNORECASE equates with a keyword letter, becomes ``s``): Values of
    navigation events run to 16 KB of JSON, which the regex alone scans several
    times slower.
    """
    if not text.isascii():
        text = text.replace("\u017f", "s").encode("ascii", "replace").decode()
    lower = text.lower()
    starts = []
    for head in _KEYWORD_HEADS:
        at = lower.find(head)
        while at >= 0:
            starts.append(at)
            at = lower.find(head, at + 1)
    starts.sort()
    return starts
