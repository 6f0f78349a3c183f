"""Printing text that came from a bundle: literally, never as markup or control.

A device name, a path or a log message is data. Printed through rich as a
plain string it would be read as markup (``[bold red]x[/]`` in red,
``[link=file:///etc/passwd]`` as a link, ``[/]`` raising MarkupError), and an
ANSI escape or a bidi override inside it would reach the terminal. Everything
here builds rich `Text` objects, which rich never parses for markup, from
`visible` strings, in which every control character is spelled out as a Python
escape (``\\x1b``, ``\\n``, ``\\u202e``), so what is shown is what the bundle
holds.

- `console`: rich with markup, emoji codes and highlighting off;
- `visible(text)`: the string with its control characters spelled out;
- `say(*parts)`: one line from literal data and styled words of our own;
- `show(renderable)`: print a table or Text built here;
- `table(arrow_table, title)`: a rich table whose every cell is literal;
- `json_line(row)`: a JSON line with the same characters escaped (``\\u001b``),
  still the same data for any JSON reader.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, the marks that
# turn text direction, and the Unicode line and paragraph separators.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

console = Console(markup=False, emoji=False, highlight=False)
error_console = Console(stderr=True, markup=False, emoji=False, highlight=False)


def _spelled(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """`value` as text, every control character spelled out (``\\x1b``)."""
    return _CONTROL.sub(_spelled, "" if value is None else str(value))


def show(renderable: object) -> None:
    """Print a rich renderable built here (a `table`, an `inert` Text)."""
    console.print(renderable)


def inert(value: object, style: str = "") -> Text:
    """A rich Text of `value`, shown literally (in `style`, one of our own)."""
    return Text(visible(value), style=style)


def say(*parts: object | tuple[str, str], err: bool = False) -> None:
    """Print one line: each part is data, or ``(style, words)`` of our own.

    Example: ``say(("bold", "attempt 1 "), device_name)``.
    """
    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            style, words = part
            line.append_text(inert(words, style))
        else:
            line.append_text(inert(part))
    # soft_wrap: one line stays one line in a pipe or a log (rich would cut it
    # at 80 columns there), so a path or a reason can be found with grep.
    (error_console if err else console).print(line, soft_wrap=True)


def table(
    rows: list[dict],
    columns: list[str],
    title: str = "",
    cell: Callable[[object], str] = str,
) -> Table:
    """A rich table of `rows`; `cell` turns a value into text, shown literally."""
    out = Table(title=Text(visible(title)) if title else None)
    for name in columns:
        out.add_column(inert(name))
    for row in rows:
        out.add_row(*[inert(cell(row[name])) for name in columns])
    return out


def _escape_json(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def json_line(row: dict, default: Callable[[object], object] | None = None) -> str:
    """One JSON line, controls and bidi marks escaped (same data, inert text)."""
    text = json.dumps(row, ensure_ascii=False, default=default)
    return _CONTROL.sub(_escape_json, text)


_CONTROL_IN_CSV = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def csv_safe(text: str) -> str:
    """CSV text for stdout: unchanged into a file or pipe, inert on a terminal.

    On a terminal, control characters other than the line ends and tabs that
    CSV itself uses are spelled out.
    """
    if not sys.stdout.isatty():
        return text
    return _CONTROL_IN_CSV.sub(_spelled, text)
