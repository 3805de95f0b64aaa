"""The backend's correlation queries run a step at a time, so that their cost grows with the
events of a group, not with its square.

pySigma's SQLite backend writes a correlation as one ``WITH`` query whose window steps look
up, for each anchor event, the events of its group inside its window: ``m.g0 = a.g0 AND m.ts
BETWEEN a.start AND a.end`` over a CTE of matches. SQLite can give such a CTE only an
automatic index on the equality (``g0``), so each lookup reads the whole group: one
provisioning account with 10,000 creations costs 10,000 x 10,000 steps. Here each CTE of
matches becomes a temporary table with an index on ``(g0, ts)`` before the rest of the query
runs over it: the lookup reads the window only. The query's text and its result are the same
(``SqliteEngine``, the reference, runs the single query; the tests compare the two): the
materialised steps are the same SELECTs over the same rows, their columns computed values
without a declared collation or affinity, as in the CTE. A query this module cannot split
runs whole.

Also here: the history and absence queries of converters.backends.new_terms and .absence
look up earlier events of the same entity with ``h."field" IS e."field"``; an index on those
fields and the timestamp makes that lookup read the entity's events only.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

from converters.engine.sqlite_engine import TABLE, _quote

# CTEs whose window lookups (g0 equal, ts in a range) read them: these are materialised.
_MATERIALISED = ("_matches", "_events")
_CTE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+AS\s*\(", re.IGNORECASE)
_COMMA = re.compile(r"\s*,")
_RAW = re.compile(r"_raw[0-9]+$")
_FLAGS = re.compile(r"\bAS (b[0-9]+)\b")
_HORIZON = re.compile(r"_horizon\b")
_CONTEXT = "_context"
# A flag of the raw step: one referenced rule's condition, which the SQLite pipeline scopes by
# data source (``dac_source LIKE 'gws\_admin' ESCAPE '\'`` or ``dac_source='proxy'``).
_FLAG = re.compile(r"COALESCE\((.*?)\) AS (b[0-9]+)\b")
_SCOPE = re.compile(r"dac_source LIKE '((?:[^'%_\\]|\\[%_\\])*)' ESCAPE '\\'|dac_source='([^']*)'")
_QUOTES = "'\"`"
# A correlated lookup of converters.backends.new_terms / absence: alias."field" IS e."field".
_LOOKUP = re.compile(r'\b([a-z])\."((?:[^"]|"")+)" IS e\."')


def split_ctes(query: str) -> tuple[list[tuple[str, str]], str] | None:
    """``WITH a AS (...), b AS (...) SELECT ...`` -> ([(a, body), (b, body)], the SELECT), or
    None for any other text."""
    text = query.lstrip()
    if text[:4].upper() != "WITH" or not text[4:5].isspace():
        return None
    position = 4
    ctes = []
    while True:
        found = _CTE.match(text, position)
        if found is None:
            return None
        end = _closing(text, found.end())
        if end is None:
            return None
        ctes.append((found.group(1), text[found.end() : end]))
        comma = _COMMA.match(text, end + 1)
        if comma is None:
            return ctes, text[end + 1 :].strip()
        position = comma.end()


def _closing(text: str, start: int) -> int | None:
    """The index of the parenthesis that closes the one just before ``start``; quoted text
    (strings, identifiers) is skipped, a doubled quote being two quoted pieces in a row."""
    depth = 1
    quote = ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in _QUOTES:
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if not depth:
                return index
    return None


def run_stepwise(connection: sqlite3.Connection, query: str) -> tuple[sqlite3.Cursor, list[str]]:
    """The query's cursor, its CTEs of matches materialised and indexed first; and the
    temporary tables made, which ``drop_steps`` drops once the cursor has been read."""
    split = split_ctes(query)
    if split is None or not any(name.endswith(_MATERIALISED) for name, _ in split[0]):
        return connection.execute(query), []
    ctes, final = split
    # The rows of no referenced rule are read only for the observation horizon (the newest
    # time) and extended conditions: without those, the raw step keeps the rules' rows.
    whole = len(_HORIZON.findall(query)) > 1 or _CONTEXT in query
    kept: list[tuple[str, str]] = []
    made: list[str] = []
    try:
        for name, body in ctes:
            if _RAW.search(name):
                select = body if whole else _raw_rows(body)
                _create(connection, made, name, _with(kept) + select)
                # Correlations of correlations find their evidence rows by eid.
                connection.execute(f"CREATE INDEX temp.{name}_eid ON {name} (eid)")
            elif name.endswith(_MATERIALISED):
                _create(connection, made, name, _with(kept) + body)
                columns = {row[1] for row in connection.execute(f"PRAGMA temp.table_info({name})")}
                if {"g0", "ts"} <= columns:
                    connection.execute(f"CREATE INDEX temp.{name}_window ON {name} (g0, ts)")
            else:
                kept.append((name, body))
        return connection.execute(_with(kept) + final), made
    except sqlite3.Error:
        drop_steps(connection, made)
        raise


def _raw_rows(body: str) -> str:
    """The raw step's rows of some referenced rule: one of its flags set; and when every flag
    is scoped by data source, read through the table's index on the source."""
    flags = _FLAGS.findall(body)
    if not flags:
        return body
    sources: set[str] = set()
    scoped = True
    for condition, _flag in _FLAG.findall(body):
        # The scope must lead the condition (AND the rule's own): then no row of another
        # source can set the flag.
        scope = _SCOPE.match(condition.lstrip("("))
        if scope is None or condition.lstrip("(")[scope.end() :][:5] != " AND ":
            scoped = False  # not scoped as expected: every row is read
            break
        sources.add(scope.group(1).replace("\\", "") if scope.group(1) else scope.group(2))
    if scoped and sources and body.rstrip().endswith(f"FROM {TABLE}"):
        literals = ", ".join("'" + s.replace("'", "''") + "'" for s in sorted(sources))
        body = f"{body} WHERE dac_source IN ({literals})"
    return f"SELECT * FROM ({body}) WHERE " + " OR ".join(flags)


def _create(connection: sqlite3.Connection, made: list[str], name: str, select: str) -> None:
    connection.execute(f"CREATE TEMP TABLE {name} AS {select}")
    made.append(name)


def drop_steps(connection: sqlite3.Connection, made: list[str]) -> None:
    """Drop the temporary tables of a ``run_stepwise``."""
    for name in reversed(made):
        connection.execute(f"DROP TABLE IF EXISTS temp.{name}")
    made.clear()


def _with(ctes: list[tuple[str, str]]) -> str:
    if not ctes:
        return ""
    return "WITH " + ", ".join(f"{name} AS ({body})" for name, body in ctes) + " "


def lookup_indexes(query: str) -> Iterator[tuple[str, ...]]:
    """For each alias that a history or absence query looks up by entity, its fields, then
    the timestamp: the columns of an index that reads only that entity's events."""
    fields: dict[str, list[str]] = {}
    for alias, name in _LOOKUP.findall(query):
        fields.setdefault(alias, []).append(name.replace('""', '"'))
    for names in fields.values():
        yield (*dict.fromkeys(names), "timestamp")


def create_index(connection: sqlite3.Connection, name: str, columns: tuple[str, ...]) -> None:
    connection.execute(
        f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({', '.join(map(_quote, columns))})"
    )
