"""Every catalog correlation's generated SPL, its stages simulated over each of its test cases,
gives the reference engine's alerts (same groups, same window ends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from converters.compile import Queries, compile_target
from converters.domains import DomainList
from converters.engine import SqliteEngine, sigma_rows
from converters.loading.rules import RuleSet, load_rules
from tests.spl_stages import case_records, key, splunk_alerts

REPO = Path(__file__).resolve().parent.parent


def _correlation_cases() -> list[Any]:
    ruleset = load_rules(REPO / "sigma_rules")
    params = []
    for doc in (d for d in ruleset.docs if d.is_correlation):
        path = REPO / "tests" / "cases" / f"{doc.name}.yml"
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            params.append(pytest.param(doc.name, case, id=f"{doc.name}:{case['name']}"))
    return params


@pytest.fixture(scope="module")
def splunk_queries(ruleset: RuleSet) -> Queries:
    return compile_target(ruleset, "splunk")


@pytest.mark.parametrize(("name", "case"), _correlation_cases())
def test_spl_stages_give_the_reference_alerts(
    name: str,
    case: dict[str, Any],
    ruleset: RuleSet,
    splunk_queries: Queries,
    sqlite_queries: Queries,
    domains: DomainList,
) -> None:
    engine = SqliteEngine(domains)
    engine.load(row for record in case_records(case["events"]) for row in sigma_rows(record))
    doc = ruleset.by_name(name)
    reference = {key(a.group, a.window_end) for a in engine.run(sqlite_queries.by_rule[doc.id])}
    assert len(reference) == case["expect"], case["why"]
    found = splunk_alerts(ruleset, splunk_queries.by_rule, sqlite_queries.by_rule, engine, name)
    assert found == reference, case["why"]
