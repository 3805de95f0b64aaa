"""The simple way, for comparison (as Zircolite does it): every record flattened into one
wide SQLite table, a column per field seen, then each rule's pySigma SQLite query run on it.

Same rules, same queries, same SQL functions, same rows for the rule fields (the engine's
adapters) as the hunt; what differs is that nothing is skipped: every record is flattened and
inserted, every field becomes a column, and each query runs whole as pySigma wrote it. Made
fair: records decoded with orjson (as fast as the hunt's msgspec), and the columns the rules
filter on indexed after loading (the data source, and each rule's necessary-condition fields).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from converters.compile import compile_target
from converters.domains import DomainList
from converters.engine.adapters import ENGINE_COLUMNS, EVENT_ID, SigmaRow
from converters.engine.rowtools import flatten
from converters.engine.sqlite_engine import TABLE, _cell, _quote, register_functions
from converters.hunt.prefilter import plan_loading
from converters.hunt.readers import sniff
from converters.hunt.selection import select_rules
from converters.loading.rules import RuleSet
from converters.sources import SOURCES

_BATCH = 20_000


def _rows(paths: list[Path]) -> Iterator[SigmaRow]:
    for path in paths:
        fmt = sniff(path)
        with path.open("rb") as stream:
            for raw in stream:
                record: dict[str, Any] = orjson.loads(raw)
                for row in fmt.record.rows(record):
                    wide = flatten(record)
                    wide.update(row)
                    yield wide


class WideTable:
    def __init__(self, domains: DomainList) -> None:
        self.connection = sqlite3.connect(":memory:")
        register_functions(self.connection, domains)
        # Every rule field exists from the start, as in the engine: a rule on a source the
        # corpus lacks reads empty columns instead of failing.
        known = [*ENGINE_COLUMNS, *(name for s in SOURCES for name in s.field_names())]
        self.columns: list[str] = list(dict.fromkeys(known))
        self._lower = {c.lower() for c in self.columns}
        spec = ", ".join(f"{_quote(c)} TEXT COLLATE NOCASE" for c in self.columns)
        self.connection.execute(f"CREATE TABLE {TABLE} ({spec})")

    def insert(self, rows: list[SigmaRow]) -> None:
        for row in rows:
            for key in row:
                if key.lower() not in self._lower:
                    self.connection.execute(
                        f"ALTER TABLE {TABLE} ADD COLUMN {_quote(key)} TEXT COLLATE NOCASE"
                    )
                    self.columns.append(key)
                    self._lower.add(key.lower())
        names = ", ".join(map(_quote, self.columns))
        marks = ", ".join("?" * len(self.columns))
        self.connection.executemany(
            f"INSERT INTO {TABLE} ({names}) VALUES ({marks})",
            [tuple(_cell(row.get(c)) for c in self.columns) for row in rows],
        )

    def index(self, columns: list[str]) -> None:
        lower = {c.lower(): c for c in self.columns}
        for n, name in enumerate(c for c in columns if c.lower() in lower):
            self.connection.execute(f"CREATE INDEX i{n} ON {TABLE} ({_quote(lower[name.lower()])})")

    def native_ids(self, rowids: list[int]) -> list[str]:
        found = self.connection.execute(
            f"SELECT {_quote(EVENT_ID)} FROM {TABLE} WHERE rowid IN "
            "(SELECT value FROM json_each(?))",
            (json.dumps(rowids),),
        )
        return sorted(str(r[0]) for r in found)


def run_baseline(
    ruleset: RuleSet, domains: DomainList, paths: list[Path]
) -> tuple[int, list[tuple[str, list[str]]]]:
    """(events, [(rule name, sorted evidence ids)])"""
    queries = compile_target(ruleset, "sqlite").by_rule
    table = WideTable(domains)
    batch: list[SigmaRow] = []
    events = 0
    for row in _rows(paths):
        batch.append(row)
        events += 1
        if len(batch) >= _BATCH:
            table.insert(batch)
            batch.clear()
    table.insert(batch)
    # The rules the hunt runs: building blocks only when asked, a rule its target skips
    # (an empty threat-intelligence list) not at all.
    selected = [d for d in select_rules(ruleset) if d.id in queries]
    table.index(["dac_source", *plan_loading(ruleset, selected, queries).filtered_fields()])
    alerts: list[tuple[str, list[str]]] = []
    for doc in selected:
        cursor = table.connection.execute(queries[doc.id])
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            result = dict(zip(names, values, strict=True))
            if doc.is_correlation:
                evidence = json.loads(str(result["event_ids"]))
                rowids = [int(e.split(":", 1)[1]) for e in evidence]
                alerts.append((doc.name, table.native_ids(rowids)))
            else:
                alerts.append((doc.name, [str(result[EVENT_ID])]))
    return events, alerts
