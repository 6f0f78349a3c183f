"""The parser registry lists every parser module, each with the full contract."""

from __future__ import annotations

import ast
from pathlib import Path

import pyarrow as pa

import espfleet.parsers as parsers
from espfleet.parsers import PARSERS
from espfleet.parsers.schema import PARSER_TABLES

PARSER_DIR = Path(parsers.__file__).parent


def defines(path: Path, *names: str) -> bool:
    tree = ast.parse(path.read_text())
    found = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return set(names) <= found


def module_name(path: Path) -> str:
    parts = path.relative_to(PARSER_DIR).with_suffix("").parts
    return ".".join(("espfleet.parsers",) + parts).removesuffix(".__init__")


def test_every_module_with_sniff_and_parse_is_registered():
    modules = {
        module_name(p) for p in PARSER_DIR.rglob("*.py") if defines(p, "sniff", "parse")
    }
    assert modules == {m.__name__ for m in PARSERS.values()}


def test_every_parser_declares_the_contract():
    for name, module in PARSERS.items():
        assert module.NAME == name and module.DESCRIPTION
        assert module.TABLE in PARSER_TABLES
        assert isinstance(module.SCHEMA, pa.Schema)
        assert module.SCHEMA.equals(PARSER_TABLES[module.TABLE])


def test_every_parser_survives_empty_and_garbage_input():
    for module in PARSERS.values():
        for data in (b"", b"\x00" * 100, bytes(range(256)) * 10):
            result = module.parse(data)
            assert result.table.schema.equals(module.SCHEMA)
