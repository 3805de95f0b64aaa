"""A small simulator of the correlation stages this package writes in SPL.

No Splunk runs in the tests, so the window logic of the generated searches (streamstats with
time_window, the ordered-chain evals) is executed here, stage by stage, over the events the
reference engine says each referenced rule matches. It understands only the stage forms the
generator emits and refuses anything else, so a generator change cannot slip past it.
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
    r"(?P<agg>count|dc\((?P<dc>\w+)\)|max\((?P<max>\w+)\)) as (?P<out>\w+)(?: by (?P<by>.+))?$"
)
_FIRST = re.compile(
    r'\| eval (?P<out>dac_chain_\d+)=if\(dac_rule="(?P<rule>[^"]+)", _time, null\(\)\)$'
)
_NEXT = re.compile(
    r'\| eval (?P<out>dac_chain_\d+)=if\(dac_rule="(?P<rule>[^"]+)" AND (?P<prev>\w+) < _time, '
    r"(?P=prev), null\(\)\)$"
)
_CHAIN_END = re.compile(r"\| where isnotnull\((?P<f>\w+)\) AND (?P=f) >= _time - (?P<span>\d+)$")
_METRIC = re.compile(r"\| where (?P<f>\w+) (?P<op>>=|>|<=|<|=) (?P<n>\d+)$")
_NOT_NULL = re.compile(r"\| where (isnotnull\(\w+\)(?: AND )?)+$")
_IGNORED = re.compile(r"\| (eval rule_count=\d+|eval window_end=.*|rename .*|`\w+_filter`)$")
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


def run(spl: str, matches: dict[str, list[Event]]) -> list[Event]:
    """Events of each referenced rule (``_time`` in seconds) -> the rows the search returns."""
    evals = branch_evals(spl)
    rows: list[Event] = []
    for rule, columns in evals.items():
        for event in matches[rule]:
            row = dict(event, dac_rule=rule)
            for column, field in columns.items():
                value = event.get(field)
                row[column] = (
                    value.lower() if column != "dac_value" and isinstance(value, str) else value
                )
            rows.append(row)
    for stage in _stages(spl):
        rows = _apply(stage, rows)
    return rows


def _apply(stage: str, rows: list[Event]) -> list[Event]:
    if _NOT_NULL.match(stage):
        fields = re.findall(r"isnotnull\((\w+)\)", stage)
        return [r for r in rows if all(r.get(f) is not None for f in fields)]
    if stage == "| sort 0 _time":
        return sorted(rows, key=lambda r: r["_time"])
    if m := _STREAM.match(stage):
        return _streamstats(rows, m)
    if m := _FIRST.match(stage):
        for r in rows:
            r[m["out"]] = r["_time"] if r["dac_rule"] == m["rule"] else None
        return rows
    if m := _NEXT.match(stage):
        for r in rows:
            prev = r.get(m["prev"])
            ok = r["dac_rule"] == m["rule"] and prev is not None and prev < r["_time"]
            r[m["out"]] = prev if ok else None
        return rows
    if m := _CHAIN_END.match(stage):
        span = int(m["span"])
        return [r for r in rows if r.get(m["f"]) is not None and r[m["f"]] >= r["_time"] - span]
    if m := _METRIC.match(stage):
        return [r for r in rows if _OPS[m["op"]](r[m["f"]], int(m["n"]))]
    if _IGNORED.match(stage):
        return rows
    raise ValueError(f"the SPL simulator does not know this stage: {stage!r}")


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
        elif m["dc"]:
            value = len({r.get(m["dc"]) for r in window if r.get(m["dc"]) is not None})
        else:
            values = [r[m["max"]] for r in window if r.get(m["max"]) is not None]
            value = max(values) if values else None
        history.append(row)
        row[m["out"]] = value
    return rows
