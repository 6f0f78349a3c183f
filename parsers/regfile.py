"""Registry exports (.reg) in three dialects -> `registry_values`.

Dialects (docs/formats.md §4.1-4.2, §9.4):

* ``regedit5``: ``Windows Registry Editor Version 5.00`` header, UTF-16LE with BOM,
  CRLF; strings escape ``\\\\`` and ``\\"``; ``hex(N):`` data wrapped with ``,\\``
  continuation lines; ``@`` default value; ``[-KEY]`` and ``"v"=-`` deletions;
  ``;`` comments.
* ``regedit4``: ``REGEDIT4`` header, ANSI; same grammar, ``hex(2)``/``hex(7)``
  bytes are ANSI instead of UTF-16LE.
* ``mdmdiag``: the CAB's ``MdmDiagReport_RegistryDump.reg``: no header, values
  indented, ``DWORD:``/``QWORD:`` with unpadded hex, ``MULTI_SZ:"..."``,
  ``hex(3):`` for binary, nothing escaped (backslashes and embedded quotes are
  literal: a string runs to the last ``"`` of its line), strings holding XML run
  over several lines, raw control and non-UTF-8 bytes (decoded cp1252/latin-1).

Columns: `schema.REGISTRY_VALUES` (meanings declared there). Key paths are kept
as written; compare them through `normalize_key` (exports mix upper and lower
case). A key with no values gets one ``KEY`` row, so its existence is queryable.
"""

from __future__ import annotations

import re

import pyarrow as pa

from . import schema
from .base import (
    Damage,
    Derivation,
    ParseContext,
    Parser,
    ParseResult,
)
from .textdecode import decode, loss_warning

SCHEMA = schema.REGISTRY_VALUES

HEADER_V5 = "Windows Registry Editor Version 5.00"
HEADER_V4 = "REGEDIT4"

REG_TYPES = {
    0: "REG_NONE",
    1: "REG_SZ",
    2: "REG_EXPAND_SZ",
    3: "REG_BINARY",
    4: "REG_DWORD",
    5: "REG_DWORD_BIG_ENDIAN",
    6: "REG_LINK",
    7: "REG_MULTI_SZ",
    8: "REG_RESOURCE_LIST",
    9: "REG_FULL_RESOURCE_DESCRIPTOR",
    10: "REG_RESOURCE_REQUIREMENTS_LIST",
    11: "REG_QWORD",
}
_TEXT_TYPES = {1, 2, 6, 7}
_ROOTS = {
    "hklm": "hkey_local_machine",
    "hkcu": "hkey_current_user",
    "hku": "hkey_users",
    "hkcr": "hkey_classes_root",
    "hkcc": "hkey_current_config",
}
# Only `\\` and `\"` are escapes in regedit strings; anything else stays literal.
_UNESCAPE = re.compile(r'\\([\\"])')


# --------------------------------------------------------------------------- keys


def normalize_key(path: str) -> str:
    """Lower-case a key path, expand HKLM-style roots, drop brackets and slashes.

    Args:
        path: ``[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]``, ``HKLM\\software\\x\\`` ...

    Returns:
        ``hkey_local_machine\\software\\x``.
    """
    p = path.strip()
    if p.startswith("[") and p.endswith("]"):
        p = p[1:-1]
    p = p.strip("\\").lower()
    root, sep, rest = p.partition("\\")
    return _ROOTS.get(root, root) + sep + rest


# --------------------------------------------------------------------------- sniff


def sniff(head: bytes, name: str = "") -> bool:
    """A .reg export: a regedit header, or (MdmDiag dump) a ``[HKEY_`` first line."""
    text = decode(head[:65536]).text.lstrip("\ufeff \t\r\n")
    if text.startswith(HEADER_V5) or text.startswith(HEADER_V4):
        return True
    if "\x00" in text[:4096]:
        return False
    first = text.split("\n", 1)[0].rstrip("\r ")
    return first.upper().startswith(("[HKEY_", "[-HKEY_")) and first.endswith("]")


# --------------------------------------------------------------------------- parse


_NO_DATA = (None, None, None, False)


