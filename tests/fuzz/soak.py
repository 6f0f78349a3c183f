"""`make soak`'s fuzzing: every parser through atheris for N inputs, in chunks.

    python -m tests.fuzz.soak [--runs 1000000] [--chunk 100000] [--jobs 2]
                              [--lanes 1] [PARSER...]

Each chunk is one `tests.fuzz.atheris_parsers` process resuming from the corpus
the previous chunk left; the inputs are counted from libFuzzer's own ``Done N
runs`` lines. `--lanes N` fuzzes each parser in N processes at once (sharing
its corpus between chunks), which is how the slow CMTrace parser gets its
inputs done on two cores. Prints one line per finished chunk and per parser
(inputs, seconds, defects) and every distinct defect with the file keeping
its input; exits 1 if any was found. Logs are in soak-logs/.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from espfleet.parsers import PARSERS

_DONE = re.compile(r"^Done (\d+) runs in (\d+) second", re.M)
_DEFECT = re.compile(r"^DEFECT [a-z]+: (.+)$", re.M)


def fuzz(
    parser: str, runs: int, chunk: int, lane: int = 0
) -> tuple[str, int, float, set[str], int]:
    """(parser, inputs run, seconds, defects, failed chunks) for one lane."""
    done, started, defects, failed = 0, time.monotonic(), set(), 0
    log = Path("soak-logs") / f"fuzz-{parser}-{lane}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("a") as out:
        while done < runs:
            step = min(chunk, runs - done)
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.fuzz.atheris_parsers",
                    parser,
                    f"-runs={step}",
                ],
                capture_output=True,
                text=True,
            )
            out.write(proc.stderr)
            out.flush()
            counted = sum(int(m[1]) for m in _DONE.finditer(proc.stderr))
            defects |= set(_DEFECT.findall(proc.stderr))
            if proc.returncode != 0 or counted == 0:  # a hang or a crash of libFuzzer
                failed += 1
                defects.add(f"libFuzzer stopped (exit {proc.returncode}); see {log}")
                if failed >= 3:
                    break
            done += counted or step
            print(f"  {parser} lane {lane}: {done} inputs so far", flush=True)
    return parser, done, time.monotonic() - started, defects, failed


def main() -> int:
    """Fuzz the named parsers (all by default); 1 when any defect was found."""
    args = argparse.ArgumentParser()
    args.add_argument("parsers", nargs="*", default=[p.name for p in PARSERS])
    args.add_argument("--runs", type=int, default=1_000_000)
    args.add_argument("--chunk", type=int, default=100_000)
    args.add_argument("--jobs", type=int, default=2)
    args.add_argument("--lanes", type=int, default=1)
    opts = args.parse_args()
    found = 0
    per_lane = -(-opts.runs // opts.lanes)
    with ThreadPoolExecutor(opts.jobs) as pool:
        jobs = {
            p: [
                pool.submit(fuzz, p, per_lane, opts.chunk, n) for n in range(opts.lanes)
            ]
            for p in opts.parsers
        }
        for parser, lanes in jobs.items():
            results = [job.result() for job in lanes]
            done = sum(r[1] for r in results)
            seconds = max(r[2] for r in results)
            defects = set().union(*(r[3] for r in results))
            print(
                f"{parser}: {done} inputs in {seconds:.0f} s ({opts.lanes} lanes),"
                f" {len(defects)} defects",
                flush=True,
            )
            for defect in sorted(defects):
                print(f"  {defect}")
            found += len(defects)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
