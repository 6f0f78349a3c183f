"""The line reader of .reg exports: one pass over the lines, into row tuples.

Each line kind has its method; the common lines (plain keys, unpadded
``dword:`` values, strings closed on their line, blanks) are matched in bulk by
`_SIMPLE` and read the same way without a call per line. The dialects and
their grammar are described in `espfleet.parsers.regfile`.
"""

from __future__ import annotations

import re

from ..base import Damage

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
# Only `\\` and `\"` are escapes in regedit strings; anything else stays literal.
_UNESCAPE = re.compile(r'\\([\\"])')

_NO_DATA = (None, None, None, False)

# The common lines, matched in bulk and read exactly as `_Reader.line` would
# (`[ \t]*+` is `lstrip(" \t")`, `[ \t]*\r?\Z` the right end as `line` strips
# it): a key that is not a deletion (group 1: the text inside the brackets), a
# value whose name holds no quote (group 2) as an unpadded ``dword:`` of 1-8
# hex digits (group 3) or a string closed on its line (group 4), or a blank
# line (no group). Anything else (hex, qword, multi-line strings, comments,
# damage, escapes in the regedit dialects) is left to `line`.
_SIMPLE_FORM = (
    r'[ \t]*+(?:\[((?!-).*)\][ \t]*|"(NAME*)"= *'
    r'(?:[dD][wW][oO][rR][dD]:([0-9a-fA-F]{1,8})|"(TEXT*)")[ \t]*|)\r?\Z'
)
_SIMPLE = re.compile(_SIMPLE_FORM.replace("NAME", '[^"]').replace("TEXT", "."))
# The regedit dialects escape `\\` and `\"`: no backslash, nothing to unescape.
_SIMPLE_ESCAPED = re.compile(
    _SIMPLE_FORM.replace("NAME", r'[^"\\]').replace("TEXT", r"[^\\]")
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


class LineReader:
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
        """Every line from `i` on: the common ones as `_SIMPLE` matched them,
        the rest by `line` (state is kept in locals between those calls)."""
        lines, add, n = self.lines, self.rows.append, self.n
        simple = (_SIMPLE_ESCAPED if self.escaped else _SIMPLE).match
        i, key, key_line = self.i, self.key, self.key_line
        has_values = self.key_has_values
        after_slow = False  # the failure run is reset by the next good line
        while i < n:
            m = simple(lines[i])
            i += 1
            if m is not None:
                path, name, dword, text = m.groups()
                if path is not None:  # as `key_line_` reads a plain key
                    if not has_values:
                        add((key_line, key, None, "KEY") + _NO_DATA)
                    key, key_line, has_values = path, i, False
                elif name is None:  # blank
                    continue
                elif key is None:  # a value before any key: `line` says so
                    m = None
                elif dword is None:  # as `value_line` reads these two
                    add((i, key, name, "REG_SZ", text, None, None, False))
                    has_values = True
                else:
                    add((i, key, name, "REG_DWORD", None, int(dword, 16), None, False))
                    has_values = True
                if m is not None:
                    if after_slow:
                        self.damage.ok()
                        after_slow = False
                    continue
            self.i, self.key, self.key_line, self.key_has_values = (
                i,
                key,
                key_line,
                has_values,
            )
            self.line(lines[i - 1])
            i, key, key_line, has_values = (
                self.i,
                self.key,
                self.key_line,
                self.key_has_values,
            )
            if self.stop:
                break
            after_slow = True
        self.i = i
        if key is not None and not has_values:
            add((key_line, key, None, "KEY") + _NO_DATA)

    def line(self, line: str) -> None:
        """Any line (the one before `i`): a key, a value, a comment or blank."""
        cr = line.endswith("\r")
        if cr:
            line = line[:-1]
        s = line.lstrip(" \t")
        if not s or s[0] == ";":
            return
        if s[0] == "[":
            self.key_line_(s)
            return
        row = self.value_line(s, cr)
        if row is not None:
            self.rows.append(row)
            self.key_has_values = True
            self.damage.ok()

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
