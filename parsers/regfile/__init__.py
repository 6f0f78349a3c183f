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

import pyarrow as pa

from .. import schema
from ..base import (
    Derivation,
    ParseContext,
    Parser,
    ParseResult,
)
from ..textdecode import decode, decode_head, loss_warning
from .reader import LineReader

SCHEMA = schema.REGISTRY_VALUES

HEADER_V5 = "Windows Registry Editor Version 5.00"
HEADER_V4 = "REGEDIT4"

_ROOTS = {
    "hklm": "hkey_local_machine",
    "hkcu": "hkey_current_user",
    "hku": "hkey_users",
    "hkcr": "hkey_classes_root",
    "hkcc": "hkey_current_config",
}

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
    text = decode_head(head[:65536]).text.lstrip("\ufeff \t\r\n")
    if text.startswith(HEADER_V5) or text.startswith(HEADER_V4):
        return True
    if "\x00" in text[:4096]:
        return False
    first = text.split("\n", 1)[0].rstrip("\r ")
    return first.upper().startswith(("[HKEY_", "[-HKEY_")) and first.endswith("]")


# --------------------------------------------------------------------------- parse


# The reader's row tuples are this struct's fields in order: pyarrow converts
# them in one pass (a real-size dump's 65,000 rows: 17 ms, against 23 ms for
# a transposition in Python and a conversion per column).
_ROW = pa.struct([f for f in SCHEMA if f.name != "dialect"])


def _table(dialect: str, rows: list[tuple]) -> pa.Table:
    """Rows (line_no, key, name, type, text, int, hex, deletion) -> the table."""
    cols = pa.array(rows, _ROW).flatten()
    cols.insert(1, pa.repeat(pa.scalar(dialect, pa.string()), len(rows)))
    return pa.table(cols, schema=SCHEMA)


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
    reader = LineReader(lines, dialect, start)
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
