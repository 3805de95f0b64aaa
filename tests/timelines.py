"""Timelines of raw UAL records for the correlation tests, and the two engines run on them."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from converters.domains import DomainList
from converters.engine import EqlEngine, SqliteEngine, sigma_rows

REPO = Path(__file__).resolve().parent.parent
BASE = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

Alerts = set[tuple[tuple[tuple[str, str], ...], str]]


def correlation_rules_dir(target: Path) -> Path:
    """The shipped rules plus the test-only correlations in tests/correlation_rules/.

    The test rules state their window inline, where a reader of the test wants it; the
    shipped folder keeps every threshold in thresholds.yml, so they move there."""
    shutil.copytree(REPO / "sigma_rules", target)
    thresholds_path = target / "thresholds.yml"
    thresholds = yaml.safe_load(thresholds_path.read_text(encoding="utf-8"))
    for path in (REPO / "tests" / "correlation_rules").glob("*.yml"):
        rule = yaml.safe_load(path.read_text(encoding="utf-8"))
        correlation = rule["correlation"]
        condition = correlation.pop("condition")
        field = condition.pop("field", None)
        if field is not None:
            correlation["condition"] = {"field": field}
        thresholds[rule["name"]] = {
            "timespan": correlation.pop("timespan"),
            "condition": condition,
            "rationale": "A test-only correlation; its window is part of the test.",
        }
        (target / path.name).write_text(yaml.safe_dump(rule, sort_keys=False), encoding="utf-8")
    thresholds_path.write_text(yaml.safe_dump(thresholds, sort_keys=False), encoding="utf-8")
    return target


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def add_user(
    minutes: float, actor: str, account: str | None = None, ip: str = "203.0.113.45"
) -> dict[str, Any]:
    """A UAL "Add user." record, as the Management Activity API returns it."""
    target = account or f"user-{uuid.uuid4().hex[:8]}@contoso.onmicrosoft.com"
    return {
        "CreationTime": _stamp(at(minutes)),
        "Id": str(uuid.uuid4()),
        "Operation": "Add user.",
        "OrganizationId": "4b2a0c1e-7f3d-4c8a-9e61-0d5b3a2f1c47",
        "RecordType": 8,
        "ResultStatus": "Success",
        "UserKey": "10032001A1B2C3D4@contoso.onmicrosoft.com",
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ClientIP": ip,
        "ObjectId": target,
        "UserId": actor,
        "AzureActiveDirectoryEventType": 1,
        "ModifiedProperties": [{"Name": "AccountEnabled", "NewValue": "[true]", "OldValue": "[]"}],
        "Actor": [{"ID": actor, "Type": 5}],
        "Target": [{"ID": target, "Type": 5}],
    }


def forward(minutes: float, actor: str, address: str = "drop@mailinator.com") -> dict[str, Any]:
    """A UAL Set-Mailbox record that forwards the mailbox to ``address``."""
    return {
        "CreationTime": _stamp(at(minutes)),
        "Id": str(uuid.uuid4()),
        "Operation": "Set-Mailbox",
        "OrganizationId": "4b2a0c1e-7f3d-4c8a-9e61-0d5b3a2f1c47",
        "RecordType": 1,
        "ResultStatus": "True",
        "UserKey": "10032001A1B2C3D4",
        "UserType": 2,
        "Version": 1,
        "Workload": "Exchange",
        "ClientIP": "203.0.113.45",
        "ObjectId": "j.doe",
        "UserId": actor,
        "Parameters": [
            {"Name": "Identity", "Value": "j.doe@contoso.onmicrosoft.com"},
            {"Name": "ForwardingSmtpAddress", "Value": f"smtp:{address}"},
            {"Name": "DeliverToMailboxAndForward", "Value": "False"},
        ],
    }


def _key(group: dict[str, str], end: str | None) -> tuple[tuple[tuple[str, str], ...], str]:
    return tuple(sorted(group.items())), (end or "")[:19]


def run_sqlite(query: str, records: Iterable[dict[str, Any]], domains: DomainList) -> Alerts:
    engine = SqliteEngine(domains)
    engine.load(row for record in records for row in sigma_rows(record))
    return {_key(a.group, a.window_end) for a in engine.run(query)}


def run_eql(query: str, records: Sequence[dict[str, Any]], domains: DomainList) -> Alerts:
    engine = EqlEngine(domains)
    engine.load_records(records)
    return {_key(a.group, a.window_end) for a in engine.run(query)}


def expected(group: dict[str, str], *ends: float) -> Alerts:
    return {_key(group, _stamp(at(m))) for m in ends}


def run_spl(
    spl: str,
    base_sql: dict[str, str],
    records: Iterable[dict[str, Any]],
    domains: DomainList,
) -> Alerts:
    """The generated SPL's correlation stages, simulated (tests/spl_sim.py) over the events
    each referenced rule matches in the reference engine."""
    import re

    from tests import spl_sim

    engine = SqliteEngine(domains)
    engine.load(row for record in records for row in sigma_rows(record))
    matches: dict[str, list[dict[str, Any]]] = {}
    for rule in spl_sim.branch_evals(spl):
        events = []
        for alert in engine.run(base_sql[rule]):
            row = dict(engine.event(alert.event_ids[0]))
            moment = datetime.fromisoformat(str(row["timestamp"])).replace(tzinfo=UTC)
            row["_time"] = moment.timestamp()
            events.append(row)
        matches[rule] = events
    names = dict(re.findall(r'(dac_g\d+) AS "([^"]+)"', spl))
    alerts: Alerts = set()
    for row in spl_sim.run(spl, matches):
        group = {names[c]: str(row[c]) for c in sorted(names)}
        end = datetime.fromtimestamp(row["_time"], UTC).strftime("%Y-%m-%dT%H:%M:%S")
        alerts.add(_key(group, end))
    return alerts
