"""Benchmark of `dac hunt`: synthetic corpora of mixed Google Workspace and UAL events with
attacks planted, hunted with every rule, each measured against orjson decode-only of the same
files and the simple way made fair (bench/baseline.py), in the same run; then `dac build`
against `sigma convert` of the same rules to both targets. Not a test: it asserts nothing.

    .venv/bin/python bench/hunt_bench.py              # 250k, 1M, heavy group, 100k alerts
    .venv/bin/python bench/hunt_bench.py --sizes 250000,1000000,4000000   # with 4M (~20 min)
    .venv/bin/python bench/hunt_bench.py --events 1000  # any size, small ones too

Corpora: mixed sizes (chunks of one day, --chunk events each, the same attacks planted in
each); the heavy group (one provisioning account creating --group accounts over two weeks,
among noise, --heavy-events in all: by default the reference run's 1M, so that start-up
weighs the same on both); the alert-heavy corpus (--alerts creations by many admins, one
informational alert each). Every measurement runs in a fresh process
(bench/measure.py): CPU seconds (user + system) and peak resident memory are its own.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

from corpus import Chunk, write_chunk, write_heavy  # noqa: E402
from runs import (  # noqa: E402
    Corpus,
    Measured,
    Row,
    per_event,
    reference_corpus,
    reference_row,
    relative,
    summarise,
    times_decode,
)

from converters.console import Console  # noqa: E402

GOAL_RATE = 100_000  # events per CPU second, end to end, at 1M
GOAL_DECODE = 5.0  # at most this many times orjson decode-only
GOAL_LINEAR = 0.25  # cost per event within 25% of the 1M run's
GOAL_MB = 1024


def measure(kind: str, paths: list[Path], timeout: float | None = None) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / "measure.py"), kind, *map(str, paths)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return dict(json.loads(done.stdout))


def _chunks(folder: Path, events: int, chunk: int) -> list[Chunk]:
    """``events`` in chunks of ``chunk`` (the last one smaller), written once per workdir:
    chunk n of a size is the same file in every corpus that holds it."""
    sizes = [chunk] * (events // chunk) + ([events % chunk] if events % chunk else [])
    found = []
    for n, size in enumerate(sizes):
        where = folder / f"chunk{n}_{size}"
        where.mkdir(parents=True, exist_ok=True)
        found.append(write_chunk(where, n, size))
    return found


def corpora(args: argparse.Namespace, folder: Path) -> list[Corpus]:
    sizes = [args.events] if args.events else [int(s) for s in args.sizes.split(",") if s]
    made = []
    for size in sorted(set(sizes)):
        chunks = _chunks(folder / "mixed", size, args.chunk)
        planted: dict[str, list[list[str]]] = {}
        for c in chunks:
            for rule, alerts in c.planted.items():
                planted.setdefault(rule, []).extend(alerts)
        files = [p for c in chunks for p in c.files]
        made.append(Corpus(f"mixed {size:,}", files, sum(c.events for c in chunks), planted))
    if args.heavy_events:
        where = folder / "heavy"
        where.mkdir(parents=True, exist_ok=True)
        heavy = write_heavy(where, args.heavy_events, args.group)
        made.append(
            Corpus(f"heavy group ({args.group:,})", heavy.files, heavy.events, heavy.planted)
        )
    if args.alerts:
        where = folder / "alerts"
        where.mkdir(parents=True, exist_ok=True)
        # A week of noise after the last creation: every account's absence alert is due.
        actors = max(1, args.alerts // 4)
        many = write_heavy(where, args.alerts * 3, args.alerts, actors=actors, quiet_days=8)
        made.append(
            Corpus(f"{args.alerts:,} creations", many.files, many.events, many.planted, False)
        )
    return made


def _alerts(measured: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {(rule, tuple(sorted(ids))) for rule, ids in measured.get("alerts", [])}


def _expected(corpus: Corpus) -> set[tuple[str, tuple[str, ...]]]:
    """The planted alerts of the rules `dac hunt` runs (building blocks only when named)."""
    selected = _selected()
    return {
        (r, tuple(sorted(ids)))
        for r, found in corpus.planted.items()
        if r in selected
        for ids in found
    }


@functools.cache
def _selected() -> frozenset[str]:
    from converters.hunt.selection import select_rules
    from converters.loading.rules import load_rules

    return frozenset(d.name for d in select_rules(load_rules(ROOT / "sigma_rules")))


def _say_failed(console: Console, label: str, *runs: Measured) -> None:
    """A run that failed or ran out of time is said as it happens (its row shows it too)."""
    for run in runs:
        if "cpu" not in run:
            reason = run.get("error") or f"no result in {run.get('timeout')} s"
            console.print(f"{label}: a run failed: {reason}")


def table(rows: list[Row]) -> Table:
    reference = reference_row(rows)
    out = Table(title="dac hunt, every rule, end to end (CPU seconds of one process)")
    against = f"{reference.corpus.events:,}" if reference else "-"
    for name in (
        "corpus", "events", "hunt CPU s", "runs (min-max)", "events / CPU s", "x decode-only",
        f"cost / event vs {against}", "peak MB", "alerts", "written", "planted found",
        "simple CPU s", "simple peak MB", "same alerts as simple",
    ):  # fmt: skip
        out.add_column(name, justify="left" if name == "corpus" else "right")
    for row in rows:
        hunt = row.hunt
        if "cpu" not in hunt:
            out.add_row(row.corpus.label, f"{row.corpus.events:,}", hunt.get("error", "timeout"))
            continue
        times = times_decode(row)
        ratio = f"{times:.1f}" if times is not None else "-"
        spread = f"{row.spread[0]:.1f}-{row.spread[1]:.1f}" if row.spread else "-"
        paired = relative(row, reference)
        cost = f"{paired:.2f}" if paired is not None else "-"
        expected, found = _expected(row.corpus), _alerts(hunt)
        simple = row.simple
        if simple is None:
            simple_cells = ["-", "-", "-"]
        elif "cpu" not in simple:
            reason = f"> {simple['timeout']:.0f} s" if "timeout" in simple else "failed"
            simple_cells = [reason, "-", "-"]
        else:
            same = "yes" if _alerts(simple) == found else "NO"
            simple_cells = [f"{simple['cpu']:.1f}", f"{simple['peak_mb']:,.0f}", same]
        out.add_row(
            row.corpus.label,
            f"{hunt['events']:,}",
            f"{hunt['cpu']:.1f}",
            spread,
            f"{hunt['events'] / hunt['cpu']:,.0f}",
            ratio,
            cost,
            f"{hunt['peak_mb']:,.0f}",
            f"{len(found):,}",
            f"{hunt.get('written', 0):,}",
            f"{len(expected & found):,}/{len(expected):,}",
            *simple_cells,
        )
    return out


def phases(rows: list[Row]) -> Table:
    """Why the figures are what they are: each hunt's CPU time by phase, beside decode-only."""
    out = Table(title="Where the hunt's CPU seconds go")
    for name in ("corpus", "start-up", "read", "decode-only", "rules", "alerts", "table rows"):
        out.add_column(name, justify="left" if name == "corpus" else "right")
    for row in rows:
        hunt, decode = row.hunt, row.decode or {}
        if "phases" not in hunt:
            continue
        spent = hunt["phases"]
        out.add_row(
            row.corpus.label,
            *(f"{spent[name]:.1f}" for name in ("start-up", "read")),
            f"{decode['cpu']:.1f}" if "cpu" in decode else "-",
            *(f"{spent[name]:.1f}" for name in ("rules", "alerts")),
            f"{hunt['rows']:,}",
        )
    return out


