"""Text from a bundle is printed literally by every CLI command: a device name
of rich markup and a terminal link, log messages with ANSI and OSC escapes, and
a share path holding ``[/]`` (which made rich raise MarkupError)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.fixtures import SAMPLE
from tests.flows import cli_runs

NAME = "[bold red]PC[/] [link=file:///etc/passwd]open[/link] \x1b[31mred"
SHOWN_NAME = "[bold red]PC[/] [link=file:///etc/passwd]open[/link] \\x1b[31mred"
MESSAGE = b"hostile \x1b]8;;file:///etc/passwd\x07link\x1b]8;;\x07 and \x1b[2J [/] done"
SHOWN_MESSAGE = (
    "hostile \\x1b]8;;file:///etc/passwd\\x07link\\x1b]8;;\\x07 and \\x1b[2J [/] done"
)


def hostile_share(root: Path) -> Path:
    """One sample bundle under a path holding [/], its name and a log line hostile."""
    bundle = root / "share" / "EU[" / "]x" / "PC_20251101-120000"
    shutil.copytree(SAMPLE / "UK-LON" / "LON-PFTZGSFW_20251024-072240", bundle)
    doc = {
        "$schema": [
            {
                "categories": [
                    {
                        "items": [
                            {"propertyId": "DeviceName", "value": NAME},
                            {"propertyId": "SerialNumber", "value": "PFTZGSFW"},
                        ]
                    }
                ]
            }
        ]
    }
    (bundle / "DiagnosticsFrameworkData.json").write_text(json.dumps(doc))
    with (bundle / "ccmsetup.log").open("ab") as log:
        log.write(
            b"<![LOG[" + MESSAGE + b']LOG]!><time="07:30:00.000+0" date="10-24-2025"'
            b' component="ccmsetup" context="" type="1" thread="1" file="x">\r\n'
        )
    return root / "share"


def run(args: list[str], home: Path, logs: Path, **env: str) -> cli_runs.CliRun:
    # wide: one record per line, so a literal text is never cut by a wrap
    done = cli_runs.start(args, home, logs, env={"COLUMNS": "1000", **env})
    done.wait()
    return done


def invoke(*args: str, terminal: bool = False) -> str:
    """A command that needs no engine, in-process; as on a colour terminal if asked."""
    from click.testing import CliRunner
    from rich.console import Console

    from espfleet import printing
    from espfleet.cli import main

    saved = printing.console
    if terminal:  # rich styles as on a terminal: only our own words are styled
        printing.console = Console(
            markup=False, emoji=False, highlight=False, force_terminal=True, width=1000
        )
    else:
        printing.console = Console(
            markup=False, emoji=False, highlight=False, width=1000
        )
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        printing.console = saved
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_prints_bundle_text_literally(tmp_path, cli_home):
    share, wh, logs = hostile_share(tmp_path), str(tmp_path / "wh"), tmp_path / "logs"
    dry = run(["ingest", str(share), "--warehouse", wh, "--dry-run"], cli_home, logs)
    ingest = run(["ingest", str(share), "--warehouse", wh], cli_home, logs)
    for done in (dry, ingest):
        assert done.proc.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "MarkupError" not in done.stderr
    assert "EU[/]x/PC_20251101-120000" in dry.stdout and "\x1b" not in dry.stdout
    assert "1 bundles ingested" in ingest.stdout and "\x1b" not in ingest.stdout
    device = invoke("device", "PFTZGSFW", "--warehouse", wh, terminal=True)
    assert f"attempt 1 \u00b7 {SHOWN_NAME} (PFTZGSFW)" in device
    assert "\x1b[31m" not in device and "\x1b]8;" not in device
    report = invoke("report", "--warehouse", wh)
    query = (
        "select d.device_name, e.message from device_outcomes d, stg_cmtrace__entries e"
        " where e.message like 'hostile%'"
    )
    sql = invoke("sql", query, "--warehouse", wh)
    # Table cells are cut at 48 characters (long texts stay on one line).
    assert SHOWN_NAME[:40] in sql and SHOWN_MESSAGE[:40] in sql
    assert "\x1b" not in sql and "\x1b" not in report
    as_json = invoke("sql", query, "--warehouse", wh, "--format", "json")
    assert json.loads(as_json) == {"device_name": NAME, "message": MESSAGE.decode()}
    assert "\x1b" not in as_json  # JSON escapes them: the same data, inert
