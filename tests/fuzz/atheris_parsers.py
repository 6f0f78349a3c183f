"""Coverage-guided fuzzing of one parser with atheris (libFuzzer), for `make soak`.

    python -m tests.fuzz.atheris_parsers PARSER [-runs=100000] [libFuzzer flags]

Each input goes through `tests.fuzz.targets.check` (sniff, parse, derivations,
schemas): any exception is a defect. The run goes on past defects, keeping the
first input of each distinct one (exception type and the innermost espfleet
frame) under `fuzz-artifacts/<parser>/` with its traceback, and prints one
``defects: N`` line at the end; a hang (over 20 s on one input) stops libFuzzer
with the input saved. The seeds are the parser's members in data/sample and
tests/data; libFuzzer prints ``Done N runs in S second(s)`` at the end. The
corpus grows in `fuzz-corpus/<parser>/`, so `make soak` runs a parser in chunks
of 100,000 inputs, each process resuming from the corpus the last one left
(atheris's memory grows with coverage: one process of 1,000,000 inputs of the
CMTrace parser passes 2 GB).
"""

from __future__ import annotations

import atexit
import hashlib
import sys
import tempfile
import traceback
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["espfleet.parsers"]):
    import espfleet.parsers  # noqa: F401

from tests.fuzz import targets  # noqa: E402


def _signature(error: BaseException) -> str:
    """Exception type and the innermost frame in espfleet: one defect, one key."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "espfleet" in f.filename or "/parsers/" in f.filename
    ]
    where = (
        f"{frames[-1].filename.rsplit('/', 2)[-1]}:{frames[-1].lineno}"
        if frames
        else "?"
    )
    return f"{type(error).__name__} at {where}"


def main(argv: list[str]) -> None:
    """Fuzz the parser named in argv[1]; the other arguments go to libFuzzer."""
    parser = targets.BY_NAME[argv[1]]
    artifacts = Path("fuzz-artifacts") / parser.name
    artifacts.mkdir(parents=True, exist_ok=True)
    defects: dict[str, int] = {}

    def one_input(data: bytes) -> None:
        name = targets.member_name(parser, len(data))
        try:
            if data[:1] == b"\x01" and parser.parse_set is not None:
                targets.check_pair(parser, data[1:], len(data), name)
            else:
                targets.check(parser, data, name)
        except Exception as error:  # every exception is a defect: keep it, go on
            key = _signature(error)
            if key not in defects:
                stem = (
                    artifacts / f"defect-{hashlib.sha1(key.encode()).hexdigest()[:10]}"
                )
                stem.with_suffix(".bin").write_bytes(data)
                stem.with_suffix(".txt").write_text(
                    f"{key}\nmember name: {name}\n\n" + traceback.format_exc()
                )
                print(f"DEFECT {parser.name}: {key}", file=sys.stderr, flush=True)
            defects[key] = defects.get(key, 0) + 1

    def summary() -> None:
        print(f"{parser.name} defects: {len(defects)}", file=sys.stderr)
        for key, n in sorted(defects.items()):
            print(f"  {key}: {n} inputs", file=sys.stderr)

    atexit.register(summary)
    seeds = Path(tempfile.mkdtemp(prefix=f"fuzz-seeds-{parser.name}-"))
    for n, (_name, data) in enumerate(targets.seeds()[parser.name]):
        (seeds / f"seed{n:03d}").write_bytes(data)
    corpus = Path("fuzz-corpus") / parser.name  # first: new inputs are kept here
    corpus.mkdir(parents=True, exist_ok=True)
    flags = [
        f"-artifact_prefix={artifacts}/",
        "-timeout=20",
        "-rss_limit_mb=2048",
        "-max_len=8192",
        "-print_final_stats=1",
    ]
    atheris.Setup([argv[0], *flags, *argv[2:], str(corpus), str(seeds)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
