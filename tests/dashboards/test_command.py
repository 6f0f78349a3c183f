"""`espfleet dashboard`: what it prints, --since, and one line for a user error."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from click.testing import CliRunner

from espfleet import reports
from espfleet.cli import main
from espfleet.warehouse import Warehouse


def specs(html: str) -> list[dict]:
    return [
        json.loads(m)
        for m in re.findall(
            r'<script type="application/json" id="spec-\d+">(.*?)</script>', html
        )
    ]


def test_the_command_writes_the_window_it_is_given(planted, tmp_path):
    with Warehouse(planted["warehouse"]).connect() as con:
        days = [r["day"] for r in reports.run(con, "daily_totals").to_pylist()]
        since = days[-1] - timedelta(days=2)
        chased = reports.run(con, "devices_to_chase", since).to_pylist()
        every = reports.run(con, "devices_to_chase").to_pylist()
    assert 0 < len(chased) < len(every)
    out = tmp_path / "dash"
    result = CliRunner().invoke(
        main,
        [
            "dashboard",
            "--warehouse",
            str(planted["warehouse"]),
            "--out",
            str(out),
            "--since",
            since.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"dashboard: {re.escape(str(out / 'index.html'))} \(\d+\.\d MB, \d+ images, "
        r"\d+\.\d s\)\n",
        result.output,
    )
    html = (out / "index.html").read_text(encoding="utf-8")
    assert f"with a latest attempt from {since.isoformat()} on" in html
    assert html.count("class='timeline'") == len(chased)
    (daily,) = [
        s for s in specs(html) if "vconcat" in s and "Day (UTC)" in json.dumps(s)
    ]
    shown = {v["day"] for part in daily["vconcat"] for v in part["data"]["values"]}
    assert shown and min(shown) >= since.isoformat()


def test_no_warehouse_is_one_line_and_no_traceback(tmp_path):
    result = CliRunner().invoke(
        main, ["dashboard", "--warehouse", str(tmp_path / "nowhere")]
    )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output
