"""Pure format readers: bytes in, Arrow tables out.

`PARSERS` is the registry ingestion walks once per member: the first parser
whose ``sniff`` accepts a member reads it. The order is the order of the
tuple: formats with a magic number or header first (.evtx, .reg), then
structured text identified by its own field names (the Autopilot profile JSON,
device identity files, event XML), then the line-layout text formats (setup
logs, event text renderings, CMTrace/SMS-trace last). Each entry is the
`Parser` its module declares. `DERIVERS` maps the deriver names parsers
declare to the modules that compute those facts. Importing this package
registers nothing by side effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from . import autopilotjson, cmtrace, devicefacts, regfile, setuplog
from .base import Parser
from .derivers import (
    ccmsetup_runs,
    esp_events,
    esp_tracking,
    ime_apps,
    task_sequence,
)
from .events import evtx, exported_xml, rendered_text

PARSERS: tuple[Parser, ...] = (
    evtx.PARSER,
    regfile.PARSER,
    autopilotjson.PARSER,
    devicefacts.PARSER,
    exported_xml.PARSER,
    setuplog.PARSER,
    rendered_text.PARSER,
    cmtrace.PARSER,
)


@dataclass(frozen=True)
class Deriver:
    """One deriver: the tables it writes and the function that computes them."""

    tables: tuple[str, ...]
    derive: Callable[[pa.Table], dict[str, pa.Table]]


DERIVERS: dict[str, Deriver] = {
    name: Deriver(module.TABLES, module.derive)
    for name, module in (
        ("ccmsetup_runs", ccmsetup_runs),
        ("esp_events", esp_events),
        ("esp_tracking", esp_tracking),
        ("ime_apps", ime_apps),
        ("task_sequence", task_sequence),
    )
}
