"""The ops-review dashboard: one self-contained HTML file and slide images.

`export_dashboard(warehouse)` reads the report views (espfleet.reports) and
writes ``<warehouse>/dashboard/index.html`` (Vega, Vega-Lite and vega-embed
inlined: it opens offline, from a share or a mail), a PNG per chart and
``summary.png`` for a slide. `espfleet dashboard` and the nightly flow's last
step call it.
"""

from .export import Export, export_dashboard

__all__ = ["Export", "export_dashboard"]
