"""The reference engine for large inputs: the same table, SQL functions and queries as
``SqliteEngine``, loaded in bulk, with each row's file and line kept for the evidence.

Differences from ``SqliteEngine`` that no query can see: the table holds only the columns of
declared fields (rules can name no other, the strict pipeline refuses them), rows arrive as
tuples through ``executemany``, the rows are not kept in Python, and an integer primary key
``dac_row`` (SQLite's rowid, which the backend's correlation evidence names) comes back from
``SELECT *`` so that single-event alerts name their row too.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from converters.domains import DomainList
from converters.engine.adapters import ENGINE_COLUMNS, EVENT_ID, TIMESTAMP, SigmaRow, SigmaValue
from converters.engine.sqlite_engine import (
    TABLE,
    EngineError,
    _cell,
    _iso,
    _quote,
    register_functions,
)
from converters.engine.stepwise import (
    create_index,
    drop_steps,
    lookup_indexes,
    run_stepwise,
    scoped_index,
)
from converters.engine.sweep import Window, counted, windows

ROW_ID = "dac_row"
FILE = "dac_file"
LINE = "dac_line"
HELD = "dac_hold.held"
_BATCH = 10_000  # rowids per evidence query


@dataclass(frozen=True)
class Hit:
    """One alert as rows: the group-by values (correlations), the window, the evidence rows
    (SQLite rowids) in time order."""

    rowids: tuple[int, ...]
    window_start: str | None
    window_end: str | None
    group: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EvidenceRow:
    rowid: int
    event_id: str | None
    timestamp: str
    file: int
    line: int
    values: dict[str, SigmaValue]


class BulkEngine:
    """``BulkEngine(domains, fields)``, ``.insert(columns, tuples)``, ``.run(query)``."""

    def __init__(self, domains: DomainList, fields: Iterable[str]) -> None:
        self.connection = sqlite3.connect(":memory:")
        register_functions(self.connection, domains)
        # Sorting correlation windows must not spill to a temporary file.
        self.connection.execute("PRAGMA temp_store = MEMORY")
        names = [*ENGINE_COLUMNS, *fields]
        # SQLite column names ignore case: the first spelling names the column.
        self._canonical: dict[str, str] = {}
        for name in names:
            self._canonical.setdefault(name.lower(), name)
        self.columns = list(self._canonical.values())
        self._text = ", ".join(f"{_quote(c)} TEXT COLLATE NOCASE" for c in self.columns)
        self.connection.execute(
            f"CREATE TABLE {TABLE} ({ROW_ID} INTEGER PRIMARY KEY, {self._text}, "
            f"{FILE} INTEGER, {LINE} INTEGER)"
        )
        self._held: tuple[str, ...] | None = None  # the held table's columns, once made
        self._hold_dir: tempfile.TemporaryDirectory[str] | None = None
        self._statements: dict[tuple[str, ...], str] = {}
        self._lookups: dict[tuple[str, ...], str] = {}
        self.rows = 0
        # Rows per file index whose text held a lone surrogate, stored with U+FFFD instead.
        self.repaired: Counter[int] = Counter()

    def known(self, names: Iterable[str]) -> tuple[str, ...]:
        """The table's columns among ``names``, as the table spells them."""
        return tuple(dict.fromkeys(self._canonical[n.lower()] for n in names if self.has(n)))

    def has(self, name: str) -> bool:
        return name.lower() in self._canonical

    def insert(self, columns: tuple[str, ...], values: Iterable[Sequence[object]]) -> None:
        """Rows as tuples: the values of ``columns``, then file index and line."""
        statement = self._statements.get(columns)
        if statement is None:
            names = ", ".join(map(_quote, (*columns, FILE, LINE)))
            marks = ", ".join("?" * (len(columns) + 2))
            statement = f"INSERT INTO {TABLE} ({names}) VALUES ({marks})"
            self._statements[columns] = statement
        before = self.connection.total_changes
        self._executemany(statement, values, -2)
        self.rows += self.connection.total_changes - before

    def hold(
        self, columns: tuple[str, ...], values: Iterable[Sequence[object]], held: Sequence[str]
    ) -> None:
        """Rows held back (converters.hunt.holdback): ``insert``'s tuples with a first value,
        the row's place in the order held (its rowid there); in a table of their own whose
        columns are ``held`` (the same at every call: those of every source held; a narrow
        row is cheaper to insert)."""
        if self._held is None:
            self._held = self.known(held)
            text = ", ".join(f"{_quote(c)} TEXT COLLATE NOCASE" for c in self._held)
            # A database file of its own, read back through a bounded cache: millions of
            # held sign-ins and sent messages would otherwise stay in memory (temp_store is
            # MEMORY, for the correlations' sorts) until the end.
            self._hold_dir = tempfile.TemporaryDirectory(prefix="dac-hunt-held-")
            path = Path(self._hold_dir.name) / "held.sqlite"
            self.connection.commit()  # attached, and set up, outside a transaction only
            self.connection.execute("ATTACH DATABASE ? AS dac_hold", (str(path),))
            for pragma in ("cache_size = -65536", "journal_mode = OFF", "synchronous = OFF"):
                self.connection.execute(f"PRAGMA dac_hold.{pragma}")
            self.connection.execute(f"CREATE TABLE {HELD} ({text}, {FILE} INTEGER, {LINE} INTEGER)")
        names = ", ".join(["rowid", *map(_quote, (*columns, FILE, LINE))])
        marks = ", ".join("?" * (len(columns) + 3))
        self._executemany(f"INSERT INTO {HELD} ({names}) VALUES ({marks})", values, -2)

    def release(
        self, more: Sequence[tuple[int, tuple[str, ...], tuple[object, ...]]] = ()
    ) -> dict[int, int]:
        """Move every held row into the table, with ``more`` (rows held elsewhere: their place
        in the order held, their columns, ``insert``'s tuple), all in the order held. Rows
        moved per file."""
        if self._held is None and not more:
            return {}
        (last,) = self.connection.execute(
            f"SELECT COALESCE(MAX({ROW_ID}), 0) FROM {TABLE}"
        ).fetchone()
        if self._held is not None:
            names = ", ".join(map(_quote, (*self._held, FILE, LINE)))
            chosen = f"FROM {HELD} AS h ORDER BY h.rowid"
            if more:
                found = self.connection.execute(f"SELECT h.rowid, {names} {chosen}")
                held = self._held
                more = sorted([*more, *((row[0], held, row[1:]) for row in found)])
            else:
                self.connection.execute(f"INSERT INTO {TABLE} ({names}) SELECT {names} {chosen}")
            self.connection.execute(f"DROP TABLE {HELD}")
            self.connection.commit()  # a database is detached outside a transaction only
            self.connection.execute("DETACH DATABASE dac_hold")
            if self._hold_dir is not None:
                self._hold_dir.cleanup()
                self._hold_dir = None
            self._held = None
        else:
            more = sorted(more)
        # In the order held: a run of rows of the same columns at a time.
        run: list[tuple[object, ...]] = []
        for at, (_seq, columns, cells) in enumerate(more):
            run.append(cells)
            if at + 1 == len(more) or more[at + 1][1] != columns:
                names = ", ".join(map(_quote, (*columns, FILE, LINE)))
                marks = ", ".join("?" * (len(columns) + 2))
                self._executemany(f"INSERT INTO {TABLE} ({names}) VALUES ({marks})", run, -2)
                run = []
        # Counted over the rows just added (a range of the primary key), not the held ones.
        moved: dict[int, int] = dict(
            self.connection.execute(
                f"SELECT {FILE}, COUNT(*) FROM {TABLE} WHERE {ROW_ID} > ? GROUP BY {FILE}",
                (last,),
            )
        )
        self.rows += sum(moved.values())
        return moved

    def _executemany(self, statement: str, values: Iterable[Sequence[object]], file: int) -> None:
        """``executemany`` of an INSERT; a row SQLite cannot take as text (a lone surrogate,
        the decoding of a JSON escape such as \\ud800 that pairs with nothing) is stored with
        U+FFFD in its place and counted in ``repaired`` by its file (cell ``file``): the
        record still meets the rules, and the hunt says what it changed. No cost until then."""
        rows = values if isinstance(values, list) else list(values)
        while rows:
            before = self.connection.total_changes
            try:
                self.connection.executemany(statement, rows)
                return
            except UnicodeEncodeError:
                done = self.connection.total_changes - before  # the rows before the bad one
                bad = rows[done]
                self.repaired[int(str(bad[file]))] += 1
                rows = [tuple(map(storable, bad)), *rows[done + 1 :]]

    @staticmethod
    def cells(row: SigmaRow, columns: tuple[str, ...], file: int, line: int) -> tuple[object, ...]:
        # Per row loaded: a comprehension, strings and NULLs as they are (most cells).
        cells: list[object] = [
            v if v is None or type(v) is str else _cell(v) for v in map(row.get, columns)
        ]
        cells += (file, line)
        return tuple(cells)

    def observe(self, timestamp: str) -> None:
        """A row of no data source at a time read (the newest, the oldest): correlations
        that wait for a window to close measure the newest row, history rules the oldest,
        which a prefiltered table might not hold. No rule matches it (every query is scoped
        by data source)."""
        self.insert((TIMESTAMP,), [(timestamp, -1, 0)])
        self.rows -= 1  # not an event

    def index(self, columns: Iterable[str]) -> None:
        """Index the columns rules filter on (after loading: cheaper than during). Only the
        rows with a value: most fields are one source's, and a rule's test of a field (=,
        IN, LIKE) implies a value, so SQLite reads such a partial index for it."""
        for n, name in enumerate(self.known(columns)):
            column = _quote(name)
            self.connection.execute(
                f"CREATE INDEX IF NOT EXISTS dac_i{n} ON {TABLE} ({column}) "
                f"WHERE {column} IS NOT NULL"
            )
        self.connection.commit()

    def run(self, query: str) -> list[Hit]:
        """The query's alerts; one rule's event count swept in Python (converters.engine
        .sweep), other correlations run a step at a time (converters.engine.stepwise),
        entity lookups over an index of their own."""
        made: list[str] = []
        swept = counted(query)
        if swept is not None:
            # One rule's event count: its windows swept in Python (converters.engine.sweep).
            try:
                return self._hits(windows(self.connection, swept), swept.key)
            except sqlite3.Error as exc:
                raise EngineError(f"{exc}\nquery: {query}") from exc
        try:
            for columns, where in lookup_indexes(query):
                # An index of only the rows a lookup reads (its source, its rule) is built
                # at a fraction of the cost of one of every row.
                known = self.known(columns)
                if (
                    where is None
                    or len(known) < len(columns)
                    or not scoped_index(self.connection, known, where)
                ):
                    self._lookup_index(columns)
            cursor, made = run_stepwise(self.connection, query)
            names = [d[0] for d in cursor.description]
            results = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise EngineError(f"{exc}\nquery: {query}") from exc
        finally:
            drop_steps(self.connection, made)
        if query.lstrip()[:4].upper() != "WITH":
            if results and ROW_ID not in results[0]:
                raise EngineError(f"a single-event query must select *: {query}")
            return [
                Hit((int(str(r[ROW_ID])),), str(r[TIMESTAMP]), str(r[TIMESTAMP])) for r in results
            ]
        return self._correlation_hits(results)

    def _lookup_index(self, columns: tuple[str, ...]) -> None:
        known = self.known(columns)
        if len(known) == len(columns) and known not in self._lookups:
            self._lookups[known] = f"dac_l{len(self._lookups)}"
            create_index(self.connection, self._lookups[known], known)

    def _correlation_hits(self, results: list[dict[str, object]]) -> list[Hit]:
        # The backend names evidence "<source table index>:<rowid>"; one table here.
        evidence = [
            [int(e.split(":", 1)[1]) for e in json.loads(str(r["event_ids"]))] for r in results
        ]
        return self._ordered(
            (
                rowids,
                _iso(result["window_start"]),
                _iso(result["window_end"]),
                {str(k): str(v) for k, v in json.loads(str(result["group_keys"])).items()},
            )
            for result, rowids in zip(results, evidence, strict=True)
        )

    def _hits(self, found: list[Window], key: str) -> list[Hit]:
        return self._ordered(
            (rowids, _iso(start), _iso(end), {key: group}) for rowids, start, end, group in found
        )

    def _ordered(
        self, alerts: Iterable[tuple[list[int], str | None, str | None, dict[str, str]]]
    ) -> list[Hit]:
        """Each alert's rows in time order, their times read in one query for all alerts (a
        query per alert costs more than the correlation at 100,000 alerts)."""
        alerts = list(alerts)
        times = {
            rowid: (str(values[0]), rowid)
            for rowid, *values in self._rows_of({i for a in alerts for i in a[0]}, [TIMESTAMP])
        }
        hits = []
        for rowids, start, end, group in alerts:
            if any(rowid not in times for rowid in rowids):
                raise EngineError(f"evidence {rowids!r} names rows that do not exist")
            hits.append(Hit(tuple(sorted(set(rowids), key=times.__getitem__)), start, end, group))
        return hits

    def _rows_of(self, rowids: Iterable[int], columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """(rowid, the values of ``columns``) of the rows named, a batch at a time."""
        wanted = sorted(rowids)
        selected = ", ".join(["rowid", *map(_quote, columns)])
        for start in range(0, len(wanted), _BATCH):
            yield from self.connection.execute(
                f"SELECT {selected} FROM {TABLE} WHERE rowid IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted[start : start + _BATCH]),),
            )

    def evidence(self, rowids: Sequence[int], fields: Iterable[str]) -> list[EvidenceRow]:
        """The evidence rows with the values of ``fields``, in the order of ``rowids``."""
        return self.evidence_of([rowids], fields)[0]

    def evidence_of(
        self, alerts: Sequence[Sequence[int]], fields: Iterable[str]
    ) -> list[list[EvidenceRow]]:
        """Each alert's evidence rows (``evidence`` for many alerts, in one query per batch
        of rows); a row shared by alerts is read and built once."""
        wanted = self.known(fields)
        found: dict[int, EvidenceRow] = {}
        needed = {rowid for rowids in alerts for rowid in rowids}
        for rowid, event_id, timestamp, file, line, *values in self._rows_of(
            needed, (EVENT_ID, TIMESTAMP, FILE, LINE, *wanted)
        ):
            found[rowid] = EvidenceRow(
                rowid,
                None if event_id is None else str(event_id),
                str(timestamp),
                int(file),
                int(line),
                {name: _value(v) for name, v in zip(wanted, values, strict=True)},
            )
        return [[found[rowid] for rowid in rowids] for rowids in alerts]


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(cell: object) -> object:
    """A cell as SQLite text can hold it: surrogates (lone, in a Python str) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", cell) if isinstance(cell, str) else cell


def _value(cell: object) -> SigmaValue:
    """A stored cell back as a Sigma value (multivalue fields are stored as JSON arrays)."""
    if cell is None:
        return None
    text = str(cell)
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        if isinstance(decoded, list):
            return [str(v) for v in decoded]
    return text
