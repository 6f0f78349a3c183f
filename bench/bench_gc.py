"""What Python's cyclic garbage collector costs a batch, automatic or per bundle.

    .venv/bin/python bench/bench_gc.py --share /tmp/real1000 [--bundles 40]

Each case runs one batch of the share's first `--bundles` bundles through
`pipeline.ingest_batch` in a fresh process, into a fresh warehouse:

* ``plain``: the process imports espfleet's pipeline alone (``single`` in
  bench/bench_night.py);
* ``prefect``: it imports the nightly flow and Prefect's task engine first,
  as a worker process of the process runner has (~90,000 more objects for
  every full collection to walk);

each with the collector ``automatic`` (Python's default thresholds, what a
batch ran with before) or ``per bundle`` (`pipeline.collected_per_bundle`,
what it runs with now). Printed per case: wall and CPU seconds of the batch,
the seconds spent in collections (`gc.callbacks`), how many collected the
oldest generation, the objects the collector tracked when the batch started,
and the process's peak RSS. Make the share with `bench/night_share.py`
(``--size real``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def child(share: str, bundles: int, imports: str, collector: str) -> None:
    import contextlib
    import gc
    import resource
    import tempfile
    import time

    if imports == "prefect":
        import prefect.task_engine  # noqa: F401

        import espfleet.flows.nightly  # noqa: F401
    from espfleet import pipeline
    from espfleet.warehouse import new_run_id

    if collector == "automatic":

        @contextlib.contextmanager
        def automatic():
            yield lambda: 0

        pipeline.collected_per_bundle = automatic
    spent = {"s": 0.0, "full": 0, "t": 0.0}

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            spent["t"] = time.perf_counter()
            return
        spent["s"] += time.perf_counter() - spent["t"]
        spent["full"] += info["generation"] == 2

    with tempfile.TemporaryDirectory() as wh:
        refs = pipeline.find_new_bundles(share, wh).new[:bundles]
        tracked = len(gc.get_objects())
        gc.callbacks.append(timed)
        wall, cpu = time.perf_counter(), time.process_time()
        pipeline.ingest_batch(share, refs, wh, new_run_id(), "b00000")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        gc.callbacks.remove(timed)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "gc": spent["s"],
                "full": spent["full"],
                "tracked": tracked,
                "peak": peak,
                "bundles": len(refs),
            }
        )
    )


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--share", required=True)
    args.add_argument("--bundles", type=int, default=40)
    args.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    opts = args.parse_args()
    if opts.child:
        child(opts.share, opts.bundles, *opts.child)
        return
    for imports in ("plain", "prefect"):
        for collector in ("automatic", "per bundle"):
            out = subprocess.run(
                [sys.executable, __file__, "--share", opts.share]
                + ["--bundles", str(opts.bundles), "--child", imports, collector],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.splitlines()[-1])
            print(
                f"{imports:7} {collector:10}: {r['bundles']} bundles,"
                f" {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU; collections"
                f" {r['gc']:.2f} s ({r['gc'] / r['wall']:.0%}), {r['full']} of the"
                f" oldest generation; {r['tracked']:,} objects tracked at the"
                f" start; peak RSS {r['peak']} MiB; load {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
