"""What every chart of the dashboard shares: colours, fonts, the Chart record.

Readable in print: colours come from viridis (perceptually even, monotonic in
lightness, so it survives colour blindness and greyscale), counts are written
on the marks where a colour carries them, every axis has a title in words and
every time axis says UTC. Nothing here knows the list of phases or outcomes:
`PHASE_ORDER` only puts the known ones first, in the order a device meets
them; any other value follows, alphabetically.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
INK = "#222222"
# viridis from dark to light, stopping before its yellow (too pale on paper).
VIRIDIS = ("#440154", "#3e4989", "#26828e", "#1f9e89", "#35b779", "#90d743")
BAR = "#3e4989"
FADED = "#b8bfd9"
# Ordering hints: stages before the ESP, then the ESP phases, in path order.
PHASE_ORDER = (
    "AutopilotProfile",
    "Network",
    "EntraJoin",
    "MdmEnrollment",
    "TpmAttestation",
    "DevicePreparation",
    "DeviceSetup",
    "AccountSetup",
)
WIDTH = 640


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its anchor, title, caption and Vega-Lite spec."""

    key: str
    title: str
    caption: str
    spec: dict


def ordered(values: set[str | None], hints: tuple[str, ...] = PHASE_ORDER) -> list:
    """`values` with the hinted ones first (in hint order), then the rest sorted."""
    known = [h for h in hints if h in values]
    rest = sorted(str(v) for v in values if v not in hints and v is not None)
    return known + rest


def palette(n: int) -> list[str]:
    """`n` colours of even lightness steps (dark first)."""
    if n <= len(VIRIDIS):
        step = (len(VIRIDIS) - 1) / max(n - 1, 1)
        return [VIRIDIS[round(i * step)] for i in range(n)]
    return [VIRIDIS[i % len(VIRIDIS)] for i in range(n)]


def config(chart: alt.TopLevelMixin) -> dict:
    """`chart` as a Vega-Lite dict in the page's font, ink and sizes."""
    spec = chart.configure(font=FONT, background="white").configure_axis(
        labelFontSize=12, titleFontSize=13, labelColor=INK, titleColor=INK
    )
    spec = spec.configure_legend(labelFontSize=12, titleFontSize=13)
    spec = spec.configure_view(stroke=None).configure_title(fontSize=15, color=INK)
    return spec.to_dict()


def count_axis(counts: list[int], title: str) -> alt.Axis:
    """An axis of whole counts: a tick per unit up to 10 (none at halves)."""
    top = max(counts, default=0)
    if top <= 10:
        return alt.Axis(title=title, values=list(range(top + 1)), format="d")
    return alt.Axis(title=title, tickMinStep=1, format="d")


def pct(n: float | None) -> str:
    """A share as a percentage with one decimal ("n/a" for none)."""
    return "n/a" if n is None else f"{n:.1%}"
