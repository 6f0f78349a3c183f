"""CPU cost of the one real 45 MB CAB, bytes to tables; prints numbers, asserts nothing.

    ESPFLEET_CORPUS=../shared/corpus taskset -c 0 \\
        .venv/bin/python bench/bench_real_cab.py [repeats] [--profile N] [--cab F]

`espfleet.unpack.iter_members` + `espfleet.ingest.ingest_members` (a bundle's
members streamed, as a batch reads them) on
`cab/MDMDiagReport_itziktdk-MyRes_2024.cab` (issue #12 goal: at most 0.6 s of
CPU on one core), timed with `time.process_time` (CPU of every thread of the
process, which other work on a shared machine disturbs less than wall time),
best of `repeats` after a first call in a fresh process. Then:

* per member type (registry dump, .evtx, CMTrace/IME logs, XML/HTML/ETL/other,
  by the parser that read the member): sniff, SHA-256, parse and derive CPU,
  from an instrumented run (the run with the smallest total of `repeats`);
  the CAB's unpack and the device resolution on their own lines;
* the .evtx parser against bare pyevtx-rs iteration (`records_json()`,
  nothing done per record) over the same files, best of `repeats` each, on
  the CAB's .evtx members and on the corpus's `evtx/` folder (goal >= 0.5x);
* the largest costs of `--profile N` runs (cProfile, own time).

Everything is measured as a nightly batch runs it (`pipeline.collected_per_bundle`):
Python's cyclic collector off, and one collection after each call, counted in
its time (with the collector on, the real CAB's registry dump read 117 ms
where a batch pays 85 ms: its 36,000 row tuples set off collections).

Run it pinned to one core (`taskset -c 0`): the affinity it ran with is printed.
``--cab F`` runs the same on another CAB, such as one of
``espfleet simulate --size real`` (docs/scale.md "Real-size bundles").
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from evtx import PyEvtxParser

from espfleet import ingest, pipeline
from espfleet.parsers import Deriver
from espfleet.parsers.events import evtx
from espfleet.unpack import iter_members, unpack

CAB = "cab/MDMDiagReport_itziktdk-MyRes_2024.cab"
KINDS = {
    "regfile": "registry dump",
    "evtx": ".evtx",
    "cmtrace": "CMTrace/IME logs",
}
OTHER = "XML/HTML/ETL/other"
STAGES = ("sniff", "sha256", "parse", "derive")


def cpu_best(fn: Callable[[], object], repeats: int) -> float:
    """The least CPU time of `repeats` calls of `fn`, each followed by the
    collection a batch runs after a bundle."""
    times = []
    for _ in range(repeats):
        with pipeline.collected_per_bundle() as collect:
            start = time.process_time()
            fn()
            collect()
            times.append(time.process_time() - start)
    return min(times)


def bytes_to_tables(name: str, data: bytes) -> ingest.BundleTables:
    """What the nightly does with one fetched bundle: its members streamed
    through the parsers."""
    return ingest.ingest_members(iter_members({name: data}, keep=ingest.KEEP))


class Ledger:
    """CPU seconds per member and stage, filled by the wrappers of `instrumented`."""

    def __init__(self) -> None:
        self.cpu: dict[str, dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(STAGES, 0.0)
        )
        self.parser_of: dict[str, str] = {}
        self.bundle: dict[str, float] = defaultdict(float)
        self.last_group = ""

    def timed(self, fn: Callable, stage: str, member: Callable[..., str]) -> Callable:
        def wrapper(*args):
            start = time.process_time()
            try:
                return fn(*args)
            finally:
                self.cpu[member(*args)][stage] += time.process_time() - start

        return wrapper


def instrumented(members: dict[str, bytes], ledger: Ledger) -> float:
    """`ingest_bundle` with each parser's sniff/parse, each deriver, the
    device resolution and the member hashing timed into `ledger`.

    Only `espfleet.ingest`'s module globals are swapped (and put back): the
    parsers themselves run unchanged. Returns the whole call's CPU time.
    """
    by_id = {id(data): name for name, data in members.items()}

    def wrap_parser(p):
        def parse_member(data, context):
            ledger.parser_of[context.member_name] = p.name
            ledger.last_group = context.member_name
            return p.parse(data, context)

        def parse_group(files, context):
            for name, _data in files:
                ledger.parser_of[name] = p.name
            ledger.last_group = context.member_name
            return p.parse_set(files, context)

        return replace(
            p,
            sniff=ledger.timed(p.sniff, "sniff", lambda head, name: name),
            parse=ledger.timed(parse_member, "parse", lambda d, c: c.member_name),
            parse_set=None
            if p.parse_set is None
            else ledger.timed(parse_group, "parse", lambda f, c: c.member_name),
        )

    def wrap_deriver(d: Deriver) -> Deriver:
        derive = ledger.timed(d.derive, "derive", lambda table: ledger.last_group)
        return Deriver(d.tables, derive)

    class Sha256:
        @staticmethod
        def sha256(data: bytes):
            start = time.process_time()
            digest = hashlib.sha256(data)
            ledger.cpu[by_id.get(id(data), "?")]["sha256"] += (
                time.process_time() - start
            )
            return digest

    def resolve(*args):
        start = time.process_time()
        try:
            return real_resolve(*args)
        finally:
            ledger.bundle["device.resolve"] += time.process_time() - start

    saved = {
        k: getattr(ingest, k) for k in ("PARSERS", "DERIVERS", "hashlib", "resolve")
    }
    real_resolve = saved["resolve"]
    ingest.PARSERS = tuple(wrap_parser(p) for p in saved["PARSERS"])
    ingest.DERIVERS = {k: wrap_deriver(d) for k, d in saved["DERIVERS"].items()}
    ingest.hashlib = Sha256  # type: ignore[assignment]
    ingest.resolve = resolve
    try:
        start = time.process_time()
        ingest.ingest_bundle(members)
        return time.process_time() - start
    finally:
        for k, v in saved.items():
            setattr(ingest, k, v)


def per_type(name: str, data: bytes, repeats: int) -> None:
    """The per-member-type table, from the instrumented run with the least CPU."""
    runs = []
    for _ in range(repeats):
        start = time.process_time()
        members = unpack({name: data})
        unpacked = time.process_time() - start
        ledger = Ledger()
        with pipeline.collected_per_bundle() as collect:
            total = instrumented(members, ledger)
            start = time.process_time()
            collect()
            ledger.bundle["collection"] = time.process_time() - start
        total += ledger.bundle["collection"]
        runs.append((unpacked + total, unpacked, total, ledger, members))
    _, unpacked, total, ledger, members = min(runs, key=lambda r: r[0])
    kinds: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(STAGES, 0.0))
    count: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for member, data_ in members.items():
        kind = KINDS.get(ledger.parser_of.get(member, ""), OTHER)
        count[kind][0] += 1
        count[kind][1] += len(data_)
        for stage, secs in ledger.cpu.get(member, {}).items():
            kinds[kind][stage] += secs
    print("\nper member type (CPU ms, instrumented run with the least total):")
    print(
        f"  {'type':<20} {'members':>7} {'MB':>6} "
        + " ".join(f"{s:>7}" for s in STAGES)
        + "   total"
    )
    attributed = 0.0
    for kind in (*KINDS.values(), OTHER):
        cpu = kinds[kind]
        attributed += sum(cpu.values())
        print(
            f"  {kind:<20} {count[kind][0]:>7} {count[kind][1] / 1e6:>6.1f} "
            + " ".join(f"{cpu[s] * 1e3:>7.1f}" for s in STAGES)
            + f" {sum(cpu.values()) * 1e3:>7.1f}"
        )
    resolve_s = ledger.bundle["device.resolve"]
    print(f"  {'unpack (libarchive, LZX)':<48} {unpacked * 1e3:>31.1f}")
    print(f"  {'device.resolve':<48} {resolve_s * 1e3:>31.1f}")
    collection_s = ledger.bundle["collection"]
    rest = total - attributed - resolve_s - collection_s
    print(f"  {'rest of ingest_bundle (dispatch, grouping)':<48} {rest * 1e3:>31.1f}")
    print(f"  {'the collection after the bundle (gc)':<48} {collection_s * 1e3:>31.1f}")
    print(f"  {'total (instrumented)':<48} {(unpacked + total) * 1e3:>31.1f}")
    costly = sorted(ledger.cpu.items(), key=lambda kv: -sum(kv[1].values()))[:8]
    print("  costliest members:")
    for member, cpu in costly:
        short = member.split("/", 1)[-1]
        mb = len(members[member]) / 1e6
        print(f"    {sum(cpu.values()) * 1e3:7.1f} ms  {short} ({mb:.2f} MB)")


def evtx_ratio(label: str, files: list[bytes], repeats: int) -> None:
    """Bare pyevtx-rs iteration against `evtx.parse` over the same files."""

    def bare() -> None:
        for d in files:
            for _ in PyEvtxParser(io.BytesIO(d)).records_json():
                pass

    def ours() -> None:
        for d in files:
            evtx.parse(d)

    records = sum(evtx.parse(d).table.num_rows for d in files)
    t_bare, t_ours = cpu_best(bare, repeats), cpu_best(ours, repeats)
    print(
        f"  {label:<24} {len(files):>3} files {sum(map(len, files)) / 1e6:5.1f} MB "
        f"{records:>6} records: bare {t_bare * 1e3:6.1f} ms, evtx.parse "
        f"{t_ours * 1e3:6.1f} ms -> {t_bare / t_ours:.2f} x (goal >= 0.5)"
    )


def profile(name: str, data: bytes, runs: int, top: int = 25) -> None:
    """The costliest functions by own time over `runs` calls (cProfile, wall
    clock: it inflates functions called very often, so read it for ranks)."""
    profiler = cProfile.Profile()  # its own clock: process_time costs a syscall a call
    profiler.enable()
    for _ in range(runs):
        bytes_to_tables(name, data)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    print(f"\nprofile ({runs} runs, cProfile; ms per run, own time then with callees):")
    for (path, line, func), (_cc, ncalls, tottime, cumtime, _callers) in rows:
        where = f"{_short_path(path)}:{line}({func})" if line else func
        print(
            f"  {tottime / runs * 1e3:7.1f} {cumtime / runs * 1e3:7.1f}  "
            f"{ncalls // runs:>7} calls  {where}"
        )


def _short_path(path: str) -> str:
    for marker in ("/espfleet/", "/site-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return os.path.basename(path)


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("repeats", nargs="?", type=int, default=7)
    args.add_argument("--profile", type=int, default=3, metavar="N")
    args.add_argument(
        "--cab",
        type=Path,
        default=None,
        help="another CAB (a simulated real-size one) instead of the corpus CAB",
    )
    opts = args.parse_args()
    corpus = Path(os.environ.get("ESPFLEET_CORPUS", "../shared/corpus"))
    path = opts.cab or corpus / CAB
    if not path.exists():
        print(f"no {path} (set ESPFLEET_CORPUS to the corpus folder): skipped")
        return
    data = path.read_bytes()
    cores = sorted(os.sched_getaffinity(0))
    pinned = "pinned" if len(cores) == 1 else "NOT pinned: use taskset -c 0"
    print(f"cores: {cores} ({pinned})")
    with pipeline.collected_per_bundle() as collect:
        start = time.process_time()
        result = bytes_to_tables(path.name, data)
        collect()
        first = time.process_time() - start
    best = cpu_best(lambda: bytes_to_tables(path.name, data), opts.repeats)
    unpacked = sum(m.size_bytes for m in result.members)
    rows = {
        t: sum(p.num_rows for _m, p in parts)
        for t, parts in sorted(result.tables.items())
    }
    print(
        f"{path.name}: {len(data) / 1e6:.1f} MB, {len(result.members)} members, "
        f"{unpacked / 1e6:.1f} MB unpacked; rows {rows}"
    )
    print(
        f"  members streamed to their tables, CPU: first call {first:.3f} s, "
        f"best of {opts.repeats} {best:.3f} s (goal <= 0.6 s)"
    )
    per_type(path.name, data, opts.repeats)
    members = unpack({path.name: data})
    print(
        "\nevtx: bare pyevtx-rs records_json() against events.evtx.parse, CPU, best of",
        opts.repeats,
    )
    evtx_ratio(
        "CAB's .evtx members",
        [d for n, d in sorted(members.items()) if n.endswith(".evtx")],
        opts.repeats,
    )
    corpus_evtx = [p.read_bytes() for p in sorted((corpus / "evtx").glob("*.evtx"))]
    if corpus_evtx:
        evtx_ratio("corpus evtx/ folder", corpus_evtx, opts.repeats)
    if opts.profile:
        profile(path.name, data, opts.profile)


if __name__ == "__main__":
    main()
