"""One rule's event count swept group by group in Python, in place of its query's steps.

The SQLite backend's event count looks up, for each window that qualifies, the events of its
group inside it, in SQL: two JSON aggregates per window, then a third pass that merges and
sorts them. A provisioning account's 10,000 creations make 10,000 windows of 30 events
(``gws_bulk_user_creation``), and those lookups cost most of the rule's time. Here the rule's
rows are read once, sorted by group and time, and each group's windows are swept with two
pointers: the same windows (one per event time of a group, the rows ``seconds`` back from
it, the frame's peers included), the same counts, the same evidence.

``counted(query)`` recognises the backend's text of an event count over one rule, every step
compared with the text it must be (converters.engine.eventcount reads its head: the flag,
the time, the group's field, the window, the threshold); any other text: None, and the query
runs as written. The times are the query's own SQL, read from SQLite, and a window's start is
the same float subtraction as the query's, so every comparison is the query's.
"""

from __future__ import annotations

import itertools
import operator
import re
import sqlite3
from dataclasses import dataclass

from converters.engine.eventcount import EventCount, count_of
from converters.engine.sqlite_engine import TABLE
from converters.engine.stepwise import split_ctes

_ALERTS = re.compile(
    r"SELECT 'sigma_alert_[0-9a-f]+:' \|\| ROW_NUMBER\(\) OVER \(ORDER BY g0, end, start, "
    r"metric, evidence\) AS alert_id, start, end, json_object\('(?P<key>(?:[^']|'')*)', `g0`\) "
    r"AS group_keys, metric, evidence, children, json_object\('f0', `g0`\) AS payload FROM "
    r"(?P<node>[A-Za-z0-9_]+)_merged"
)
# A window: its rows' rowids, its start and end (the query's floats), the group's value.
Window = tuple[list[int], float, float, str]


@dataclass(frozen=True)
class Counted:
    """An event count the sweep computes: the head read by ``count_of``, and the name the
    alerts give the group's value."""

    count: EventCount
    key: str


def counted(query: str) -> Counted | None:
    count = count_of(query)
    split = split_ctes(query) if count is not None else None
    if count is None or split is None:
        return None
    steps = dict(split[0])
    alerts = next((_ALERTS.fullmatch(b) for n, b in split[0] if n.endswith("_n0_alerts")), None)
    if alerts is None:
        return None
    node, width = alerts["node"], count.seconds
    a, c, m = f"{node}_t0_anchors", f"{node}_combined", f"{node}_matches"
    window = "m.g0 = a.g0 AND m.ts BETWEEN a.start AND a.end"
    merged = "c.g0 = a.g0 AND c.start=a.start AND c.end=a.end ORDER BY e.value"
    expected = {
        f"{node}_events": f"SELECT DISTINCT eid, ts, g0, v FROM {m}",
        f"{node}_unique_events": f"SELECT DISTINCT eid, ts, g0 FROM {node}_events",
        a: f"SELECT DISTINCT ts - {width} AS start, ts AS end, g0 FROM {m}",
        f"{node}_t0_measured": (
            f"SELECT a.*, (SELECT m.metric FROM {node}_metrics m WHERE m.g0 = a.g0 AND "
            f"m.end=a.end) AS metric FROM {a} a WHERE 1"
        ),
        c: (
            "SELECT a.start, a.end, g0, a.metric, (SELECT json_group_array(DISTINCT e.value) "
            f"FROM {m} m, json_each(m.evidence) e WHERE {window}) AS evidence, (SELECT "
            f"json_group_array(DISTINCT c.value) FROM {m} m, json_each(m.children) c WHERE "
            f"{window}) AS children FROM {node}_t0_qualified a"
        ),
        f"{node}_windows": (
            f"SELECT start, end, g0, MAX(metric) AS metric FROM {c} GROUP BY start, end, g0"
        ),
        f"{node}_merged": (
            "SELECT a.*, (SELECT json_group_array(value) FROM (SELECT DISTINCT e.value FROM "
            f"{c} c, json_each(c.evidence) e WHERE {merged})) AS evidence, (SELECT "
            f"json_group_array(value) FROM (SELECT DISTINCT e.value FROM {c} c, "
            f"json_each(c.children) e WHERE {merged})) AS children FROM {node}_windows a"
        ),
    }
    final = (
        "SELECT alert_id, group_keys, end AS occurrence_time, start AS window_start, end AS "
        "window_end, 'event_count' AS metric_name, metric AS metric_value, "
        "json_array_length(evidence) AS event_count, evidence AS event_ids, children AS "
        f"child_alert_ids FROM {node}_alerts ORDER BY occurrence_time, alert_id"
    )
    known = {*expected, f"{node}_input", m, f"{node}_metrics", f"{node}_t0_qualified"}
    known |= {f"{node}_alerts", *(n for n in steps if n.endswith(("_raw0", "_horizon")))}
    if split[1] != final or set(steps) != known:
        return None
    if any(steps[name] != text for name, text in expected.items()):
        return None
    return Counted(count, alerts["key"].replace("''", "'"))


def windows(connection: sqlite3.Connection, counted: Counted) -> list[Window]:
    """The windows that reach the threshold, each with its rows."""
    count = counted.count
    # The query's group is lower() of the field's text (every column is TEXT or NULL); its
    # order and its equality, BINARY, are Python's on str.
    rows = connection.execute(
        f"SELECT g0, ts, rid FROM (SELECT lower({count.field}) AS g0, {count.ts} AS ts, rowid "
        f"AS rid FROM {TABLE} WHERE {count.flag}) WHERE ts IS NOT NULL AND g0 IS NOT NULL "
        "ORDER BY g0, ts"
    ).fetchall()
    found: list[Window] = []
    for _value, group in itertools.groupby(rows, key=operator.itemgetter(0)):
        found += _group(list(group), count.seconds, count.threshold)
    return found


def _group(rows: list[tuple[str, float, int]], seconds: int, threshold: int) -> list[Window]:
    """One group's rows in time order -> its windows: one per time, ending there (its peers
    in), starting ``seconds`` before (as ``ts - seconds``), kept when it holds ``threshold``."""
    found: list[Window] = []
    start = 0
    for at, (group, end, _rid) in enumerate(rows):
        if at + 1 < len(rows) and rows[at + 1][1] == end:
            continue  # a later peer ends the same window
        begin = end - seconds
        while rows[start][1] < begin:
            start += 1
        if at + 1 - start >= threshold:
            found.append(([r[2] for r in rows[start : at + 1]], begin, end, group))
    return found
