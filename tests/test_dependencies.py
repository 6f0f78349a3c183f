"""pyproject.toml declares what the code imports, with a lower bound, and no more."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("espfleet", "parsers", "flows", "simulator", "dashboards")
OURS = {"espfleet", "tests", "__future__"} | set(RUNTIME) | {"sql"}
# A bench/ script runs with bench/ on its path and may import another one.
OURS |= {path.stem for path in (ROOT / "bench").glob("*.py")}
# Declared for what they do behind another package's import.
USED_INDIRECTLY = {
    "smbprotocol": "fsspec's smb:// filesystem",
    "s3fs": "fsspec's and universal-pathlib's s3:// filesystem",
    "tzdata": "zoneinfo's database on systems without one",
}
# bench/ scripts that run a peer tool in its own venv (see the script; Spark
# needs Java, so bench/spark_readback.py is run by hand, its result in docs).
FOREIGN = {"plaso", "dfvfs", "pyspark"}


def requirements(entries: list[str]) -> dict[str, str]:
    """Distribution name (normalised) -> its specifier text."""
    out = {}
    for entry in entries:
        name = re.match(r"[A-Za-z0-9_.-]+", entry)
        assert name, entry
        out[name[0].lower().replace("_", "-")] = entry[name.end() :]
    return out


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME_DEPS = requirements(PROJECT["dependencies"])
OPTIONAL = PROJECT["optional-dependencies"]
EXTRA_DEPS = {k: requirements(v) for k, v in OPTIONAL.items()}


def imported(folders: tuple[str, ...]) -> set[str]:
    """Distributions imported by the Python files of `folders`."""
    dists = packages_distributions()
    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            if folder == "espfleet" and path.parent != ROOT / "espfleet":
                continue  # the linked folders are read under their own names
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    mods = [node.module or ""]
                else:
                    continue
                for mod in mods:
                    top = mod.split(".")[0]
                    if top in OURS or top in sys.stdlib_module_names or top in FOREIGN:
                        continue
                    assert top in dists, f"{path}: {top} is not installed"
                    found |= {d.lower().replace("_", "-") for d in dists[top]}
    return found


def test_every_runtime_import_is_a_declared_dependency_with_a_lower_bound():
    declared = RUNTIME_DEPS | EXTRA_DEPS["dask"]
    missing = imported(RUNTIME) - set(declared)
    assert missing == set()
    assert {n: s for n, s in declared.items() if ">=" not in s} == {}


def test_every_runtime_dependency_is_imported():
    unused = set(RUNTIME_DEPS) - imported(RUNTIME) - set(USED_INDIRECTLY)
    assert unused == set()


def test_test_and_bench_imports_are_declared_for_development():
    declared = RUNTIME_DEPS | EXTRA_DEPS["dask"] | EXTRA_DEPS["dev"]
    assert imported(("tests", "bench", "docs")) - set(declared) == set()
    assert {n: s for n, s in EXTRA_DEPS["dev"].items() if ">=" not in s} == {}


def test_starting_the_cli_imports_neither_pandas_nor_prefect():
    # A night with nothing new ends before any parsing (docs/scale.md): pandas
    # (which any pa.array() call imports) and Prefect cost seconds to import.
    probe = (
        "import sys, espfleet.cli;"
        " print(sorted(m for m in ('pandas', 'prefect') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert (out.returncode, out.stdout.strip()) == (0, "[]")