def _table(dialect: str, rows: list[tuple]) -> pa.Table:
    """Rows (line_no, key, name, type, text, int, hex, deletion) -> the table."""
    cols: list = list(zip(*rows, strict=True)) if rows else [()] * 8
    cols.insert(1, [dialect] * len(rows))
    return pa.table(
        [pa.array(c, f.type) for c, f in zip(cols, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


def _is_structural(s: str) -> bool:
    """A line (left-stripped) that starts a key or a value: ends an open string."""
    if not s:
        return False
    c = s[0]
    if c == "[":
        return s[1:6].upper() == "HKEY_" or s[1:7].upper() == "-HKEY_"
    if c == "@":
        return s[1:].lstrip(" ").startswith("=")
    return c == '"' and '"=' in s


def _to_int64(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def _decode_text(raw: bytes, regtype: int, ansi: bool) -> str:
    if ansi:
        text = raw.decode("cp1252", errors="replace")
    else:
        text = raw[: len(raw) & ~1].decode("utf-16-le", errors="replace")
    if regtype == 7:
        return "\n".join(text.rstrip("\x00").split("\x00"))
    return text.rstrip("\x00")


def _hex_value(regtype: int, raw: bytes, ansi: bool):
    """(value_type, value_text, value_int) for ``hex(N):`` data."""
    vtype = REG_TYPES.get(regtype, f"REG_0x{regtype:X}")
    if regtype in _TEXT_TYPES:
        return vtype, _decode_text(raw, regtype, ansi), None
    if regtype == 4 and len(raw) == 4:
        return vtype, None, int.from_bytes(raw, "little")
    if regtype == 5 and len(raw) == 4:
        return vtype, None, int.from_bytes(raw, "big")
    if regtype == 11 and len(raw) == 8:
        return vtype, None, int.from_bytes(raw, "little", signed=True)
    return vtype, None, None


def _scan_name(s: str, escaped: bool) -> tuple[str, int] | None:
    """Quoted value name at the start of `s` -> (name, index just after ``=``)."""
    q = -1
    if escaped:
        j = 1
        while True:
            q = s.find('"', j)
            if q < 0:
                break
            k = q - 1
            while k >= 1 and s[k] == "\\":
                k -= 1
            if (q - 1 - k) % 2 == 0 and s[q + 1 : q + 2] == "=":
                break
            j = q + 1
    if q < 0:
        q = s.find('"=', 1)
        if q < 0:
            return None
    name = s[1:q]
    if escaped and "\\" in name:
        name = _UNESCAPE.sub(r"\1", name)
    return name, q + 2


def _string_closed(data: str, escaped: bool) -> bool:
    """Does this line's string (starting with ``"``) end on the line?"""
    if len(data) < 2 or data[-1] != '"':
        return False
    if not escaped:
        return True
    k = len(data) - 2
    while k >= 1 and data[k] == "\\":
        k -= 1
    return (len(data) - 2 - k) % 2 == 0


def _dialect(lines: list[str]) -> tuple[str, int]:
    """(dialect, index of the first line after the header) from the first line."""
    first = 0
    while first < len(lines) and not lines[first].strip(" \t\r\ufeff"):
        first += 1
    head = lines[first].strip(" \t\r\ufeff") if first < len(lines) else ""
    if head == HEADER_V5:
        return "regedit5", first + 1
    if head == HEADER_V4:
        return "regedit4", first + 1
    return "mdmdiag", first


class _Reader:
    """One pass over the lines of an export; each line kind has its method.

    A method returns the row it read (or None after recording a failure); the
    line index `i` advances past continuation lines as a value consumes them.
    """

    def __init__(self, lines: list[str], dialect: str, start: int) -> None:
        self.lines, self.n, self.i = lines, len(lines), start
        self.escaped = dialect != "mdmdiag"
        self.ansi = dialect == "regedit4"
        self.rows: list[tuple] = []
        self.damage = Damage()
        self.key: str | None = None
        self.key_line = 0
        self.key_has_values = True
        self.stop = False

    def fail(self, line_no: int, reason: str, text: str) -> tuple | None:
        """Record an unreadable line; returns no row (``return self.fail(...)``)."""
        self.stop = self.damage.fail(line_no, reason, text)
        return None

    def run(self) -> None:
        lines, add = self.lines, self.rows.append
        while self.i < self.n and not self.stop:
            line = lines[self.i]
            self.i += 1
            cr = line.endswith("\r")
            if cr:
                line = line[:-1]
            s = line.lstrip(" \t")
            if not s or s[0] == ";":
                continue
            if s[0] == "[":
                self.key_line_(s)
                continue
            row = self.value_line(s, cr)
            if row is not None:
                add(row)
                self.key_has_values = True
                self.damage.ok()
        if self.key is not None and not self.key_has_values:
            add((self.key_line, self.key, None, "KEY") + _NO_DATA)

    def key_line_(self, s: str) -> None:
        line_no = self.i
        s = s.rstrip(" \t")
        if not s.endswith("]"):
            self.fail(line_no, "key line without closing ]", s)
            return
        if not self.key_has_values:
            self.rows.append((self.key_line, self.key, None, "KEY") + _NO_DATA)
        if s[1:2] == "-":
            self.key = s[2:-1]
            self.rows.append((line_no, self.key, None, "KEY", None, None, None, True))
            self.key_has_values = True
        else:
            self.key = s[1:-1]
            self.key_line, self.key_has_values = line_no, False
        self.damage.ok()

    def value_line(self, s: str, cr: bool) -> tuple | None:
        """``"name"=data`` or ``@=data`` -> its row (None when unreadable)."""
        line_no = self.i
        if s[0] == "@":
            rest = s[1:].lstrip(" ")
            if not rest.startswith("="):
                return self.fail(line_no, "default value without =", s)
            name, val = "", rest[1:]
        elif s[0] == '"':
            scanned = _scan_name(s, self.escaped)
            if scanned is None:
                return self.fail(line_no, "value name without closing quote and =", s)
            name, end = scanned
            val = s[end:]
        else:
            return self.fail(line_no, "unrecognised line", s)
        if self.key is None:
            return self.fail(line_no, "value before any key", s)
        val = val.lstrip(" ")
        v0, low = val[:1], val[:9].lower()
        if v0 == '"' or low.startswith("multi_sz:"):
            return self.string(line_no, name, val, cr, s)
        if v0 == "-":
            return (line_no, self.key, name, None, None, None, None, True)
        if low.startswith("dword:") or low.startswith("qword:"):
            return self.number(line_no, name, val, low, s)
        if low.startswith("hex"):
            return self.hex_data(line_no, name, val, s)
        return self.fail(line_no, "unknown data type", s)

    def string(self, line_no: int, name: str, val: str, cr: bool, s: str) -> tuple:
        vtype = "REG_SZ"
        if val[:1] != '"':
            vtype, val = "REG_MULTI_SZ", val[9:].lstrip(" ")
        body = val.rstrip(" \t")
        if not _string_closed(body, self.escaped):
            # Unterminated: the string runs over the next lines (XML in MdmDiag
            # dumps) up to the next key or value line.
            parts = [val + "\r" if cr else val]
            while self.i < self.n and not _is_structural(
                self.lines[self.i].lstrip(" \t")
            ):
                parts.append(self.lines[self.i])
                self.i += 1
            body = "\n".join(parts).rstrip("\r\n \t")
        last = body.rfind('"')
        if last <= 0:
            self.damage.warn(line_no, "unterminated string", s)
            text = body[1:] if body.startswith('"') else body
        else:
            text = body[1:last]
        if self.escaped and "\\" in text:
            text = _UNESCAPE.sub(r"\1", text)
        return (line_no, self.key, name, vtype, text, None, None, False)

    def number(
        self, line_no: int, name: str, val: str, low: str, s: str
    ) -> tuple | None:
        try:
            num = int(val[6:].strip(), 16)
        except ValueError:
            return self.fail(line_no, "bad DWORD/QWORD digits", s)
        if low[0] == "d":
            if num > 0xFFFFFFFF:
                return self.fail(line_no, "DWORD wider than 32 bits", s)
            return (line_no, self.key, name, "REG_DWORD", None, num, None, False)
        if num >= 1 << 64:
            return self.fail(line_no, "QWORD wider than 64 bits", s)
        return (line_no, self.key, name, "REG_QWORD", None, _to_int64(num), None, False)

    def hex_data(self, line_no: int, name: str, val: str, s: str) -> tuple | None:
        colon = val.find(":")
        tag = val[3:colon].strip() if colon > 0 else "?"
        try:
            regtype = int(tag[1:-1], 16) if tag else 3
            if tag and not (tag[0] == "(" and tag[-1] == ")"):
                raise ValueError(tag)
        except ValueError:
            return self.fail(line_no, "bad hex(N) type", s)
        body = val[colon + 1 :].rstrip(" \t")
        if body.endswith("\\"):  # wrapped: ",\" then indented continuation lines
            parts = [body[:-1]]
            while self.i < self.n:
                nxt = self.lines[self.i].strip(" \t\r")
                self.i += 1
                parts.append(nxt[:-1] if nxt.endswith("\\") else nxt)
                if not nxt.endswith("\\"):
                    break
            body = "".join(parts)
        try:
            raw = bytes.fromhex(body.replace(",", ""))
        except ValueError:
            return self.fail(line_no, "bad hex bytes", s)
        vtype, text, num = _hex_value(regtype, raw, self.ansi)
        return (line_no, self.key, name, vtype, text, num, raw.hex(), False)


def parse(data: bytes, context: ParseContext | None = None) -> ParseResult:
    """Parse a .reg export (any of the three dialects) into `registry_values`.

    Args:
        data: the whole file.
        context: unused (registry exports carry no time zone).

    Returns:
        Rows in file order; warnings for lines that could not be read.
    """
    decoded = decode(data)
    lines = decoded.text.split("\n")
    dialect, start = _dialect(lines)
    reader = _Reader(lines, dialect, start)
    reader.run()
    damage = reader.damage
    if loss := loss_warning(decoded):
        damage.warn(None, loss)
    return ParseResult(_table(dialect, reader.rows), damage.warnings, damage.skipped)


PARSER = Parser(
    name="regfile",
    description="Registry exports: regedit v5 / REGEDIT4 / MdmDiagReport_RegistryDump",
    table="registry_values",
    schema=SCHEMA,
    sniff=sniff,
    parse=parse,
    derives=(Derivation("*", "esp_tracking"),),
)
