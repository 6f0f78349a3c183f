"""`make soak`'s fuzzing: every parser through atheris for N inputs, in chunks.

    python -m tests.fuzz.soak [--runs 1000000] [--chunk 100000] [--jobs 2] [PARSER...]

Each chunk is one `tests.fuzz.atheris_parsers` process resuming from the corpus
the previous chunk left; the inputs are counted from libFuzzer's own ``Done N
runs`` lines. Prints one line per parser (inputs, seconds, defects) and every
distinct defect with the file keeping its input; exits 1 if any was found.
Logs are in soak-logs/.
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


def fuzz(parser: str, runs: int, chunk: int) -> tuple[str, int, float, set[str], int]:
    """(parser, inputs run, seconds, defects, failed chunks) for one parser."""
    done, started, defects, failed = 0, time.monotonic(), set(), 0
    log = Path("soak-logs") / f"fuzz-{parser}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
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
    return parser, done, time.monotonic() - started, defects, failed


def main() -> int:
    """Fuzz the named parsers (all by default); 1 when any defect was found."""
    args = argparse.ArgumentParser()
    args.add_argument("parsers", nargs="*", default=[p.name for p in PARSERS])
    args.add_argument("--runs", type=int, default=1_000_000)
    args.add_argument("--chunk", type=int, default=100_000)
    args.add_argument("--jobs", type=int, default=2)
    opts = args.parse_args()
    found = 0
    with ThreadPoolExecutor(opts.jobs) as pool:
        jobs = [pool.submit(fuzz, p, opts.runs, opts.chunk) for p in opts.parsers]
        for job in jobs:
            parser, done, seconds, defects, _failed = job.result()
            print(
                f"{parser}: {done} inputs in {seconds:.0f} s, {len(defects)} defects",
                flush=True,
            )
            for defect in sorted(defects):
                print(f"  {defect}")
            found += len(defects)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
