"""The catalog correlations' SPL stages, simulated (tests/spl_sim.py) over the matches of
their base rules in the reference engine; and the case records, read as `dac hunt` reads
them. Shared by the rule-behaviour and SPL-stage tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from converters.engine import SqliteEngine, load_records
from converters.hunt.readers import read_csv, sniff
from converters.loading.rules import RuleSet
from tests import spl_sim

EVENTS = Path(__file__).resolve().parent / "events"

Key = tuple[tuple[tuple[str, str], ...], str]


def event_files(spec: str | list[str]) -> list[Path]:
    """A case's ``events``: a file or folder under tests/events, or a list of them."""
    files: list[Path] = []
    for item in [spec] if isinstance(spec, str) else spec:
        path = EVENTS / item
        assert path.exists(), f"no events at {path}"
        files += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return files


def case_records(spec: str | list[str]) -> list[dict[str, Any]]:
    """JSON records, or the records of a CSV export (message trace: Get-MessageTrace |
    Export-Csv) or a text log (Zeek, Squid, FortiGate), read as `dac hunt` reads them."""
    records: list[dict[str, Any]] = []
    for path in event_files(spec):
        if path.suffix == ".json":
            records += load_records(path)
            continue
        read = read_csv if path.suffix == ".csv" else sniff(path).read
        with path.open("rb") as stream:
            for line, item in read(stream):
                assert not isinstance(item, str), f"{path}:{line}: {item}"
                records.append(dict(item))
    return records


def key(group: dict[str, str], end: str | None) -> Key:
    return tuple(sorted(group.items())), (end or "")[:19]


def _splunk_rows(engine: SqliteEngine, sql: str, ruleset: RuleSet, name: str) -> list[Any]:
    """A base rule's matches as Splunk holds them: each field under its Splunk name (and the
    exact value the search evaluates), with ``_time``."""
    source = ruleset.sources_of(ruleset.by_name(name))[0]
    cursor = engine.connection.execute(sql)
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        for field in source.fields:
            row[field.splunk_result] = row.get(field.sigma)
            row.setdefault(field.splunk, row.get(field.sigma))
        moment = datetime.fromisoformat(str(row["timestamp"])).replace(tzinfo=UTC)
        row["_time"] = moment.timestamp()
        rows.append(row)
    return rows


def simulate(
    ruleset: RuleSet,
    spl: dict[str, str],
    sql: dict[str, str],
    engine: SqliteEngine,
    name: str,
    now: float | None = None,
) -> list[Any]:
    """The rows a rule's SPL returns: the leaf rules' events from the reference engine (a
    correlation of correlations reads its inner rules' events in the same pass), then this
    search's stages; ``now``, the run's scheduled time, for its index-time slot."""
    doc = ruleset.by_name(name)
    if not doc.is_correlation:
        return _splunk_rows(engine, sql[doc.id], ruleset, name)
    query = spl[doc.id]
    leaves = spl_sim.branch_evals(query)
    matches = {
        leaf: _splunk_rows(engine, sql[ruleset.by_name(leaf).id], ruleset, leaf) for leaf in leaves
    }
    return spl_sim.run(query, matches, now)


def splunk_alerts(
    ruleset: RuleSet, spl: dict[str, str], sql: dict[str, str], engine: SqliteEngine, name: str
) -> set[Key]:
    """A correlation's simulated Splunk alerts, its group named by rule fields (as the
    reference engine names it)."""
    doc = ruleset.by_name(name)
    columns = dict(re.findall(r'(dac_g\d+) AS "([^"]+)"', spl[doc.id].split("\n")[-2]))
    sigma = {f.splunk_result: f.sigma for s in ruleset.sources_of(doc) for f in s.fields}
    found = set()
    for row in simulate(ruleset, spl, sql, engine, name):
        group = {sigma.get(columns[c], columns[c]): str(row[c]) for c in sorted(columns)}
        end = datetime.fromtimestamp(row["_time"], UTC).strftime("%Y-%m-%dT%H:%M:%S")
        found.add(key(group, end))
    return found
