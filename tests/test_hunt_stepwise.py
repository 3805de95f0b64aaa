"""Correlation queries run a step at a time (converters.engine.stepwise) return what the same
query returns whole: every column of every result row, on random timelines where many events
share a group and a time, for every correlation of the shipped and the test rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.compile import compile_target
from converters.domains import DomainList
from converters.engine import sigma_rows
from converters.engine.bulk import BulkEngine
from converters.engine.stepwise import _with, lookup_indexes, run_stepwise, split_ctes
from converters.loading.rules import RuleSet, load_rules
from converters.sources import SOURCES
from tests.timelines import add_user, correlation_rules_dir, forward


@pytest.fixture(scope="module")
def correlations(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return load_rules(correlation_rules_dir(tmp_path_factory.mktemp("stepwise") / "rules"))


_QUERIES: dict[int, dict[str, str]] = {}


def _queries(ruleset: RuleSet) -> dict[str, str]:
    if id(ruleset) not in _QUERIES:
        compiled = compile_target(ruleset, "sqlite").by_rule
        _QUERIES[id(ruleset)] = {d.name: compiled[d.id] for d in ruleset.docs if d.id in compiled}
    return _QUERIES[id(ruleset)]


def test_every_correlation_query_splits_into_its_steps(correlations: RuleSet) -> None:
    split = 0
    for name, query in _queries(correlations).items():
        parts = split_ctes(query)
        if not query.startswith("WITH"):
            assert parts is None, name
            continue
        assert parts is not None, name
        ctes, final = parts
        assert (_with(ctes) + final).split() == query.split(), name
        split += 1
    assert split >= 10


def test_lookup_indexes_name_the_entity_fields(ruleset: RuleSet) -> None:
    queries = compile_target(ruleset, "sqlite").by_rule
    new_ip = queries[ruleset.ref("gws_user_created_from_new_ip").id]
    assert list(lookup_indexes(new_ip)) == [("actor.email", "ipAddress", "timestamp")]


ACTORS = ("admin@contoso.onmicrosoft.com", "ADMIN@contoso.onmicrosoft.com", "ops@x.example")


def _record(minute: int, actor: str, kind: str) -> dict[str, Any]:
    if kind == "add":
        return add_user(minute, actor)
    if kind == "forward":
        return forward(minute, actor)
    return forward(minute, actor, "orders@partner.example.org")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 180),
            st.sampled_from(ACTORS),
            st.sampled_from(("add", "add", "add", "forward", "partner")),
        ),
        max_size=40,
    )
)
def test_stepwise_equals_the_whole_query(
    correlations: RuleSet, domains: DomainList, timeline: list[tuple[int, str, str]]
) -> None:
    engine = BulkEngine(domains, (f for s in SOURCES for f in s.field_names()))
    for n, (minute, actor, kind) in enumerate(timeline):
        for row in sigma_rows(_record(minute, actor, kind)):
            engine.insert(engine.known(row), [BulkEngine.cells(row, engine.known(row), 0, n + 1)])
    for name, query in _queries(correlations).items():
        whole = engine.connection.execute(query).fetchall()
        cursor, made = run_stepwise(engine.connection, query)
        try:
            assert cursor.fetchall() == whole, name
        finally:
            for table in made:
                engine.connection.execute(f"DROP TABLE temp.{table}")
