"""The hunt: log files -> the reference engine -> every selected rule's alerts with evidence.

The queries are the build's (``compile_target(ruleset, "sqlite")``), run by the SQLite
reference engine; only which records reach its table is decided here (converters.hunt
.prefilter). Every record is read, inspected and counted whether or not it is loaded.
"""

from __future__ import annotations

import gc
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from converters.compile import compile_target
from converters.domains import DomainList
from converters.engine.adapters import ENGINE_COLUMNS, keep_of
from converters.engine.bulk import BulkEngine, EvidenceRow, Hit
from converters.engine.cells import cells_of
from converters.engine.rowtools import CellsOf, row_time
from converters.hunt.holdback import HeldBack
from converters.hunt.limits import DEFAULT_LIMITS, Limits
from converters.hunt.playbook import hunt_entities
from converters.hunt.prefilter import LoadPlan, plan_loading
from converters.hunt.readers import FileFormat, InputError, open_log, read_failure
from converters.incidents import incident_of
from converters.loading.rules import RuleDoc, RuleSet
from converters.sources import SOURCES
from converters.valuelists import ValueList

MAX_PROBLEMS = 5  # malformed records listed per file; all of them are counted
_BATCH = 20_000
_TICK = 4096


@dataclass
class FileReport:
    path: Path
    format: str
    records: int = 0  # records read: parsed + skipped
    parsed: int = 0
    skipped: int = 0
    events: int = 0  # rows: a Reports API activity can hold several events
    loaded: int = 0  # rows put into the engine's table
    sources: Counter[str] = field(default_factory=Counter)  # events per data source
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first malformed ones
    repaired: int = 0  # rows whose text held a lone surrogate, stored as U+FFFD (BulkEngine)
    error: str | None = None  # the file could not be read to its end


@dataclass(frozen=True)
class HuntAlert:
    doc: RuleDoc
    hit: Hit
    evidence: tuple[EvidenceRow, ...]


@dataclass
class HuntResult:
    files: list[FileReport]
    alerts: list[HuntAlert]
    rules: list[RuleDoc]  # the rules that ran
    plan: LoadPlan
    rows: int  # rows in the table
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)


