"""Pure format readers: bytes in, Arrow tables out.

Every parser module exposes ``NAME``, ``DESCRIPTION``, ``TABLE`` (the table its
rows go to), ``SCHEMA``, ``sniff(head, name) -> bool`` and
``parse(data, context) -> ParseResult``. `PARSERS` is the explicit registry the
ingest flow dispatches members through, in the order their ``sniff`` is tried
(cheap magic-byte checks first); importing it registers nothing by side effect.
"""

from __future__ import annotations

from types import ModuleType

from . import autopilotjson, cmtrace, regfile
from .events import evtx, exported_xml, rendered_text

PARSERS: dict[str, ModuleType] = {
    m.NAME: m
    for m in (evtx, regfile, autopilotjson, exported_xml, rendered_text, cmtrace)
}
