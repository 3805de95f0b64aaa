"""The reference engine: the SQLite backend's queries on an in-memory table of Sigma rows.

The table is what pySigma's SQLite backend expects: one table ``logs``, one TEXT column per
field declared ``COLLATE NOCASE`` (the backend leaves ``collate_nocase`` off and relies on the
column collation for case-insensitive ``=``, as in Zircolite), ``timestamp`` in ISO-8601 for
``julianday``, and the implicit ``rowid`` as the event id of correlation evidence.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from converters.backends.sqlite import DISPOSABLE_FUNCTION
from converters.domains import DomainList
from converters.engine.adapters import ENGINE_COLUMNS, EVENT_ID, TIMESTAMP, SigmaRow, SigmaValue
from converters.sources import SOURCES

TABLE = "logs"


@dataclass(frozen=True)
class Alert:
    """One alert, whatever the rule and the engine.

    ``group``: the correlation's group-by values by Sigma field name (empty for a single-event
    rule), lower-cased as both engines compare them. ``window_start``/``window_end``: ISO-8601
    UTC (the rows' format); a single event's own time for both; for a correlation, SQLite
    reports the backend's sliding window (end = the event that completed it, start = end minus
    the timespan) and EQL the sequence's first and last event. ``event_ids``: the evidence's
    native ids (``dac_event_id``), in time order.
    """

    group: dict[str, str] = field(default_factory=dict)
    window_start: str | None = None
    window_end: str | None = None
    event_ids: tuple[str, ...] = ()


class EngineError(RuntimeError):
    """A query failed on the reference engine."""


class SqliteEngine:
    """``SqliteEngine(domains)``, ``.load(rows)``, ``.run(query) -> list[Alert]``."""

    def __init__(self, domains: DomainList) -> None:
        self.domains = domains
        self.connection = sqlite3.connect(":memory:")
        register_functions(self.connection, domains)
        # Every known field exists from the start, so a rule's column is never missing.
        known = [*ENGINE_COLUMNS, *(name for s in SOURCES for name in s.field_names())]
        self._columns: list[str] = list(dict.fromkeys(known))
        columns = ", ".join(f"{_quote(c)} TEXT COLLATE NOCASE" for c in self._columns)
        self.connection.execute(f"CREATE TABLE {TABLE} ({columns})")
        self._rows: dict[str, SigmaRow] = {}

    def load(self, rows: Iterable[SigmaRow]) -> None:
        """Append rows; columns are added for keys not seen before."""
        rows = list(rows)
        lowered = {c.lower() for c in self._columns}
        for row in rows:
            for key in row:
                if key.lower() not in lowered:
                    self.connection.execute(
                        f"ALTER TABLE {TABLE} ADD COLUMN {_quote(key)} TEXT COLLATE NOCASE"
                    )
                    self._columns.append(key)
                    lowered.add(key.lower())
        for row in rows:
            event_id = row.get(EVENT_ID)
            if not isinstance(event_id, str) or not isinstance(row.get(TIMESTAMP), str):
                raise ValueError(f"a row needs {EVENT_ID} and {TIMESTAMP}: {row!r}")
            keys = list(row)
            self.connection.execute(
                f"INSERT INTO {TABLE} ({', '.join(map(_quote, keys))}) "
                f"VALUES ({', '.join('?' for _ in keys)})",
                [_cell(row[k]) for k in keys],
            )
            self._rows[event_id] = row
        self.connection.commit()

    def event(self, event_id: str) -> SigmaRow:
        """The loaded row behind an alert's evidence id."""
        return self._rows[event_id]

    def run(self, query: str) -> list[Alert]:
        """Single-event query: one Alert per matching row. Correlation query (``WITH ...``):
        one Alert per row the backend's query returns."""
        try:
            cursor = self.connection.execute(query)
            names = [d[0] for d in cursor.description]
            results = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise EngineError(f"{exc}\nquery: {query}") from exc
        if query.lstrip()[:4].upper() == "WITH":
            return [self._correlation_alert(r) for r in results]
        return [
            Alert(
                window_start=str(r[TIMESTAMP]),
                window_end=str(r[TIMESTAMP]),
                event_ids=(str(r[EVENT_ID]),),
            )
            for r in results
        ]

    def _correlation_alert(self, result: Mapping[str, object]) -> Alert:
        group = json.loads(str(result["group_keys"]))
        evidence = json.loads(str(result["event_ids"]))
        return Alert(
            group={str(k): str(v) for k, v in group.items()},
            window_start=_iso(result["window_start"]),
            window_end=_iso(result["window_end"]),
            event_ids=self._native_ids(evidence),
        )

    def _native_ids(self, evidence: list[str]) -> tuple[str, ...]:
        """The backend names evidence "<source table index>:<rowid>" (one table here) and
        sorts it as text; the alert lists native ids in time order, like a sequence."""
        rowids = [int(e.split(":", 1)[1]) for e in evidence]
        found = self.connection.execute(
            f"SELECT rowid, {_quote(EVENT_ID)} FROM {TABLE} "
            "WHERE rowid IN (SELECT value FROM json_each(?)) "
            f"ORDER BY {_quote(TIMESTAMP)}, rowid",
            (json.dumps(rowids),),
        ).fetchall()
        if len(found) != len(set(rowids)):
            raise EngineError(f"evidence {evidence!r} names rows that do not exist")
        return tuple(str(event_id) for _rowid, event_id in found)


def register_functions(connection: sqlite3.Connection, domains: DomainList) -> None:
    """The SQL functions the backend's queries call (shared with converters.engine.bulk)."""

    def disposable_domain(value: object) -> str | None:
        if not isinstance(value, str):
            return None
        decoded: object = value
        if value.startswith("["):
            # Multi-valued fields are stored as JSON arrays.
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = value
        return domains.match_addresses(decoded)

    connection.create_function(DISPOSABLE_FUNCTION, 1, disposable_domain, deterministic=True)
    connection.create_function("REGEXP", 2, _regexp, deterministic=True)


def _cell(value: SigmaValue) -> str | None:
    if isinstance(value, list):
        return json.dumps(value)
    return value


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _iso(value: object) -> str | None:
    if value is None:
        return None
    return iso_from_millis(round(float(str(value)) * 1000))


def iso_from_millis(millis: int) -> str:
    """Epoch milliseconds -> the rows' timestamp format (integer math: no float drift)."""
    seconds, rest = divmod(millis, 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{rest:03d}"


@lru_cache(maxsize=256)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _regexp(regex: str | None, value: object) -> bool | None:
    # SQLite calls REGEXP(pattern, value) for "value REGEXP pattern"; NULL stays NULL.
    if regex is None or value is None:
        return None
    return _pattern(regex).search(str(value)) is not None
