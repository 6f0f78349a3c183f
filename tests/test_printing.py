"""espfleet.printing: text from bundles is printed literally, inert on a terminal."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from espfleet import printing

HOSTILE = "[bold red]PC1[/] [link=file:///etc/passwd]open[/link] \x1b[31mred\x1b]8;;x\x07 \u202eexe.txt [/]"
SHOWN = "[bold red]PC1[/] [link=file:///etc/passwd]open[/link] \\x1b[31mred\\x1b]8;;x\\x07 \\u202eexe.txt [/]"


@pytest.fixture
def terminal(monkeypatch) -> Console:
    """printing's console as a 200-column colour terminal that records."""
    term = Console(
        markup=False,
        emoji=False,
        highlight=False,
        record=True,
        force_terminal=True,
        color_system="truecolor",
        width=200,
    )
    monkeypatch.setattr(printing, "console", term)
    return term


def test_visible_spells_out_every_control_character():
    assert printing.visible(HOSTILE) == SHOWN
    assert (
        printing.visible("a\tb\nc\r\x00\x7f\x9b\u2028")
        == "a\\tb\\nc\\r\\x00\\x7f\\x9b\\u2028"
    )
    assert printing.visible("Grüße, 東京") == "Grüße, 東京"
    assert printing.visible(None) == ""


def test_say_prints_data_literally_and_only_our_own_words_styled(terminal):
    printing.say(("bold", "attempt 1"), " ", HOSTILE)
    raw = terminal.export_text(styles=True)
    assert raw == f"\x1b[1mattempt 1\x1b[0m {SHOWN}\n"
    assert "\x1b[31m" not in raw and "\x1b]8;" not in raw  # no colour, no link


def test_table_cells_never_parse_as_markup(terminal):
    rows = [{"device_name": HOSTILE, "path": "sites[/]x"}]
    terminal.print(printing.table(rows, ["device_name", "path"], "[/] title"))
    text = terminal.export_text()
    assert "[/] title" in text and "sites[/]x" in text
    assert "\\x1b[31mred" in text and "\x1b" not in text


def test_json_line_escapes_controls_and_keeps_the_data():
    line = printing.json_line({"message": HOSTILE + "\x85"})
    assert "\x1b" not in line and "\u202e" not in line and "\x85" not in line
    assert json.loads(line) == {"message": HOSTILE + "\x85"}


def test_csv_is_unchanged_into_a_pipe(capsys):
    assert printing.csv_safe("a,\x1b[31m\r\n") == "a,\x1b[31m\r\n"


def test_a_long_line_stays_one_line_in_a_pipe(monkeypatch):
    # rich cuts lines at 80 columns when stdout is no terminal; say() must not,
    # or a quarantined path is split in the nightly log and grep misses it.
    pipe = Console(markup=False, emoji=False, highlight=False, record=True, width=80)
    monkeypatch.setattr(printing, "console", pipe)
    path = "/share/" + "x" * 120 + ".cab"
    printing.say("  quarantined ", path, ": unreadable archive")
    assert pipe.export_text() == f"  quarantined {path}: unreadable archive\n"
