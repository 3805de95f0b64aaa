"""A single rule's event count, as the SQLite backend writes it, read back from its query: the
rows such a correlation can use are those in a window that reaches its threshold; the others
cannot change its alerts.

``count_of(query)`` recognises the query of an event count over one rule (``gws_gmail_mail_
burst``: 50 messages of one sender within an hour) and returns what its steps compute: the
rule's condition (the raw step's flag), the time, the group's field, the window and the
threshold, each as the query's own text. The hunt holds back the rows only such a count
reads and loads those in a window that qualifies (converters.hunt.burstcount); it sweeps the
count's windows itself (converters.engine.sweep). Any other text (several rules, aliases, a
count that must stay under a threshold): None, and every row is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from converters.engine.groupprune import GROUP
from converters.engine.sqlite_engine import TABLE
from converters.engine.stepwise import split_ctes

# The raw step of one rule's rows: rowid as the event id, the time, one payload field, one flag.
_RAW = re.compile(
    r"SELECT CAST\(`rowid` AS TEXT\) AS rid, '0:' \|\| CAST\(`rowid` AS TEXT\) AS eid, "
    r"(?P<ts>ROUND\(\(julianday\(timestamp\) - 2440587\.5\) \* 86400000\) / 1000\.0) AS ts, "
    r"(?:json_object\('f0', CASE WHEN typeof\((?P<field>`(?:[^`]|``)+`)\)='real' AND "
    r"abs\((?P=field)\) > 1\.7976931348623157e308 THEN NULL ELSE (?P=field) END\)) AS payload, "
    rf"COALESCE\((?P<flag>.*), 0\) AS b0 FROM {TABLE}",
    re.DOTALL,
)
_METRICS = re.compile(
    r"SELECT DISTINCT ts AS end, g0, COUNT\(\*\) OVER \(PARTITION BY g0 ORDER BY ts RANGE "
    r"BETWEEN (?P<seconds>[0-9]+) PRECEDING AND CURRENT ROW\) AS metric FROM \S+_n0_unique_events"
)
_QUALIFIED = re.compile(
    r"SELECT \* FROM \S+_n0_t0_measured WHERE metric (?P<op>>=|>) (?P<n>[0-9]+)"
)


@dataclass(frozen=True)
class EventCount:
    """One rule's event count: its rows are those where ``flag`` holds (the SQL of the rule's
    condition over the table's columns), grouped by ``field`` (a column, quoted as the query
    quotes it), counted over ``seconds`` back from each row's ``ts`` (the query's SQL of the
    time); a window qualifies at ``threshold`` rows."""

    flag: str
    ts: str
    field: str
    seconds: int
    threshold: int


def count_of(query: str) -> EventCount | None:
    """The event count the query computes, or None when it is not one rule's event count in
    the backend's words (every step checked, the others must be those of the shape)."""
    split = split_ctes(query)
    if split is None:
        return None
    steps = dict(split[0])
    names = list(steps)
    raw = next((b for n, b in split[0] if n.endswith("_raw0")), "")
    found = _RAW.fullmatch(raw)
    if found is None or any(n.endswith(("_raw1", "_n1_input", "_context")) for n in names):
        return None
    # The newest time (horizon) is read only where it is defined: no step waits on it.
    if len(re.findall(r"_horizon\b", query)) != 1:
        return None
    node = next((n.removesuffix("_input") for n in names if n.endswith("_n0_input")), None)
    if node is None:
        return None
    arm = (
        f"SELECT s.*, 0 AS slot, {GROUP} AS g0, NULL AS v FROM (SELECT 'e:' || eid AS eid, ts, "
        "payload, json_array(eid) AS evidence, '[]' AS children FROM "
        f"{node.rsplit('_n0', 1)[0]}_raw0 WHERE b0) s"
    )
    matches = (
        f"SELECT DISTINCT * FROM {node}_input WHERE ts IS NOT NULL AND eid IS NOT NULL AND "
        "g0 IS NOT NULL"
    )
    metrics = _METRICS.fullmatch(steps.get(f"{node}_metrics", ""))
    qualified = _QUALIFIED.fullmatch(steps.get(f"{node}_t0_qualified", ""))
    if (
        steps.get(f"{node}_input") != arm
        or steps.get(f"{node}_matches") != matches
        or metrics is None
        or qualified is None
        or "'event_count' AS metric_name" not in split[1]
    ):
        return None
    threshold = int(qualified["n"]) + (1 if qualified["op"] == ">" else 0)
    return EventCount(
        found["flag"], found["ts"], found["field"], int(metrics["seconds"]), threshold
    )
