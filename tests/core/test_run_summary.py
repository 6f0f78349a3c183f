"""The run's Markdown artifact shows share paths and reasons literally."""

from __future__ import annotations

from espfleet.run_summary import literal, run_markdown


def test_text_from_a_share_is_a_code_span_longer_than_its_backticks():
    assert literal("plain") == "` plain `"
    assert literal("a `b` c") == "`` a `b` c ``"
    assert literal("x\n# heading\n[l](file:///etc/passwd)") == (
        "` x # heading [l](file:///etc/passwd) `"
    )


def test_quarantine_reasons_cannot_become_markup():
    totals = {
        "run_id": "r1",
        "ingested": 0,
        "quarantined": 1,
        "duplicates": 0,
        "already_seen": 0,
        "warnings": 0,
        "rows": {},
        "deferred": [],
        "quarantine_reasons": [("/share/EU`]x/![i](http://x/a.png)", "bad `x`\n# h")],
    }
    text = run_markdown(totals)
    assert text.endswith(
        "## Quarantined\n\n- `` /share/EU`]x/![i](http://x/a.png) ``: `` bad `x` # h ``"
    )
