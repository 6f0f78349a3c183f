"""The parser registry lists every parser module, each with the full contract."""

from __future__ import annotations

import ast
from pathlib import Path

import espfleet.parsers as parsers
from espfleet.parsers import DERIVERS, PARSERS
from espfleet.parsers.schema import PARSER_TABLES

PARSER_DIR = Path(parsers.__file__).parent


def declares_parser(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        isinstance(n, ast.Assign)
        and any(getattr(t, "id", "") == "PARSER" for t in n.targets)
        for n in tree.body
    )


def test_every_module_declaring_a_parser_is_registered():
    declared = {
        p.relative_to(PARSER_DIR).as_posix()
        for p in PARSER_DIR.rglob("*.py")
        if declares_parser(p)
    }
    assert declared == {
        "autopilotjson.py",
        "cmtrace/__init__.py",
        "devicefacts.py",
        "events/evtx.py",
        "events/exported_xml.py",
        "events/rendered_text.py",
        "regfile/__init__.py",
        "setuplog.py",
    }
    assert len(PARSERS) == len(declared)


def test_sniff_order_is_magic_then_structured_then_heuristic_text():
    assert [p.name for p in PARSERS] == [
        "evtx",
        "regfile",
        "autopilotjson",
        "devicefacts",
        "eventxml",
        "setuplog",
        "eventtext",
        "cmtrace",
    ]


def test_every_parser_declares_the_contract():
    for parser in PARSERS:
        assert parser.description
        assert parser.schema.equals(PARSER_TABLES[parser.table])
        for derivation in parser.derives:
            assert set(DERIVERS[derivation.deriver].tables) <= set(PARSER_TABLES)


def test_every_parser_survives_empty_and_garbage_input():
    for parser in PARSERS:
        for data in (b"", b"\x00" * 100, bytes(range(256)) * 10):
            result = parser.parse(data, None)
            assert result.table.schema.equals(parser.schema)