def verdicts(rows: list[Row], build: tuple[float, float, int] | None) -> list[str]:
    lines = []
    reference = reference_row(rows)
    if reference is not None:
        hunt = reference.hunt
        rate = hunt["events"] / hunt["cpu"]
        lines.append(
            f"{_met(rate >= GOAL_RATE)} >= {GOAL_RATE:,} events per CPU second at "
            f"{hunt['events']:,}: {rate:,.0f}"
        )
        times = times_decode(reference)
        if times is not None:
            lines.append(
                f"{_met(times <= GOAL_DECODE)} <= {GOAL_DECODE:.0f}x decode-only: {times:.1f}x"
            )
        lines.append(
            f"{_met(hunt['peak_mb'] < GOAL_MB)} peak < {GOAL_MB:,} MB at {hunt['events']:,}: "
            f"{hunt['peak_mb']:,.0f} MB"
        )
        spread = [
            (r, paired)
            for r in rows
            if r.corpus.linear and (paired := relative(r, reference)) is not None
        ]
        worst, paired = max(spread, key=lambda item: abs(item[1] - 1))
        pairs = (
            f": the median of {len(worst.against)} pairs, {min(worst.against):.2f} to "
            f"{max(worst.against):.2f}"
            if worst.against
            else ""
        )
        lines.append(
            f"{_met(abs(paired - 1) <= GOAL_LINEAR)} cost per event within "
            f"{GOAL_LINEAR:.0%} of the reference run's, paired: furthest {paired:.2f} "
            f"({worst.corpus.label}{pairs})"
        )
    for row in rows:
        if not row.corpus.linear and "cpu" in row.hunt:
            count, written = len(row.hunt["alerts"]), row.hunt.get("written", 0)
            lines.append(
                f"{_met(row.hunt['peak_mb'] < GOAL_MB)} peak < {GOAL_MB:,} MB at {count:,} "
                f"alerts ({written:,} incidents written): {row.hunt['peak_mb']:,.0f} MB"
            )
    if build is not None:
        ours, theirs, rules = build
        lines.append(
            f"{_met(ours <= theirs)} `dac build` ({ours:.1f} CPU s: every rule to SPL, EQL and "
            f"ES|QL, playbooks, app and rules files) no slower than `sigma convert` of the "
            f"single-event rules, one run per source and target ({theirs:.1f} CPU s, "
            f"{rules} queries written; it cannot convert the others)"
        )
    return lines


