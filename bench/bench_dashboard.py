"""The dashboard of a large warehouse: file size, generation time, render time.

Usage: python bench/bench_dashboard.py [--devices 10000] [--share DIR] [--work DIR]

Simulates a share of N devices (or reads --share), ingests it with the nightly
run's steps (no Prefect engine), exports the dashboard (plain and masked) and
opens it in Debian's chromium (headless, no network) to time the drawing of
every chart. Goals (issue #13): under 5 MB and under 3 s to render.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from espfleet.dashboards import export_dashboard  # noqa: E402
from espfleet.simulator.fleet import simulate  # noqa: E402
from tests.dashboards.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.fixtures import ingest_without_prefect  # noqa: E402


def render_seconds(index: Path, runs: int = 3) -> list[float]:
    """Seconds from navigation until every chart is drawn, per run."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            context.route("http*://**", lambda route: route.abort())
            page = context.new_page()
            started = time.perf_counter()
            page.goto(index.as_uri())
            page.wait_for_function(
                "document.body.dataset.charts === 'done'", timeout=120000
            )
            times.append(time.perf_counter() - started)
            context.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--share", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "dash")
    args = parser.parse_args()
    share = args.share or args.work / "share"
    warehouse = args.work / "warehouse"
    if args.share is None and not (share / "ground_truth.csv").exists():
        started = time.perf_counter()
        simulate(devices=args.devices, seed=args.seed, out=share)
        print(f"simulate {args.devices} devices: {time.perf_counter() - started:.0f} s")
    if not (warehouse / "espfleet.duckdb").exists():
        started = time.perf_counter()
        totals = ingest_without_prefect(share, warehouse, batch_size=100)
        print(
            f"ingest: {totals['ingested']} bundles, {totals['quarantined']} "
            f"quarantined in {time.perf_counter() - started:.0f} s"
        )
    for mask in (False, True):
        result = export_dashboard(
            warehouse, args.work / ("masked" if mask else "plain"), mask=mask
        )
        # The first export builds the Vega bundle (a few seconds, once a process).
        result = export_dashboard(
            warehouse, args.work / ("masked" if mask else "plain"), mask=mask
        )
        renders = render_seconds(result.index)
        print(
            f"dashboard{' --mask' if mask else ''}: {result.size_bytes / 1e6:.2f} MB "
            f"(goal < 5 MB), generated in {result.seconds:.1f} s, "
            f"{len(result.images)} images; rendered in "
            + ", ".join(f"{s:.2f}" for s in renders)
            + " s (goal < 3 s)"
        )


if __name__ == "__main__":
    main()
