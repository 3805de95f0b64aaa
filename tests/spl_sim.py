"""A small simulator of the correlation stages this package writes in SPL.

No Splunk runs in the tests, so the window logic of the generated searches (streamstats with
time_window, the ordered-chain evals, the inner windows of a correlation of correlations, the
index-time slot a run keeps) is executed here, stage by stage, over the events the reference
engine says each referenced rule matches. It understands only the stage forms the generator
emits and refuses anything else, so a generator change cannot slip past it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]

_BRANCH = re.compile(r'eval dac_rule="(?P<rule>[^"]+)"(?P<rest>[^\]\n]*)')
_ASSIGN = re.compile(r"(dac_g\d+)=lower\('([^']+)'\)|dac_value='([^']+)'")
_STREAM = re.compile(
    r"\| streamstats time_window=(?P<span>\d+)s(?P<current> current=f)? "
    r"(?P<agg>count|count\(eval\(dac_rule=\"(?P<crule>[^\"]+)\"\)\)|dc\((?P<dc>\w+)\)"
    r"|max\((?P<max>\w+)\)"
    r"|(?P<fn>dc|max)\(eval\(if\(dac_rule=\"(?P<irule>[^\"]+)\", (?P<ifield>\w+), null\(\)\)\)\))"
    r" as (?P<out>\w+)(?: by (?P<by>.+))?$"
)
_FIRST = re.compile(
    r'\| eval (?P<out>dac_chain_\d+)=if\((?P<key>dac_rule|dac_outer)="(?P<rule>[^"]+)", _time, '
    r"null\(\)\)$"
)
_NEXT = re.compile(
    r'\| eval (?P<out>dac_chain_\d+)=if\((?P<key>dac_rule|dac_outer)="(?P<rule>[^"]+)" AND '
    r"(?P<prev>\w+) < _time, (?P=prev), null\(\)\)$"
)
# The outer rule of a correlation of correlations: an inner window firing, or an own rule.
_OUTER = re.compile(r"\| eval dac_outer=case\((?P<outer>.*)\), dac_fresh=case\((?P<fresh>.*)\)$")
_CASE = re.compile(
    r'dac_rule="(?P<rule>[^"]+)"(?: AND (?P<metric>\w+) (?P<op>>=|>|=) (?P<n>\d+))?, '
    r'(?:"(?P<name>[^"]+)"|(?P<field>\w+))'
)
_SLOT = re.compile(
    r'\| where (?P<f>\w+)>=relative_time\(info_max_time, "-(?P<start>\d+)m@m"\) '
    r'AND (?P=f)<relative_time\(info_max_time, "-(?P<end>\d+)m@m"\)$'
)
_CHAIN_END = re.compile(r"\| where isnotnull\((?P<f>\w+)\) AND (?P=f) >= _time - (?P<span>\d+)$")
# New terms: each combination's first event. Absence: every follow-up of a key, a deadline
# due in the run's slot, no follow-up within the wait.
_EVENTSTATS = re.compile(
    r"\| eventstats (?:min\((?P<min>\w+)\)|values\((?P<values>\w+)\)) "
    r"AS (?P<out>\w+) BY (?P<by>.+)$"
)
_FIRST_ONLY = re.compile(r"\| where _time=(?P<f>\w+)$")
_DEADLINE = re.compile(
    r"\| where isnotnull\((?P<f>\w+)\) AND (?P=f)\+(?P<wait>\d+)>="
    r'relative_time\(info_max_time, "-(?P<start>\d+)m@m"\) AND (?P=f)\+(?P=wait)<'
    r'relative_time\(info_max_time, "-(?P<end>\d+)m@m"\)$'
)
_ANSWERED = re.compile(
    r"\| eval (?P<out>\w+)=mvmap\((?P<mv>\w+), if\((?P=mv)>=(?P<since>\w+) AND "
    r"(?P=mv)<=(?P=since)\+(?P<wait>\d+), 1, null\(\)\)\)$"
)
_IS_NULL = re.compile(r"\| where isnull\((?P<f>\w+)\)$")
_METRIC = re.compile(r"\| where (?P<f>\w+) (?P<op>>=|>|<=|<|=) (?P<n>\d+)$")
_NOT_NULL = re.compile(r"\| where (isnotnull\(\w+\)(?: AND )?)+$")
_IGNORED = re.compile(
    r"\| (eval rule_count=\d+|eval window_end=.*|rename .*|`\w+_filter`|addinfo)$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b, "=": lambda a, b: a == b,
}  # fmt: skip


def branch_evals(spl: str) -> dict[str, dict[str, str]]:
    """Per referenced rule: the output column -> the field it is computed from."""
    result: dict[str, dict[str, str]] = {}
    for match in _BRANCH.finditer(spl):
        columns: dict[str, str] = {}
        for group, field, value in _ASSIGN.findall(match.group("rest")):
            columns[group or "dac_value"] = field or value
        result[match.group("rule")] = columns
    return result


def _stages(spl: str) -> list[str]:
    lines = spl.split("\n")
    start = next(i for i, line in enumerate(lines) if line == "| sort 0 _time")
    return lines[start - 1 :]


def run(spl: str, matches: dict[str, list[Event]], now: float | None = None) -> list[Event]:
    """Events of each referenced rule (``_time`` and, where it matters, ``_indextime`` in
    seconds) -> the rows the search returns. ``now``: the run's scheduled time, which its
    index-time slot is measured from; None keeps every window (all newly indexed)."""
    evals = branch_evals(spl)
    rows: list[Event] = []
    for rule, columns in evals.items():
        for event in matches[rule]:
            row = dict(event, dac_rule=rule)
            row["dac_indexed"] = event.get("_indextime", event["_time"])
            for column, field in columns.items():
                value = event.get(field)
                row[column] = (
                    value.lower() if column != "dac_value" and isinstance(value, str) else value
                )
            rows.append(row)
    for stage in _stages(spl):
        rows = _apply(stage, rows, now)
    return rows


def run_tail(spl: str, rows: list[Event], now: float | None = None) -> list[Event]:
    """A new-terms or absence search: its rows (the base search's events, or the absence's
    branches' rows with their ``eval`` columns set) through the stages from its first
    ``eventstats`` on."""
    lines = spl.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("| eventstats "))
    rows = [dict(r) for r in rows]
    for stage in lines[start:]:
        rows = _apply(stage, rows, now)
    return rows


def absence_branches(spl: str) -> list[tuple[str, str]]:
    """An absence search's multisearch branches, in order: (key field, role column)."""
    found = re.findall(
        r"\| eval dac_key=lower\('([^']+)'\), (dac_created|dac_followup)=_time\]", spl
    )
    return [(field, role) for field, role in found]


def _relative(now: float, minutes: int) -> float:
    """relative_time(now, "-<minutes>m@m")."""
    moment = now - minutes * 60
    return moment - moment % 60


def _apply(stage: str, rows: list[Event], now: float | None) -> list[Event]:
    if _NOT_NULL.match(stage):
        fields = re.findall(r"isnotnull\((\w+)\)", stage)
        return [r for r in rows if all(r.get(f) is not None for f in fields)]
    if stage == "| sort 0 _time":
        return sorted(rows, key=lambda r: r["_time"])
    if m := _STREAM.match(stage):
        return _streamstats(rows, m)
    if m := _FIRST.match(stage):
        for r in rows:
            r[m["out"]] = r["_time"] if r.get(m["key"]) == m["rule"] else None
        return rows
    if m := _NEXT.match(stage):
        for r in rows:
            prev = r.get(m["prev"])
            ok = r.get(m["key"]) == m["rule"] and prev is not None and prev < r["_time"]
            r[m["out"]] = prev if ok else None
        return rows
    if m := _OUTER.match(stage):
        outer, fresh = _CASE.findall(m["outer"]), _CASE.findall(m["fresh"])
        for r in rows:
            r["dac_outer"] = _case(r, outer)
            r["dac_fresh"] = _case(r, fresh)
        return rows
    if m := _SLOT.match(stage):
        if now is None:
            return rows
        start, end = _relative(now, int(m["start"])), _relative(now, int(m["end"]))
        return [r for r in rows if r.get(m["f"]) is not None and start <= r[m["f"]] < end]
    if m := _CHAIN_END.match(stage):
        span = int(m["span"])
        return [r for r in rows if r.get(m["f"]) is not None and r[m["f"]] >= r["_time"] - span]
    if m := _EVENTSTATS.match(stage):
        return _eventstats(rows, m)
    if m := _FIRST_ONLY.match(stage):
        return [r for r in rows if r["_time"] == r.get(m["f"])]
    if m := _DEADLINE.match(stage):
        if now is None:
            return [r for r in rows if r.get(m["f"]) is not None]
        start, end = _relative(now, int(m["start"])), _relative(now, int(m["end"]))
        wait = int(m["wait"])
        return [r for r in rows if r.get(m["f"]) is not None and start <= r[m["f"]] + wait < end]
    if m := _ANSWERED.match(stage):
        wait = int(m["wait"])
        for r in rows:
            since = r.get(m["since"])
            hits = [
                v for v in r.get(m["mv"]) or [] if since is not None and since <= v <= since + wait
            ]
            r[m["out"]] = hits or None
        return rows
    if m := _IS_NULL.match(stage):
        return [r for r in rows if r.get(m["f"]) is None]
    if m := _METRIC.match(stage):
        return [r for r in rows if _OPS[m["op"]](r[m["f"]], int(m["n"]))]
    if _IGNORED.match(stage):
        return rows
    raise ValueError(f"the SPL simulator does not know this stage: {stage!r}")


def _case(row: Event, cases: list[tuple[str, ...]]) -> Any:
    """case(dac_rule="x" [AND metric op n], "name" | field, ...): the first that holds."""
    for rule, metric, op, n, name, field in cases:
        if row["dac_rule"] != rule:
            continue
        if metric and not (row.get(metric) is not None and _OPS[op](row[metric], int(n))):
            continue
        return name or row.get(field)
    return None


def _streamstats(rows: list[Event], m: re.Match[str]) -> list[Event]:
    """Splunk's streamstats with time_window: over the events already seen whose _time is
    within the window of the current one, per group; current=f leaves the event itself out."""
    span = int(m["span"])
    by = (m["by"] or "").split()
    seen: dict[tuple[Any, ...], list[Event]] = {}
    for row in rows:
        key = tuple(row.get(f) for f in by)
        history = seen.setdefault(key, [])
        window = [r for r in history if r["_time"] >= row["_time"] - span]
        if not m["current"]:
            window = [*window, row]
        if m["agg"] == "count":
            value: Any = len(window)
        elif m["crule"]:
            value = sum(1 for r in window if r["dac_rule"] == m["crule"])
        elif m["dc"]:
            value = len({r.get(m["dc"]) for r in window if r.get(m["dc"]) is not None})
        elif m["max"]:
            values = [r[m["max"]] for r in window if r.get(m["max"]) is not None]
            value = max(values) if values else None
        else:
            picked = [
                r.get(m["ifield"])
                for r in window
                if r["dac_rule"] == m["irule"] and r.get(m["ifield"]) is not None
            ]
            value = len(set(picked)) if m["fn"] == "dc" else (max(picked) if picked else None)
        history.append(row)
        row[m["out"]] = value
    return rows


def _eventstats(rows: list[Event], m: re.Match[str]) -> list[Event]:
    """eventstats min(f) / values(f) BY ...: every row gets its group's aggregate; rows whose
    group field is null take no part (Splunk drops a null BY value from the grouping)."""
    by = m["by"].split()
    groups: dict[tuple[Any, ...], list[Any]] = {}
    source = m["min"] or m["values"]
    for row in rows:
        key = tuple(row.get(f) for f in by)
        if None in key:
            continue
        value = row.get(source)
        if value is not None:
            groups.setdefault(key, []).append(value)
    for row in rows:
        key = tuple(row.get(f) for f in by)
        found = groups.get(key) if None not in key else None
        if not found:
            row[m["out"]] = None
        elif m["min"]:
            row[m["out"]] = min(found)
        else:
            row[m["out"]] = sorted(set(found))
    return rows
