"""Error codes in any spelling -> one unsigned 32-bit value.

Logs print the same HRESULT as ``0x800705B4``, ``800705b4``, ``2147943860`` or
``-2147023436``; MSI and Win32 codes arrive as small decimals (1603). Everything
is stored as ``u32`` plus its ``0x%08X`` spelling (docs/formats.md §6.1).

`explain` reads the catalogue kept as data, ``parsers/data/error_codes.csv``
(code, domain, symbol, meaning in our own words, source, confidence; docs/formats.md
section 6). Domains: ``hresult`` and ``configmgr`` (32-bit codes keyed
``0x%08X``), ``msi_exit``, ``ccmsetup_exit``, ``dds`` and ``ime_exit`` (small
decimals; ``ime_exit`` is what Intune's default Win32 app return-code rules make
of an installer's exit code), ``ts_engine`` (enum names such as
``enExecutionFail``). A small decimal is ambiguous (``1603`` is an MSI exit code,
the Win32 code behind ``0x80070643`` and, literally, ``0x00000643``): `explain`
picks the catalogued reading and lists the others as candidates.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

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


# --------------------------------------------------------------------------- facilities

FACILITIES: dict[int, str] = {
    0: "NULL",
    1: "RPC",
    2: "DISPATCH",
    3: "STORAGE",
    4: "ITF (COM/WMI)",
    7: "WIN32",
    8: "WINDOWS",
    9: "SECURITY",
    10: "CONTROL",
    11: "CERT",
    12: "INTERNET (URLMON)",
    15: "SETUPAPI",
    16: "SCARD",
    17: "COMPLUS",
    25: "HTTP",
    32: "BACKGROUNDCOPY (BITS)",
    33: "CONFIGURATION",
    36: "WINDOWSUPDATE",
}
# Facilities that docs/formats.md §6.1 names by what they carry in this domain.
_DOMAIN_FACILITIES: dict[int, str] = {
    0x18: "MDM enrollment (MENROLL_E_*)",
    0x1C: "Entra device registration",
    0x103: "Autopilot / ESP",
    0x7D0: "Configuration Manager",
    0x7D1: "Configuration Manager / Intune app and policy management",
    0x7D3: "Intune Management Extension (Win32 apps)",
}
# Entra token broker (ADAL/WAM) errors: 0xCAA<n>xxxx, by the catalogue's rows.
_ENTRA_TOKEN = 0xCAA


def facility_of(code: int) -> int:
    """The 13-bit facility field of an HRESULT (``0x800705B4`` -> 7)."""
    return (to_u32(code) >> 16) & 0x1FFF


def facility_name(code: int) -> str:
    """A readable facility for an HRESULT, with the docs/formats.md §6.1 hints.

    Args:
        code: the error code (any int; normalised to u32).

    Returns:
        ``WIN32``, ``WIN32 (WinINet/WinHTTP)``, ``Configuration Manager``,
        ``FACILITY_0x123`` when unknown.
    """
    fac = facility_of(code)
    win32 = win32_of(code)
    low = to_u32(code) & 0xFFFF
    if win32 is not None and 12000 <= win32 < 13000:
        return "WIN32 (WinINet/WinHTTP)"
    if to_u32(code) >> 20 == _ENTRA_TOKEN:
        return "Entra token broker (ADAL/WAM)"
    if fac == 25 and 100 <= low < 600:  # HTTP_E_STATUS_*: 0x80190000 | status
        return f"HTTP (status {low})"
    if fac == 25 and 12000 <= low < 13000:
        return f"HTTP (WinHTTP error {low})"
    if fac in _DOMAIN_FACILITIES:
        return _DOMAIN_FACILITIES[fac]
    return FACILITIES.get(fac, f"FACILITY_0x{fac:X}")


def severity_of(code: int) -> str:
    """``failure`` when the severity bit (31) is set, else ``success``."""
    return "failure" if to_u32(code) & 0x80000000 else "success"


def normalize(text: str | int | None) -> tuple[int, str] | None:
    """Any spelling -> ``(u32, '0x%08X')``; small decimals are taken literally.

    Use `hresult_from_win32` for a Win32/MSI exit code known to be one.
    """
    code = parse_code(text)
    return None if code is None else (code, f"0x{code:08X}")


# --------------------------------------------------------------------------- catalogue

CATALOGUE_PATH = Path(__file__).parent / "data" / "error_codes.csv"
CATALOGUE_COLUMNS = ("code", "domain", "symbol", "meaning", "source", "confidence")
NUMERIC_DOMAINS = ("hresult", "configmgr")
SMALL_DOMAINS = ("msi_exit", "ccmsetup_exit", "dds", "ime_exit")
CONFIDENCES = ("high", "medium", "low")
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Entry:
    """One catalogue row."""

    code: str
    domain: str
    symbol: str
    meaning: str
    source: str
    confidence: str


@dataclass(frozen=True)
class Candidate:
    """Another reading of an ambiguous input.

    Attributes:
        reading: how the input was read (``MSI exit code 1603``, ...).
        code: the 32-bit value of that reading, when it has one.
        hex: ``0x%08X`` of `code`.
        entry: the catalogue row for that reading, if any.
    """

    reading: str
    code: int | None
    hex: str | None
    entry: Entry | None = None


@dataclass(frozen=True)
class Explanation:
    """What `explain` found about one spelling of an error code.

    Attributes:
        input: the spelling as given.
        code: unsigned 32-bit value of the chosen reading (None for an enum name
            or an unreadable input).
        hex: ``0x%08X`` of `code`.
        signed: `code` as a signed 32-bit integer.
        win32: the Win32 error inside a FACILITY_WIN32 HRESULT.
        facility: facility name (docs/formats.md §6.1).
        severity: ``failure`` / ``success``.
        reading: how the input was read (``HRESULT``, ``Win32 code 1603``, ...).
        symbol, meaning, source, confidence: from the catalogue (None if absent).
        candidates: other readings when the input is ambiguous.
    """

    input: str
    code: int | None
    hex: str | None
    signed: int | None
    win32: int | None
    facility: str | None
    severity: str | None
    reading: str
    symbol: str | None = None
    meaning: str | None = None
    source: str | None = None
    confidence: str | None = None
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)


@functools.lru_cache(maxsize=1)
def catalogue() -> tuple[Entry, ...]:
    """All catalogue rows, in file order."""
    with CATALOGUE_PATH.open(encoding="utf-8", newline="") as fh:
        return tuple(Entry(**row) for row in csv.DictReader(fh))


@functools.lru_cache(maxsize=1)
def _index() -> tuple[dict, dict]:
    by_key: dict[tuple[str, str], Entry] = {}
    by_symbol: dict[str, Entry] = {}
    for e in catalogue():
        key = f"0x{int(e.code, 16):08X}" if e.code.startswith("0x") else e.code
        by_key[(e.domain, key)] = e
        if e.symbol:
            by_symbol.setdefault(e.symbol.lower(), e)
    return by_key, by_symbol


def lookup(code: int, domain: str = "hresult") -> Entry | None:
    """The catalogue row for a 32-bit `code` (domain hresult/configmgr) or a small
    decimal (domain msi_exit, ccmsetup_exit, dds, ime_exit)."""
    by_key, _ = _index()
    if domain in NUMERIC_DOMAINS:
        key = f"0x{code & 0xFFFFFFFF:08X}"
        return by_key.get(("hresult", key)) or by_key.get(("configmgr", key))
    return by_key.get((domain, str(code)))


def _small_readings(value: int) -> list[Candidate]:
    """Readings of a small decimal: Win32 (as HRESULT), exit codes, DDS, literal."""
    out: list[Candidate] = []
    hr = hresult_from_win32(value)
    out.append(Candidate(f"Win32 code {value}", hr, f"0x{hr:08X}", lookup(hr)))
    labels = {
        "msi_exit": "MSI exit code",
        "ccmsetup_exit": "ccmsetup.exe return code",
        "ime_exit": "Intune Win32 app return code",
    }
    for domain in SMALL_DOMAINS:
        entry = lookup(value, domain)
        if entry is not None:
            label = labels.get(domain, "Autopilot DDS/ZTD code")
            code = hr if domain == "msi_exit" else value
            out.append(Candidate(f"{label} {value}", code, f"0x{code:08X}", entry))
    out.append(Candidate(f"HRESULT 0x{value:08X} (literal)", value, f"0x{value:08X}"))
    return out


def _build(
    text: str,
    reading: str,
    code: int | None,
    entry: Entry | None,
    candidates: list[Candidate],
) -> Explanation:
    return Explanation(
        input=text,
        code=code,
        hex=None if code is None else f"0x{code:08X}",
        signed=None if code is None else to_signed(code),
        win32=None if code is None else win32_of(code),
        facility=None if code is None else facility_name(code),
        severity=None if code is None else severity_of(code),
        reading=reading,
        symbol=(entry.symbol or None) if entry else None,
        meaning=entry.meaning if entry else None,
        source=entry.source if entry else None,
        confidence=entry.confidence if entry else None,
        candidates=tuple(candidates),
    )


def explain(spelling: str | int) -> Explanation:
    """Explain one error code given in any spelling.

    Args:
        spelling: ``0x800705b4``, ``800705B4``, ``2147943860``, ``-2147023436``,
            a Win32/MSI/ccmsetup/DDS/IME small decimal (``1603``), an int, or a
            catalogued symbol (``E_FAIL``, ``enExecutionFail``).

    Returns:
        The chosen reading with its catalogue entry, and the other readings as
        `candidates` when the input is ambiguous.
    """
    text = str(spelling).strip()
    _, by_symbol = _index()
    if isinstance(spelling, str) and text.lower() in by_symbol:
        entry = by_symbol[text.lower()]
        code = parse_code(entry.code) if entry.domain in NUMERIC_DOMAINS else None
        return _build(text, f"symbol ({entry.domain})", code, entry, [])

    code = parse_code(spelling if isinstance(spelling, int) else text)
    if code is None:
        return _build(text, "not an error code", None, None, [])

    decimal = isinstance(spelling, int) or (
        bool(_DIGITS.match(text.lstrip("+"))) and not text.lower().startswith("0x")
    )
    if decimal and 0 < code <= 0xFFFF:
        readings = _small_readings(code)
        known = [c for c in readings if c.entry is not None]
        chosen = known[0] if known else readings[0]
        others = [c for c in readings if c is not chosen]
        return _build(text, chosen.reading, chosen.code, chosen.entry, others)

    candidates: list[Candidate] = []
    reading = "HRESULT"
    if decimal and len(text) == 8 and text[0] in "89":
        # Bare 8-digit hex without letters (smsts "80070002") read as decimal:
        # an unsigned decimal that size is implausible, prefer the hex reading.
        as_hex = int(text, 16)
        if as_hex & 0x80000000:
            candidates.append(Candidate(f"decimal {code}", code, f"0x{code:08X}"))
            code, reading = as_hex, "HRESULT (bare hex)"
    elif not decimal and code <= 0xFFFF and code:
        hr = hresult_from_win32(code)
        candidates.append(
            Candidate(f"Win32 code {code}", hr, f"0x{hr:08X}", lookup(hr))
        )
    if code == 0:
        candidates += [c for c in _zero_readings()]
    return _build(text, reading, code, lookup(code), candidates)


def _zero_readings() -> list[Candidate]:
    out = []
    for domain in ("msi_exit", "ccmsetup_exit", "ime_exit"):
        entry = lookup(0, domain)
        if entry is not None:
            out.append(Candidate(f"{domain} 0", 0, "0x00000000", entry))
    return out


def format_explanation(e: Explanation) -> str:
    """The text ``espfleet explain`` prints: the echoed input on the first line,
    then lines that depend only on the code, so every spelling of one code
    prints the same answer below the first line.

    Args:
        e: an `Explanation` from `explain`.

    Returns:
        Multi-line text without a trailing newline.
    """
    lines = [f"input:      {e.input}"]
    if e.code is None and e.symbol is None:
        lines.append("not a recognised error code")
        return "\n".join(lines)
    if e.code is not None:
        lines.append(f"code:       {e.hex}  (unsigned {e.code}, signed {e.signed})")
        fac = f"facility:   {e.facility}, severity {e.severity}"
        lines.append(fac + (f", Win32 error {e.win32}" if e.win32 is not None else ""))
    lines.append(f"read as:    {e.reading}")
    if e.meaning is None:
        lines.append("meaning:    not in the catalogue")
    else:
        if e.symbol:
            lines.append(f"symbol:     {e.symbol}")
        lines.append(f"meaning:    {e.meaning}")
        lines.append(f"source:     {e.source} (confidence: {e.confidence})")
    for c in e.candidates:
        what = f"{c.entry.symbol + ': ' if c.entry and c.entry.symbol else ''}"
        what += c.entry.meaning if c.entry else "not in the catalogue"
        lines.append(f"or:         {c.reading} = {c.hex}: {what}")
    return "\n".join(lines)