def _met(ok: bool) -> str:
    return "met    " if ok else "NOT met"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_vs_convert(folder: Path) -> tuple[float, float, int]:
    """CPU seconds of `dac build`, and of `sigma convert` (Splunk, then EQL) of the rules
    `dac build` wrote, each source's rules with that source's pipelines; and how many
    queries sigma convert wrote."""
    from converters.loading.rules import load_rules

    binary = Path(sys.executable).parent
    before = _children_cpu()
    built = subprocess.run(
        [str(binary / "dac"), "build", "--out", str(folder)], capture_output=True, cwd=ROOT
    )
    ours = _children_cpu() - before
    made = [folder / "elastic" / "rules.ndjson", *(folder / "splunk").glob("*.tgz")]
    if built.returncode or len(made) < 2:
        raise SystemExit(f"dac build failed ({built.returncode}): {built.stderr.decode()[-500:]}")
    ruleset = load_rules(ROOT / "sigma_rules")
    # sigma convert stops a whole run on a correlation whose rule it had to skip (every base
    # rule with a list placeholder): it is given the single-event rules, one run per source
    # and target, with that source's pipeline.
    by_source: dict[str, list[str]] = {}
    for doc in ruleset.docs:
        sources = ruleset.sources_of(doc)
        if len(sources) == 1 and not doc.is_correlation:
            path = folder / "sigma" / doc.path.relative_to(ROOT / "sigma_rules")
            by_source.setdefault(sources[0].name, []).append(str(path))
    before = _children_cpu()
    converted = 0
    for source, paths in by_source.items():
        for target, pipeline in (("splunk", "dac_splunk_"), ("eql", "dac_elastic_")):
            command = [str(binary / "sigma"), "convert", "-s", "-t", target, "-p"]
            done = subprocess.run(
                [*command, pipeline + source, *paths], capture_output=True, text=True, cwd=ROOT
            )
            converted += sum(1 for line in done.stdout.splitlines() if line.strip())
    return ours, _children_cpu() - before, converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="250000,1000000", help="mixed corpus sizes")
    parser.add_argument("--events", type=int, default=0, help="one mixed size (any)")
    parser.add_argument("--chunk", type=int, default=250_000, help="events per day chunk")
    # As large as the reference run (1M), so that the fixed start-up (imports, rules compiled:
    # about half a second) weighs on its cost per event as it does on the reference's.
    parser.add_argument(
        "--heavy-events", type=int, default=1_000_000, help="0: no heavy group (default: 1M)"
    )
    parser.add_argument("--group", type=int, default=10_000, help="events of the heavy group")
    parser.add_argument("--alerts", type=int, default=100_000, help="0: no alert-heavy corpus")
    parser.add_argument(
        "--repeat", type=int, default=3, help="hunt and decode-only runs per corpus, in turn"
    )
    # The linearity goal is a ratio of two runs minutes apart on a machine whose speed
    # drifts by a quarter within a minute: a median of five pairs, not three, holds it.
    parser.add_argument(
        "--linear-pairs",
        type=int,
        default=5,
        help="runs of each corpus paired with the reference's (linearity), in turn",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the simple way")
    parser.add_argument(
        "--baseline-timeout", type=float, default=300.0, help="wall seconds per simple run"
    )
    parser.add_argument("--no-build", action="store_true", help="skip dac build vs sigma")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the corpora here")
    args = parser.parse_args()
    # Each run measured is one after the first: the package's bytecode is written, as a
    # first import writes it. Under PYTHONDONTWRITEBYTECODE nothing would write it, and
    # every process measured would compile the package's ~90 modules again.
    compileall.compile_dir(ROOT / "converters", quiet=1)
    with tempfile.TemporaryDirectory(prefix="dac-hunt-bench-") as scratch:
        run(args, args.workdir or Path(scratch))


def run(args: argparse.Namespace, folder: Path) -> None:
    console = Console()
    rows = []
    made = corpora(args, folder)
    reference = reference_corpus(made)
    for corpus in made:
        size = sum(p.stat().st_size for p in corpus.files)
        console.print(f"{corpus.label}: {corpus.events:,} events, {size / 1e6:,.0f} MB of NDJSON")
        pairs, against = [], []
        # The reference run this corpus's cost per event is paired with, if any.
        paired = reference if corpus.linear and corpus is not reference else None
        repeat = max(1, args.repeat)
        for n in range(max(repeat, args.linear_pairs if paired else 0)):
            hunt = measure("hunt", corpus.files)
            if n < repeat:
                decode = measure("decode", corpus.files)
                pairs.append((hunt, decode))
                _say_failed(console, corpus.label, hunt, decode)
            else:  # past --repeat, a hunt only for its pair with the reference
                _say_failed(console, corpus.label, hunt)
            if paired is not None and n < args.linear_pairs:
                again = measure("hunt", paired.files)
                _say_failed(console, f"{paired.label} (paired)", again)
                if "cpu" in hunt and "cpu" in again:
                    against.append(per_event(hunt) / per_event(again))
        simple = None
        if not args.no_baseline:
            simple = measure("simple", corpus.files, args.baseline_timeout)
        rows.append(summarise(corpus, pairs, simple, against))
    build = None if args.no_build else build_vs_convert(folder / "dist")
    console.print(table(rows))
    console.print(phases(rows))
    console.print(
        "alerts: the engine's hits, distinct by rule and evidence (compared with the simple "
        "way's); written: the "
        "incidents `dac hunt --out` writes, one alert each, with its playbook. "
        "Each hunt and its decode-only run in turn, --repeat times: hunt CPU s is the median "
        "run (runs: the fastest and the slowest), peak MB the highest. "
        "x decode-only: the hunt's CPU time over orjson decoding the same lines, nothing else, "
        "the median of the pairs' ratios. cost / event: each of the corpus's hunts (--repeat, "
        "then more up to --linear-pairs) against a hunt of the reference run right after it, "
        "the median of those ratios (start-up "
        "included: a fixed cost, it weighs more per event on a smaller corpus). "
        "simple: every record flattened into one wide SQLite table (orjson, indexes on the "
        "filtered columns), every rule's pySigma query run whole (bench/baseline.py). "
        "Phases: start-up is imports and the rules compiled; read is every record read, "
        "decoded, inspected and tested, and the rows loaded (decode-only is the floor of "
        "that); rules is every query run; alerts is the incidents and the JSONL written."
    )
    for line in verdicts(rows, build):
        console.print(line)


if __name__ == "__main__":
    main()
