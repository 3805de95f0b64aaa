"""Repeated runs of the hunt benchmark summarised (bench/hunt_bench.py): a corpus, its
runs, and the figures quoted from them, each drift-free where a pair allows it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# One process's measurement (bench/measure.py): cpu, peak_mb, events...; or error, timeout.
Measured = dict[str, Any]


@dataclass
class Corpus:
    label: str
    files: list[Path]
    events: int
    planted: dict[str, list[list[str]]] = field(default_factory=dict)
    linear: bool = True  # counted in the linearity goal


@dataclass
class Row:
    corpus: Corpus
    hunt: Measured  # the run of median CPU time (its peak: the highest of the runs)
    decode: Measured | None  # likewise
    simple: Measured | None  # None: not run; {"timeout": s}: ran out of time
    # Each pair's hunt over decode-only CPU time, the pairs run in turn (hunt, decode, ...):
    # pairing keeps the ratio when the shared machine's speed drifts between runs.
    ratios: list[float] = field(default_factory=list)
    spread: tuple[float, float] | None = None  # the hunt's fastest and slowest CPU time
    # Each of its hunts' CPU time per event over that of a hunt of the reference corpus run
    # right after it: the linearity goal, without the drift between corpora measured minutes
    # apart. Empty for the reference itself and for a corpus outside the goal.
    against: list[float] = field(default_factory=list)


def summarise(
    corpus: Corpus,
    pairs: list[tuple[Measured, Measured]],
    simple: Measured | None,
    against: list[float] | None = None,
) -> Row:
    """The repeated runs of a corpus (each hunt with its decode-only run) as one row: the
    median run, the highest peak, the pairs' ratios; ``against``: its paired costs per event
    (Row.against). A run that failed is the row's figure (its reason shown), never outvoted
    by the others."""
    hunts = [h for h, _ in pairs]
    decodes = [d for _, d in pairs]
    failed = next((h for h in hunts if "cpu" not in h), None)
    if failed is not None:
        return Row(corpus, failed, None, simple, against=list(against or []))
    hunt = dict(median_run(hunts))
    hunt["peak_mb"] = max(h["peak_mb"] for h in hunts)
    if any("cpu" not in d for d in decodes):
        decode, ratios = None, []
    else:
        decode = dict(median_run(decodes))
        ratios = [h["cpu"] / d["cpu"] for h, d in pairs]
    times = [h["cpu"] for h in hunts]
    return Row(corpus, hunt, decode, simple, ratios, (min(times), max(times)), list(against or []))


def median_run(runs: list[Measured]) -> Measured:
    """The run of median CPU time (the lower middle one of an even count)."""
    return sorted(runs, key=lambda run: float(run["cpu"]))[(len(runs) - 1) // 2]


def times_decode(row: Row) -> float | None:
    """The hunt's CPU time over decode-only's: the median of the pairs' ratios."""
    return statistics.median(row.ratios) if row.ratios else None


def per_event(measured: Measured) -> float:
    """CPU seconds per event of one run."""
    return float(measured["cpu"]) / max(1, int(measured["events"]))


def relative(row: Row, reference: Row | None) -> float | None:
    """The row's cost per event over the reference's: the median of its paired runs."""
    if reference is None or "cpu" not in row.hunt:
        return None
    if row is reference:
        return 1.0
    return statistics.median(row.against) if row.against else None


def reference_corpus(made: list[Corpus]) -> Corpus | None:
    """The 1M mixed corpus, else the largest mixed one: the per-event cost others are held to."""
    mixed = [c for c in made if c.label.startswith("mixed")]
    exact = [c for c in mixed if c.events == 1_000_000]
    return (exact or sorted(mixed, key=lambda c: c.events))[-1] if mixed else None


def reference_row(rows: list[Row]) -> Row | None:
    """The reference corpus's row, where its hunt gave a figure."""
    corpus = reference_corpus([r.corpus for r in rows])
    found = [r for r in rows if r.corpus is corpus and "cpu" in r.hunt]
    return found[0] if found else None