class Hunter:
    """Rules compiled once; ``run(files)`` hunts through one set of log files."""

    def __init__(
        self,
        ruleset: RuleSet,
        domains: DomainList,
        selected: Sequence[RuleDoc],
        lists: dict[str, ValueList] | None = None,
    ) -> None:
        """``lists``: the value lists to hunt with (default: the repository's); a rule an
        empty list voids (the threat-intelligence rules, without a list) is not run."""
        self.ruleset = ruleset
        self.domains = domains
        compiled = compile_target(ruleset, "sqlite", lists)
        self.skipped = {
            doc.id: compiled.skipped[doc.id] for doc in selected if doc.id in compiled.skipped
        }
        self.selected = [doc for doc in selected if doc.id not in self.skipped]
        self.queries = compiled.by_rule
        self.plan = plan_loading(ruleset, self.selected, self.queries)
        # The fields a selected rule's query or alert reads (a name in the SQL's text is
        # enough: one read for nothing costs a cell, one missed would lose a match).
        sql = " ".join(self.queries[doc.id] for doc in self.selected).lower()
        shown = {f.lower() for doc in self.selected for f in self.entity_fields(doc)}
        self.read = {
            f.lower() for s in SOURCES for f in s.field_names() if f.lower() in sql
        } | shown

    def entity_fields(self, doc: RuleDoc) -> list[str]:
        """The Sigma fields whose values an alert of ``doc`` shows."""
        fields = [f for entity in hunt_entities(self.ruleset, doc) for f in entity.fields]
        # and the values that group its alerts into incidents (converters/hunt/episodes.py)
        fields += incident_of(doc, self.ruleset).fields
        return list(dict.fromkeys(fields))

    def run(
        self,
        files: Sequence[tuple[Path, FileFormat]],
        progress: Callable[[int, int], None] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> HuntResult:
        """``progress(file index, bytes of that file consumed)`` is called now and then;
        records over ``limits`` are skipped."""
        started = time.perf_counter()
        # A table of the columns read: a narrower row is cheaper to insert and to index.
        fields = (f for s in SOURCES for f in s.field_names() if f.lower() in self.read)
        engine = BulkEngine(self.domains, fields)
        loader = _Loader(engine, self.plan, progress, limits)
        reports = [loader.load(n, path, fmt) for n, (path, fmt) in enumerate(files)]
        for n, rows in loader.held.release().items():
            reports[n].loaded += rows
        for n, rows in engine.repaired.items():
            reports[n].repaired += rows
        if loader.latest is not None and loader.earliest is not None:
            # Queries measure the newest and the oldest time read (a window that closes, a
            # history that must be long enough), which the prefiltered table may not hold.
            engine.observe(row_time(loader.earliest))
            engine.observe(row_time(loader.latest))
        engine.index(["dac_source", *self.plan.filtered_fields()])
        loaded = time.perf_counter()
        alerts = []
        for doc in self.selected:
            hits = engine.run(self.queries[doc.id])
            # The rule's evidence in one query per batch of rows, not one per alert.
            evidence = engine.evidence_of([hit.rowids for hit in hits], self.entity_fields(doc))
            alerts += [HuntAlert(doc, h, tuple(e)) for h, e in zip(hits, evidence, strict=True)]
        alerts.sort(key=lambda a: (a.hit.window_end or "", a.doc.name, a.hit.rowids))
        seconds = {"read": loaded - started, "rules": time.perf_counter() - loaded}
        return HuntResult(reports, alerts, self.selected, self.plan, engine.rows, seconds)


class _Loader:
    """Reads files into the engine; the per-record loop is the hunt's hot path."""

    def __init__(
        self,
        engine: BulkEngine,
        plan: LoadPlan,
        progress: Callable[[int, int], None] | None,
        limits: Limits,
    ) -> None:
        self.engine = engine
        self.plan = plan
        self.rowwise = plan.rowwise()
        self.progress = progress
        self.limits = limits
        self.latest: datetime | None = None
        self.earliest: datetime | None = None
        self._columns: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
        self.held = HeldBack(engine, plan, lambda source: self.columns(source)[0])
        # After the held rows' columns: tests of a rowwise source read its cells.
        self.tests = plan.tests(lambda source: self.columns(source)[0])

    def columns(self, source: str) -> tuple[tuple[str, ...], frozenset[str]]:
        """The source's columns loaded, and the row keys to build for them."""
        found = self._columns.get(source)
        if found is None:
            # The table holds only the columns a rule reads (Hunter.run): known() keeps those.
            declared = [f for s in SOURCES if s.name == source for f in s.field_names()]
            columns = self.engine.known([*ENGINE_COLUMNS, *declared])
            found = columns, keep_of(columns)
            self._columns[source] = found
        return found

    def load(self, index: int, path: Path, fmt: FileFormat) -> FileReport:
        report = FileReport(path, fmt.name)
        try:
            stream, position = open_log(path)
        except InputError as exc:
            report.error = str(exc)
            return report
        enabled = gc.isenabled()
        # Parsed records die young; the cyclic collector only slows the loop down.
        gc.disable()
        try:
            with stream:
                self._read(index, fmt, stream, position, report)
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            report.error = f"stopped reading after record {report.records}: {read_failure(exc)}"
        except InputError as exc:
            report.error = str(exc)
        finally:
            if enabled:
                gc.enable()
        if report.error is None and report.parsed == 0 and fmt.name != "empty":
            # A file that held something, none of it a record: never "0 records" and done.
            first = (
                f"; first: line {report.problems[0][0]}: {report.problems[0][1]}"
                if (report.problems)
                else ""
            )
            report.error = (
                f"no {fmt.record.title} record recognised ({report.records} read, "
                f"{report.skipped} skipped){first}"
            )
        return report

    def _read(
        self,
        index: int,
        fmt: FileFormat,
        stream: IO[bytes],
        position: Callable[[], int],
        report: FileReport,
    ) -> None:
        inspect, canonical = fmt.record.inspect, fmt.record.canonical
        builders: dict[str, tuple[tuple[str, ...], CellsOf]] = {}  # by source, this format's

        def builder(source: str) -> tuple[tuple[str, ...], CellsOf]:
            columns, keep = self.columns(source)
            builders[source] = columns, cells_of(fmt.record, source, columns, keep)
            return builders[source]

        tests, everything, tick = self.tests, self.plan.everything, self.progress
        rowwise = self.rowwise
        held = self.held if self.held else None
        batch: list[tuple[tuple[str, ...], tuple[object, ...]]] = []
        events: Counter[str] = Counter()  # by source, counted per record; summed per file
        latest, earliest = self.latest, self.earliest
        records = parsed = 0
        try:
            for line, record in fmt.read(stream, self.limits):
                records += 1
                if isinstance(record, str):
                    self._skip(report, line, record)
                    continue
                try:
                    record = canonical(record)
                    inspected = inspect(record)
                    source, count, when = inspected
                    test = tests.get(source)
                    if source in rowwise:
                        # Built first, then each row loaded, held back or dropped.
                        columns, cells_for = builders.get(source) or builder(source)
                        for cells in cells_for(record, inspected, index, line):
                            if test is not None and test(cells):
                                batch.append((columns, cells))
                            elif held is not None and (joins := held.admits(source, cells)):
                                held.hold(columns, joins, cells)
                    elif everything or (test is not None and test(record)):
                        columns, cells_for = builders.get(source) or builder(source)
                        for cells in cells_for(record, inspected, index, line):
                            batch.append((columns, cells))
                    elif held is not None and (joins := held.admits(source, record)):
                        columns, cells_for = builders.get(source) or builder(source)
                        for cells in cells_for(record, inspected, index, line):
                            held.hold(columns, joins, cells)
                # Any failure inside one record (a wrong type deep in it) skips it only.
                except Exception as exc:
                    self._skip(report, line, str(exc) or type(exc).__name__)
                    continue
                parsed += 1
                events[source] += count
                if latest is None or when > latest:
                    latest = when
                if earliest is None or when < earliest:
                    earliest = when
                if len(batch) >= _BATCH:
                    report.loaded += self._flush(batch)
                if tick is not None and not records % _TICK:
                    tick(index, position())
        finally:
            # Also when reading stops half-way: what was read is counted.
            report.records, report.parsed = records, parsed
            report.sources.update(events)
            report.events = sum(events.values())
            self.latest, self.earliest = latest, earliest
        report.loaded += self._flush(batch)
        if tick is not None:
            tick(index, position())

    def _flush(self, batch: list[tuple[tuple[str, ...], tuple[object, ...]]]) -> int:
        by_columns: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
        for columns, cells in batch:
            by_columns.setdefault(columns, []).append(cells)
        for columns, values in by_columns.items():
            self.engine.insert(columns, values)
        batch.clear()
        return sum(len(v) for v in by_columns.values())

    @staticmethod
    def _skip(report: FileReport, line: int, reason: str) -> None:
        report.skipped += 1
        if len(report.problems) < MAX_PROBLEMS:
            report.problems.append((line, reason))
