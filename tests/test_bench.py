"""The hunt benchmark (bench/hunt_bench.py): it runs end to end at a tiny size, and repeated
runs are summarised (bench/runs.py) as the median run, the highest peak and the median of
the pairs' ratios."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import hunt_bench  # noqa: E402
import runs  # noqa: E402


def _run(cpu: float, peak: float, events: int = 1000) -> dict[str, Any]:
    return {"cpu": cpu, "peak_mb": peak, "events": events, "alerts": [], "rows": 0}


def test_repeated_runs_give_the_median_run_the_highest_peak_and_the_pairs_ratio() -> None:
    corpus = runs.Corpus("mixed 1,000", [], 1000)
    pairs = [
        (_run(9.0, 70), _run(3.0, 10)),  # ratio 3.0
        (_run(12.0, 90), _run(3.0, 10)),  # ratio 4.0: the machine slowed for this pair
        (_run(10.0, 80), _run(2.0, 12)),  # ratio 5.0
    ]
    row = runs.summarise(corpus, pairs, None)
    assert row.hunt["cpu"] == 10.0  # the median run, not the mean
    assert row.hunt["peak_mb"] == 90  # the highest of the runs
    assert row.decode is not None and row.decode["cpu"] == 3.0
    assert row.spread == (9.0, 12.0)
    assert runs.times_decode(row) == 4.0  # the pairs' ratios' median, not 10 / 3
    even = runs.summarise(corpus, pairs[:2], None)
    assert runs.times_decode(even) == 3.5


def test_linearity_is_the_median_of_runs_paired_with_the_reference() -> None:
    big = runs.Corpus("mixed 1,000,000", [], 1_000_000)
    small = runs.Corpus("mixed 250,000", [], 250_000)
    reference = runs.summarise(big, [(_run(8.0, 80, 1_000_000), _run(2.0, 10))], None)
    # Measured minutes later on a machine running 40% slower: 4.2 s for a quarter of the
    # events. Paired with the reference right after each run, it costs 1.1 times per event.
    row = runs.summarise(small, [(_run(4.2, 50, 250_000), _run(1.0, 10))], None, [1.3, 1.1, 1.0])
    assert runs.reference_row([row, reference]) is reference
    assert runs.relative(reference, reference) == 1.0
    assert runs.relative(row, reference) == 1.1
    lines = hunt_bench.verdicts([reference, row], None)
    said = "furthest 1.10 (mixed 250,000: the median of 3 pairs, 1.00 to 1.30)"
    assert any(line.startswith("met") and said in line for line in lines)


def test_a_failed_run_is_reported_not_outvoted() -> None:
    corpus = runs.Corpus("mixed 1,000", [], 1000)
    good = (_run(1.0, 10), _run(0.5, 10))
    row = runs.summarise(corpus, [good, ({"error": "boom"}, _run(1.0, 10)), good], None)
    assert row.hunt == {"error": "boom"}
    assert runs.times_decode(row) is None
    # A decode-only run that failed leaves no ratio to quote.
    row = runs.summarise(corpus, [good, (_run(1.0, 10), {"timeout": 60.0})], None)
    assert row.decode is None and runs.times_decode(row) is None


def test_the_bench_runs_at_a_tiny_size_and_finds_every_planted_attack(tmp_path: Path) -> None:
    command = [
        sys.executable, str(ROOT / "bench" / "hunt_bench.py"), "--events", "1500",
        "--heavy-events", "2000", "--group", "60", "--alerts", "20", "--repeat", "2",
        "--linear-pairs", "3",
        "--no-build", "--workdir", str(tmp_path),
    ]  # fmt: skip
    # Unbounded in width when piped (converters.console), unless COLUMNS says otherwise.
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "Where the hunt's CPU seconds go" in out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    labels = [row.strip("│").split("│")[0].strip() for row in rows[:3]]
    assert labels == ["mixed 1,500", "heavy group (60)", "20 creations"]
    # Every planted attack found, and the same alerts as the simple way, in every corpus.
    for line in rows[:3]:
        cells = [c.strip() for c in line.strip("│").split("│")]
        found, expected = cells[10].split("/")
        assert found == expected and int(expected) > 0, line
        assert cells[-1] == "yes", line
    assert ">= 100,000 events per CPU second" in out and "x decode-only" in out
    # Linearity: the corpora beside the reference run, each hunted three times with a run of
    # the reference after each (past --repeat 2, a hunt with no decode-only run).
    assert "the median of 3 pairs" in out
