"""Every rule fires on the attack and stays quiet on look-alike benign activity.

Each case in tests/cases/<rule>.yml names raw events (tests/events, real source formats) and
the number of alerts expected. The events go through the adapters into the SQLite reference
engine (the rule's SQLite query) and through the ECS mapping and the simulated enrichment
into the eql library (the rule's EQL query, as Kibana would run it); both must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from converters.compile import Queries
from converters.domains import DomainList
from converters.engine import Alert, EqlEngine, SqliteEngine, sigma_rows
from converters.loading.rules import RuleSet
from tests.spl_stages import case_records, event_files

TESTS = Path(__file__).resolve().parent
CASES = TESTS / "cases"
CASE_KEYS = {"name", "events", "expect", "why", "group", "min_evidence"}


def _case_files() -> list[Path]:
    return sorted(CASES.glob("*.yml"))


def _load_case_file(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path}: a mapping with 'rule' and 'cases'"
    return document


def _cases() -> list[Any]:
    params = []
    for path in _case_files():
        document = _load_case_file(path)
        for case in document.get("cases") or []:
            params.append(
                pytest.param(document.get("rule"), case, id=f"{path.stem}:{case.get('name')}")
            )
    return params


def _run_sqlite(query: str, records: list[dict[str, Any]], domains: DomainList) -> list[Alert]:
    engine = SqliteEngine(domains)
    engine.load(row for record in records for row in sigma_rows(record))
    return engine.run(query)


def _run_eql(query: str, records: list[dict[str, Any]], domains: DomainList) -> list[Alert]:
    engine = EqlEngine(domains)
    engine.load_records(records)
    return engine.run(query)


@pytest.mark.parametrize(("rule_name", "case"), _cases())
def test_rule_behaviour(
    rule_name: str,
    case: dict[str, Any],
    ruleset: RuleSet,
    sqlite_queries: Queries,
    eql_queries: Queries,
    domains: DomainList,
) -> None:
    doc = ruleset.by_name(rule_name)
    records = case_records(case["events"])
    expected = case["expect"]

    sql_alerts = _run_sqlite(sqlite_queries.by_rule[doc.id], records, domains)
    assert len(sql_alerts) == expected, (
        f"SQLite: {len(sql_alerts)} alerts, expected {expected} ({case['why']})\n"
        + "\n".join(map(repr, sql_alerts))
    )
    eql_alerts: list[Alert] = []
    eql_ran = eql_queries.languages.get(doc.id) == "eql"  # absent: the rule opts out of Elastic
    if eql_ran:
        eql_alerts = _run_eql(eql_queries.by_rule[doc.id], records, domains)
        assert len(eql_alerts) == expected, (
            f"EQL: {len(eql_alerts)} alerts, expected {expected} ({case['why']})\n"
            + "\n".join(map(repr, eql_alerts))
        )
    # ES|QL rules have no embedded engine: tests/test_correlations.py and the golden files
    # check what they say.

    if doc.is_correlation:
        for alert in [*sql_alerts, *eql_alerts]:
            assert alert.group == {k: str(v).lower() for k, v in case["group"].items()}
            assert len(alert.event_ids) >= case.get("min_evidence", 5)
    else:
        # Single events: both engines must name the very same evidence.
        if eql_ran:
            assert sorted(a.event_ids for a in sql_alerts) == sorted(
                a.event_ids for a in eql_alerts
            )
        assert all(a.group == {} and len(a.event_ids) == 1 for a in sql_alerts)


def test_every_rule_has_positive_and_negative_cases(ruleset: RuleSet) -> None:
    by_rule = {}
    for path in _case_files():
        document = _load_case_file(path)
        assert document.get("rule") == path.stem, f"{path}: 'rule' must be {path.stem!r}"
        by_rule[path.stem] = document.get("cases") or []
    for doc in ruleset.docs:
        cases = by_rule.get(doc.name)
        assert cases, f"rule {doc.name} has no tests/cases/{doc.name}.yml"
        assert any(c["expect"] > 0 for c in cases), f"{doc.name}: no true positive case"
        assert any(c["expect"] == 0 for c in cases), f"{doc.name}: no true negative case"
    unknown = set(by_rule) - {doc.name for doc in ruleset.docs}
    assert not unknown, f"case files for rules that do not exist: {sorted(unknown)}"


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: p.stem)
def test_case_files_are_well_formed(path: Path, ruleset: RuleSet) -> None:
    document = _load_case_file(path)
    assert set(document) == {"rule", "cases"}, f"{path}: keys must be rule and cases"
    names = [case.get("name") for case in document["cases"]]
    assert len(names) == len(set(names)), f"{path}: case names must be unique"
    is_correlation = ruleset.by_name(document["rule"]).is_correlation
    for case in document["cases"]:
        assert set(case) <= CASE_KEYS and {"name", "events", "expect", "why"} <= set(case), case
        assert isinstance(case["expect"], int) and case["expect"] >= 0, case
        assert isinstance(case["why"], str) and case["why"].strip(), case
        assert event_files(case["events"]), case
        if is_correlation and case["expect"] > 0:
            assert isinstance(case.get("group"), dict), f"{case['name']}: positives name a group"
