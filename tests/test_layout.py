"""The repository's folders are subpackages of espfleet, seen as such by every tool."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("parsers", "flows", "simulator", "dashboards", "sql")


@pytest.mark.parametrize("folder", FOLDERS)
def test_espfleet_links_to_each_folder(folder: str) -> None:
    link = ROOT / "espfleet" / folder
    assert link.is_symlink() and link.resolve() == ROOT / folder


def test_no_module_imports_a_folder_by_its_bare_name() -> None:
    """`import parsers.x` from the repository root would load a second copy."""
    bad = []
    for folder in ("espfleet", "bench", "docs", "tests") + FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if (
                path.is_relative_to(ROOT / "espfleet")
                and path.parent != ROOT / "espfleet"
            ):
                continue  # the symlinked folders are read once, under their own name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                bad += [
                    f"{path.relative_to(ROOT)}:{node.lineno}: {n}"
                    for n in names
                    if n.split(".")[0] in FOLDERS
                ]
    assert bad == []
