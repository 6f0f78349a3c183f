"""Pure format readers: bytes in, Arrow tables out.

Every parser module exposes ``NAME``, ``DESCRIPTION``, ``TABLE`` (the table its
rows go to), ``SCHEMA``, ``sniff(head, name) -> bool`` and
``parse(data, context) -> ParseResult``. `PARSERS` is the explicit registry the
ingest flow dispatches members through; it has no import side effects.
"""

from __future__ import annotations

PARSERS: dict = {}
