"""Benchmark of `dac hunt`: a synthetic corpus of mixed Workspace and UAL events with attacks
planted, hunted with every rule at growing sizes, against the simple way (bench/baseline.py).

    .venv/bin/python bench/hunt_bench.py [--events 1000000] [--chunk 250000]

Prints, per size: events per second end to end (loading the rules, compiling them, reading,
running every rule, rendering every alert's playbook, writing the JSONL), peak memory, the
planted alerts found, and the same for the baseline with the speed-up. Each measurement runs
in a fresh process, so that its peak memory is its own. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GOAL_RATE = 100_000
GOAL_MB = 2048


def _child(kind: str, paths: list[Path]) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from converters.domains import load_domains
    from converters.loading.rules import load_rules

    started = time.perf_counter()
    ruleset = load_rules(ROOT / "sigma_rules")
    domains = load_domains(ROOT)
    if kind == "baseline":
        from baseline import run_baseline

        events, alerts = run_baseline(ruleset, domains, paths)
        rows = events
    else:
        from converters.hunt.output import reported_alerts, write_jsonl
        from converters.hunt.run import Hunter
        from converters.hunt.selection import file_formats, select_rules
        from converters.playbook.model import load_playbook

        playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
        chosen = file_formats(paths)
        if chosen.problems:
            raise SystemExit("\n".join(chosen.problems))
        result = Hunter(ruleset, domains, select_rules(ruleset)).run(chosen.found)
        reported = reported_alerts(result, ruleset, playbook)
        with tempfile.TemporaryDirectory() as scratch:
            write_jsonl(Path(scratch) / "alerts.jsonl", reported)
        events, rows = result.events, result.rows
        alerts = [
            (a.alert.doc.name, sorted(str(e["id"]) for e in a.record["evidence"])) for a in reported
        ]
    return {
        "events": events,
        "seconds": time.perf_counter() - started,
        "peak_mb": _peak_mb(),
        "rows": rows,
        "alerts": alerts,
    }


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over exec, so a child would report the parent's peak (the corpus generator's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(kind: str, paths: list[Path]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", kind, *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout))


def _alert_set(measured: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {(rule, tuple(ids)) for rule, ids in measured["alerts"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=250_000, help="events per planted chunk")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the corpus here")
    parser.add_argument("--child", choices=("hunt", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.paths)))
        return
    with tempfile.TemporaryDirectory(prefix="dac-hunt-bench-") as scratch:
        _bench(args, args.workdir or Path(scratch))


def _bench(args: argparse.Namespace, folder: Path) -> None:
    from corpus import write_chunk

    folder.mkdir(parents=True, exist_ok=True)
    chunks = args.events // args.chunk
    started = time.perf_counter()
    corpus = [write_chunk(folder, n, args.chunk) for n in range(chunks)]
    size = sum(p.stat().st_size for c in corpus for p in c.files)
    print(
        f"corpus: {chunks * args.chunk:,} events in {chunks} chunks of one day, "
        f"{size / 1e6:,.0f} MB of NDJSON, written in {time.perf_counter() - started:.1f} s"
    )
    print(
        "hunt: `dac hunt` with every rule, end to end (rules, compile, read, run, playbooks, "
        "JSONL); rows: records loaded by the prefilter;\nfound: expected alerts found (the "
        "planted attacks, and one per account created); extra: alerts not expected;\nsimple: "
        "every record flattened into one wide SQLite table, every rule's query run on it "
        "(bench/baseline.py); same: the two gave the same alerts."
    )
    header = (
        f"{'events':>10} {'hunt s':>7} {'events/s':>9} {'peak MB':>8} {'rows':>6} "
        f"{'found':>9} {'extra':>5} | {'simple s':>8} {'events/s':>9} {'peak MB':>8} "
        f"{'speed-up':>8} {'same':>5}"
    )
    print(header)
    results = []
    for steps in sorted({1, max(1, chunks // 2), chunks}):
        paths = [p for c in corpus[:steps] for p in c.files]
        hunt = _measure("hunt", paths)
        expected = {
            (r, tuple(sorted(ids)))
            for c in corpus[:steps]
            for r, v in c.planted.items()
            for ids in v
        }
        found = _alert_set(hunt)
        line = (
            f"{hunt['events']:>10,} {hunt['seconds']:>7.2f} "
            f"{hunt['events'] / hunt['seconds']:>9,.0f} {hunt['peak_mb']:>8,.0f} "
            f"{hunt['rows']:>6,} {len(expected & found):>4}/{len(expected):<4} "
            f"{len(found - expected):>5} |"
        )
        if not args.no_baseline:
            simple = _measure("baseline", paths)
            line += (
                f" {simple['seconds']:>8.2f} {simple['events'] / simple['seconds']:>9,.0f} "
                f"{simple['peak_mb']:>8,.0f} {simple['seconds'] / hunt['seconds']:>7.1f}x "
                f"{'yes' if _alert_set(simple) == found else 'NO':>5}"
            )
        print(line, flush=True)
        results.append(hunt)
    _verdict(results)


def _verdict(results: list[dict[str, Any]]) -> None:
    largest, smallest = results[-1], results[0]
    rate = largest["events"] / largest["seconds"]
    growth = (largest["seconds"] / largest["events"]) / (smallest["seconds"] / smallest["events"])
    print(
        f"goal >= {GOAL_RATE:,} events/s end to end on one core: "
        f"{'met' if rate >= GOAL_RATE else 'NOT met'} ({rate:,.0f} at {largest['events']:,})"
    )
    print(
        f"goal peak memory < {GOAL_MB:,} MB: "
        f"{'met' if largest['peak_mb'] < GOAL_MB else 'NOT met'} ({largest['peak_mb']:,.0f} MB)"
    )
    print(
        f"cost per event at {largest['events']:,} vs {smallest['events']:,}: {growth:.2f}x "
        "(1.0 = linear)"
    )


if __name__ == "__main__":
    main()
