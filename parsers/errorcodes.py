"""Error codes in any spelling -> one unsigned 32-bit value.

Logs print the same HRESULT as ``0x800705B4``, ``800705b4``, ``2147943860`` or
``-2147023436``; MSI and Win32 codes arrive as small decimals (1603). Everything
is stored as ``u32`` plus its ``0x%08X`` spelling (FORMATS.md 6.1).
"""

from __future__ import annotations

import re

FACILITY_WIN32 = 7
_HEX = re.compile(r"^(?:0x)?([0-9a-f]{1,8})$", re.IGNORECASE)
_DEC = re.compile(r"^[+-]?\d+$")


def to_u32(value: int) -> int:
    """Any signed or unsigned integer that fits 32 bits -> unsigned 32-bit."""
    return value & 0xFFFFFFFF


def to_signed(code: int) -> int:
    """Unsigned 32-bit -> the signed spelling (-2147023436)."""
    code = to_u32(code)
    return code - (1 << 32) if code >= (1 << 31) else code


def hresult_from_win32(win32: int) -> int:
    """HRESULT_FROM_WIN32: 1460 -> 0x800705B4; 0 stays 0; HRESULTs pass through."""
    if win32 <= 0 or win32 > 0xFFFF:
        return to_u32(win32)
    return 0x80070000 | (win32 & 0xFFFF)


def win32_of(code: int) -> int | None:
    """The Win32 error inside an HRESULT of FACILITY_WIN32, else None."""
    code = to_u32(code)
    if code & 0x80000000 and (code >> 16) & 0x1FFF == FACILITY_WIN32:
        return code & 0xFFFF
    return None


def parse_code(text: str | int | None, *, bare_hex: bool = False) -> int | None:
    """Normalise one spelling of an error code to unsigned 32-bit.

    Args:
        text: ``0x800705B4``, ``800705B4`` (needs `bare_hex` or hex letters),
            ``2147943860``, ``-2147023436`` or an int.
        bare_hex: read digits-only text as hex (smsts ``(Error: 80070002; ...)``).

    Returns:
        The code as an unsigned 32-bit int, or None when `text` is not a code.
    """
    if text is None:
        return None
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return to_u32(text) if -(1 << 31) <= text < (1 << 32) else None
    s = text.strip()
    if not s:
        return None
    if s[:2].lower() == "0x" or bare_hex or not _DEC.match(s):
        m = _HEX.match(s)
        return int(m.group(1), 16) if m else None
    value = int(s)
    return to_u32(value) if -(1 << 31) <= value < (1 << 32) else None


def to_hex(code: int | None) -> str | None:
    """``0x%08X`` spelling, or None."""
    return None if code is None else f"0x{to_u32(code):08X}"
