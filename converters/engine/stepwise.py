"""The backend's correlation queries run a step at a time, so that their cost grows with the
events of a group, not with its square.

pySigma's SQLite backend writes a correlation as one ``WITH`` query whose window steps look
up, for each anchor event, the events of its group inside its window: ``m.g0 = a.g0 AND m.ts
BETWEEN a.start AND a.end`` over a CTE of matches. SQLite can give such a CTE only an
automatic index on the equality (``g0``), so each lookup reads the whole group: one
provisioning account with 10,000 creations costs 10,000 x 10,000 steps. Here each CTE of
matches becomes a temporary table with an index on ``(g0, ts)`` before the rest of the query
runs over it: the lookup reads the window only. The query's result is the same
(``SqliteEngine``, the reference, runs the single query; the tests compare the two): the
materialised steps are the same SELECTs over the same rows, their columns computed values
without a declared collation or affinity, as in the CTE. A query this module cannot split
runs whole. Only the steps a window lookup reads become tables; and where a node's input is
one rule's raw rows (one eid each), its matches, events and anchors are written without the
DISTINCT that could drop no row, an event count's window reading the matches' index in order;
an event count's metrics, read by (g0, end) alone, keep their duplicates (one count each), and
its anchors' counts are those metrics grouped by (g0, end), not looked up anchor by anchor.

Also here: the history and absence queries of converters.backends.new_terms and .absence
look up earlier events of the same entity with ``h."field" IS e."field"``; an index on those
fields and the timestamp makes that lookup read the entity's events only; a partial index,
of the rows of the lookup's source and rule only, costs a fraction of one of the whole table.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator

from converters.engine.groupprune import pruning
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
# A window lookup of a step: FROM <step> m[, json_each(m.x) e] WHERE m.g0 = a.g0 AND m.ts ...
_LOOKUP_TAIL = r"(?:, json_each\(m\.[a-z]+\) [a-z])? WHERE m\.g0 = a\.g0 AND m\.ts BETWEEN "
# A node's input from one rule's raw rows (several rules: arms joined by UNION ALL).
_ARM = re.compile(
    r"SELECT s\.\*, [0-9]+ AS slot, .* FROM \(SELECT 'e:' \|\| eid AS eid, ts, payload, "
    r"json_array\(eid\) AS evidence, '\[\]' AS children FROM ([A-Za-z0-9_]+) WHERE b[0-9]+\) s",
    re.DOTALL,
)
_METRICS = re.compile(
    r"SELECT DISTINCT ts AS end, g0, COUNT\(\*\) OVER \(PARTITION BY g0 ORDER BY ts RANGE "
    r"BETWEEN [0-9.]+ PRECEDING AND CURRENT ROW\) AS metric FROM [A-Za-z0-9_]+_"
    r"(?:unique_events|matches)"
)
_ANCHORS = re.compile(
    r"SELECT DISTINCT ts - ([0-9.]+) AS start, ts AS end, g0 FROM ([A-Za-z0-9_]+_matches)"
)
# An event count's measure: each anchor's count looked up in the metrics by (g0, end).
_MEASURED = re.compile(
    r"SELECT a\.\*, \(SELECT m\.metric FROM ([A-Za-z0-9_]+_metrics) m WHERE m\.g0 = a\.g0 "
    r"AND m\.end=a\.end\) AS metric FROM ([A-Za-z0-9_]+_anchors) a WHERE 1"
)
_ANCHORS_ANY = re.compile(
    r"SELECT (?:DISTINCT )?ts - ([0-9.]+) AS start, ts AS end, g0 FROM ([A-Za-z0-9_]+_matches)"
    r"(?: GROUP BY g0, ts)?"
)
_METRICS_OF = re.compile(
    r"SELECT (?:DISTINCT )?ts AS end, g0, COUNT\(\*\) OVER \(PARTITION BY g0 ORDER BY ts RANGE "
    r"BETWEEN [0-9.]+ PRECEDING AND CURRENT ROW\) AS metric FROM ([A-Za-z0-9_]+)"
)
_RAW_EID = "'0:' || CAST(`rowid` AS TEXT) AS eid, "
_RAW_FROM = re.compile(rf"^SELECT CAST\(`rowid` AS TEXT\) AS rid, .* FROM {TABLE}$", re.DOTALL)
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
    unique = _unique_steps(ctes)
    unique.update(_lean_metrics([(n, unique.get(n, b)) for n, b in ctes], final))
    unique.update(_grouped_measures([(n, unique.get(n, b)) for n, b in ctes]))
    try:
        for name, body in ctes:
            body = unique.get(name, body)
            if _RAW.search(name):
                select = body if whole else _raw_rows(body)
                _create(connection, made, name, _with(kept) + select)
                # A temporal node's groups that some of its rules never reach: dropped
                # (converters.engine.groupprune), when nothing else reads the raw rows.
                prune = None if whole or kept else pruning(ctes, final, name)
                if prune is not None:
                    connection.execute(prune)
                # Correlations of correlations find their evidence rows by eid.
                if f"FROM {name}) r ON r.eid=" in query:
                    connection.execute(f"CREATE INDEX temp.{name}_eid ON {name} (eid)")
            elif name.endswith(_MATERIALISED) and _looked_up(query, name):
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


def _looked_up(query: str, name: str) -> bool:
    """Whether a window lookup reads the step: the others (the events that only feed an
    event count's window function) are read once, as CTEs, without a table and index."""
    return re.search(rf"\b{re.escape(name)} m{_LOOKUP_TAIL}", query) is not None


def _unique_steps(ctes: list[tuple[str, str]]) -> dict[str, str]:
    """Steps whose DISTINCT drops no row, and their text without it: the matches, events and
    unique events of a node whose input is one rule's raw rows, each row with its own eid
    (``'0:' || rowid``). The events are then the matches' columns, read from the matches."""
    bodies = dict(ctes)
    raws = {n for n, b in ctes if _RAW.search(n) and _RAW_EID in b and _RAW_FROM.match(b)}
    unique: dict[str, str] = {}
    for name, body in ctes:
        arm = _ARM.fullmatch(body) if name.endswith("_input") else None
        if arm is None or arm.group(1) not in raws or "UNION" in body:
            continue
        node = name.removesuffix("_input")
        matches = f"{node}_matches"
        steps = {
            matches: f"* FROM {name} WHERE ts IS NOT NULL AND eid IS NOT NULL AND g0 IS NOT NULL",
            f"{node}_events": f"eid, ts, g0, v FROM {matches}",
            f"{node}_unique_events": f"eid, ts, g0 FROM {node}_events",
        }
        for step, text in steps.items():
            if bodies.get(step) != f"SELECT DISTINCT {text}":
                break  # not the text expected: this step and the next keep theirs
            unique[step] = "SELECT " + text.replace(f"FROM {node}_events", f"FROM {matches}")
        # An event count's window reads the matches' index (g0, ts) in order: no copy, no sort.
        metrics = bodies.get(f"{node}_metrics", "")
        if f"{node}_unique_events" in unique and _METRICS.fullmatch(metrics):
            source = f" FROM {node}_unique_events"
            unique[f"{node}_metrics"] = metrics.removesuffix(source) + f" FROM {matches}"
        # Anchors (one per g0 and time; g0 is text here) grouped in the index's order.
        for step, text in bodies.items():
            anchors = _ANCHORS.fullmatch(text) if step.startswith(node) else None
            if matches in unique and anchors and anchors.group(2) == matches:
                unique[step] = text.replace("DISTINCT ", "", 1) + " GROUP BY g0, ts"
    return unique


def _lean_metrics(ctes: list[tuple[str, str]], final: str) -> dict[str, str]:
    """An event count's metrics without DISTINCT where only the measured step reads them, by
    (g0, end): rows of one g0 and time are peers in the RANGE frame, so their counts, and the
    row the lookup finds, are the same."""
    lean: dict[str, str] = {}
    for name, body in ctes:
        if not (name.endswith("_metrics") and _METRICS.fullmatch(body)):
            continue
        rest = " ".join(b for n, b in ctes if n != name) + " " + final
        lookup = f"(SELECT m.metric FROM {name} m WHERE m.g0 = a.g0 AND m.end=a.end)"
        if len(re.findall(rf"\b{name}\b", rest)) == rest.count(lookup):
            lean[name] = body.replace("SELECT DISTINCT ", "SELECT ", 1)
    return lean


def _grouped_measures(ctes: list[tuple[str, str]]) -> dict[str, str]:
    """An event count's measured anchors read from its metrics grouped by (g0, end), not
    looked up one anchor at a time (over an automatic index SQLite builds per query): the
    anchors' (g0, ts) pairs are the metrics' (g0, end) pairs, both read from the node's
    matches, and a pair's rows are peers in the RANGE frame, all of the same count."""
    bodies = dict(ctes)
    grouped: dict[str, str] = {}
    for name, body in ctes:
        measured = _MEASURED.fullmatch(body) if name.endswith("_measured") else None
        if measured is None:
            continue
        metrics, anchors = measured.groups()
        anchor = _ANCHORS_ANY.fullmatch(bodies.get(anchors, ""))
        window = _METRICS_OF.fullmatch(bodies.get(metrics, ""))
        if anchor is None or window is None:
            continue
        width, matches = anchor.groups()
        # Both read the node's matches (one rule's rows, their DISTINCT steps gone).
        if window.group(1) != matches:
            continue
        grouped[name] = (
            f"SELECT end - {width} AS start, end, g0, MAX(metric) AS metric FROM {metrics} "
            "GROUP BY g0, end"
        )
    return grouped


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


def lookup_indexes(query: str) -> Iterator[tuple[tuple[str, ...], str | None]]:
    """For each alias that a history or absence query looks up by entity: its fields, then
    the timestamp (the columns of an index that reads only that entity's events); and the
    condition its rows are read under, ``(SELECT * FROM logs WHERE <condition>) AS alias``
    (None if not written so), which a partial index can hold alone."""
    fields: dict[str, list[str]] = {}
    for alias, name in _LOOKUP.findall(query):
        fields.setdefault(alias, []).append(name.replace('""', '"'))
    for alias, names in fields.items():
        yield (*dict.fromkeys(names), "timestamp"), _scope(query, alias)


def _scope(query: str, alias: str) -> str | None:
    """The condition of ``(SELECT * FROM logs WHERE <condition>) AS alias WHERE ...``."""
    head = f"(SELECT * FROM {TABLE} WHERE "
    start = query.find(head)
    while start >= 0:
        end = _closing(query, start + len(head))
        if end is not None and query.startswith(f") AS {alias} WHERE ", end):
            return query[start + len(head) : end]
        start = query.find(head, start + 1)
    return None


def create_index(connection: sqlite3.Connection, name: str, columns: tuple[str, ...]) -> None:
    connection.execute(
        f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({', '.join(map(_quote, columns))})"
    )


def scoped_index(connection: sqlite3.Connection, columns: tuple[str, ...], where: str) -> bool:
    """A partial index of the rows under ``where`` (SQLite reads it for a query whose WHERE
    holds the same terms); False if SQLite refuses the condition, then none is made."""
    name = "dac_p" + hashlib.sha1(repr((columns, where)).encode()).hexdigest()[:16]
    text = f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({', '.join(map(_quote, columns))})"
    try:
        connection.execute(f"{text} WHERE {where}")
    except (sqlite3.Error, sqlite3.Warning):
        return False
    return True
