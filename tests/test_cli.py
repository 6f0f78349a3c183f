"""The CLI: documented, and each command doing what its help says."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from click.testing import CliRunner

from espfleet.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def invoke(*args: str):
    return CliRunner().invoke(
        main, list(args), prog_name="espfleet", catch_exceptions=False
    )


def test_cli_reference_is_current():
    render = runpy.run_path(str(ROOT / "docs" / "gen_cli.py"))["render"]
    assert (ROOT / "docs" / "cli.md").read_text() == render()


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Example: espfleet " + command in result.output


def test_explain_gives_one_answer_for_three_spellings():
    outputs = [
        invoke("explain", s).output for s in ("0x800705b4", "2147943860", "-2147023436")
    ]
    bodies = [
        "\n".join(line for line in o.splitlines() if not line.startswith("input"))
        for o in outputs
    ]
    assert bodies[0] == bodies[1] == bodies[2]
    assert "0x800705B4" in bodies[0] and "ERROR_TIMEOUT" in bodies[0]


def test_explain_of_no_error_code_is_one_line_and_exit_1():
    result = CliRunner().invoke(main, ["explain", "garbage"], prog_name="espfleet")
    assert result.exit_code == 1  # no traceback: the whole output is the line
    assert result.output == (
        "espfleet: 'garbage' is not an error code (give one as 0x800705B4,"
        " 2147943860, -2147023436, 1603 or a symbol such as ERROR_TIMEOUT)\n"
    )


def test_explain_of_a_code_not_in_the_catalogue_shows_its_structure_and_exit_1():
    result = invoke("explain", "0x8007FFFF")
    assert result.exit_code == 1
    assert "0x8007FFFF" in result.output and "Traceback" not in result.output


def test_parse_prints_ccmsetup_runs_as_json_lines():
    log = next((DATA / "ccmsetup").glob("*.log"))
    result = invoke("parse", str(log), "--table", "ccmsetup_runs")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0 and rows and all("run_no" in r for r in rows)


def test_parse_defaults_to_the_log_records():
    log = next((DATA / "ccmsetup").glob("*.log"))
    first = json.loads(invoke("parse", str(log)).output.splitlines()[0])
    assert first["record_no"] == 1 and first["component"]


def test_parse_names_the_tables_a_file_gives_when_asked_for_another():
    log = next((DATA / "ccmsetup").glob("*.log"))
    result = CliRunner().invoke(main, ["parse", str(log), "--table", "events"])
    assert result.exit_code != 0 and "ccmsetup_runs" in result.output


def test_parse_says_in_one_line_that_a_file_is_in_no_known_format(tmp_path):
    page = tmp_path / "MDMDiagHTMLReport.html"
    page.write_bytes(b"<html><body>report</body></html>")
    result = CliRunner().invoke(main, ["parse", str(page)])
    assert result.exit_code == 1
    assert result.output == (
        "espfleet parse: MDMDiagHTMLReport.html: no parser for this format\n"
    )


def test_parse_reads_a_setupact_log():
    log = DATA / "setuplog" / "setupact_csi_zone_change.log"
    rows = [json.loads(line) for line in invoke("parse", str(log)).output.splitlines()]
    assert len(rows) == 15 and rows[2]["csi_utc"] == "2025-10-21T15:00:05.122000+00:00"
    assert rows[0]["ts_utc"] == "2025-10-21T15:00:01+00:00"
