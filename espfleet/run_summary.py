"""The Markdown summary of a run that the flow publishes as a Prefect artifact.

Every text that came from a share or a bundle (a path, a quarantine reason, a
device name) is put inside a code span whose fence is longer than any run of
backticks in it, so Markdown shows it literally: never a link, an image or
markup.
"""

from __future__ import annotations

import re

from .share import redact


def literal(text: object) -> str:
    """`text` as a Markdown code span: shown as written, whatever it holds."""
    value = " ".join(str(text).split())  # one line: no block can start in it
    longest = max((len(m) for m in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {value} {fence}"


def run_markdown(totals: dict) -> str:
    """A short Markdown summary of a run, for the Prefect artifact."""
    lines = [
        f"# espfleet run {totals['run_id']}",
        "",
        f"- ingested: {totals['ingested']}",
        f"- quarantined: {totals['quarantined']}",
        f"- duplicates skipped: {totals['duplicates']}",
        f"- already seen: {totals['already_seen']}",
        f"- parser warnings: {totals['warnings']}",
        "",
        "| table | rows |",
        "|---|---|",
    ]
    lines += [f"| {name} | {n} |" for name, n in totals["rows"].items()]
    if "rate_flags" in totals:
        lines += ["", "## Rate flags", "", f"Rule: {totals['flag_rule']}.", ""]
        lines += [
            f"- {f['period']} of {f['current_start']}: {f['phase']} "
            f"{f['error_code'] or '(no code)'} {_pct(f['previous_rate'])} -> "
            f"{_pct(f['current_rate'])} ({f['current_failures']} of "
            f"{f['current_devices']} devices)"
            for f in totals["rate_flags"]
        ] or ["- none"]
        lines += ["", f"Newly failing devices: {len(totals['newly_failing'])}", ""]
        lines += [
            f"- {literal(d['device_name'] or d['device_key'])}"
            f" ({literal(d['site'] or '?')}): {d['failed_phase']}"
            f" {d['error_code'] or ''} {literal(d['cause'])}"
            for d in totals["newly_failing"]
        ]
    if totals["deferred"]:
        lines += ["", "## Deferred (share errors; retried next run)", ""]
        lines += [
            f"- {literal(uri)}: {literal(redact(r))}" for uri, r in totals["deferred"]
        ]
    if totals["quarantine_reasons"]:
        lines += ["", "## Quarantined", ""]
        lines += [
            f"- {literal(uri)}: {literal(reason)}"
            for uri, reason in totals["quarantine_reasons"]
        ]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
