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
from converters.engine.groupprune import pruning
from converters.engine.stepwise import (
    _grouped_measures,
    _lean_metrics,
    _unique_steps,
    _with,
    lookup_indexes,
    run_stepwise,
    split_ctes,
)
from converters.loading.rules import RuleSet, load_rules
from converters.sources import SOURCES
from tests.timelines import add_user, correlation_rules_dir, forward


@pytest.fixture(scope="module")
def correlations(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return load_rules(correlation_rules_dir(tmp_path_factory.mktemp("stepwise") / "rules"))


ACTORS = ("admin@contoso.onmicrosoft.com", "ADMIN@contoso.onmicrosoft.com", "ops@x.example")
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
    [(columns, scope)] = lookup_indexes(new_ip)
    assert columns == ("actor.email", "ipAddress", "timestamp")
    assert scope is not None and scope.startswith("dac_source LIKE 'gws\\_admin' ESCAPE '\\'")
    assert scope.endswith("CREATE\\_USER' ESCAPE '\\'")


def test_rules_read_the_partial_field_indexes(ruleset: RuleSet, domains: DomainList) -> None:
    """The field indexes hold only rows with a value: a rule's test of the field (=, IN,
    LIKE) implies one, so SQLite still reads them."""
    queries = compile_target(ruleset, "sqlite").by_rule
    engine = BulkEngine(domains, (f for s in SOURCES for f in s.field_names()))
    engine.index(["dac_source", "Operation", "event.name"])
    for name, column in (
        ("m365_forwarding_disposable_domain", "Operation"),
        ("gws_users_bulk_upload", "event.name"),
        ("zeek_dns_disposable_email_service", "dac_source"),
    ):
        plan = engine.connection.execute("EXPLAIN QUERY PLAN " + queries[ruleset.ref(name).id])
        assert any("USING INDEX dac_i" in r[3] and f"({column}" in r[3] for r in plan), name


def test_single_rule_steps_lose_their_distinct(correlations: RuleSet) -> None:
    """The rewrites the property test below holds to the whole query apply to its rules:
    one rule's matches, events, event count windows and anchors lose their DISTINCT; an
    event count's measure groups its metrics instead of looking each anchor up."""
    rewritten: dict[str, str] = {}
    for query in _queries(correlations).values():
        parts = split_ctes(query)
        if parts is not None:
            steps = _unique_steps(parts[0])
            steps.update(_lean_metrics([(n, steps.get(n, b)) for n, b in parts[0]], parts[1]))
            steps.update(_grouped_measures([(n, steps.get(n, b)) for n, b in parts[0]]))
            rewritten.update(steps)
    for step in ("_n0_matches", "_n0_events", "_n0_metrics", "_t0_anchors", "_t0_measured"):
        assert any(name.endswith(step) for name in rewritten), step
    assert all("DISTINCT" not in s for s in rewritten.values())
    # Also over several rules' events (a node of many arms keeps its DISTINCT steps).
    measured = [s for n, s in rewritten.items() if n.endswith("_measured")]
    assert measured and all(" m WHERE " not in s for s in measured)


def test_temporal_correlations_keep_only_the_groups_every_rule_reaches(
    correlations: RuleSet,
) -> None:
    """The property test below holds the pruning to the whole query; it applies to these
    rules (temporal nodes whose every rule must be seen), and to no other."""
    pruned = set()
    for name, query in _queries(correlations).items():
        parts = split_ctes(query)
        raw = [n for n, _ in parts[0] if n.endswith("_raw0")] if parts else []
        if parts is not None and raw and pruning(parts[0], parts[1], raw[0]) is not None:
            pruned.add(name)
    assert pruned == {
        "gws_escalation_bulk_and_disposable",
        "m365_escalation_bulk_and_disposable",
        "t_account_then_forwarding",
        "t_bulk_then_forwarding",
    }


def _login(minute: int, account: str) -> dict[str, Any]:
    return {**add_user(minute, account), "Operation": "UserLoggedIn", "ObjectId": account}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 60 * 24 * 50),
            st.sampled_from(ACTORS),
            st.sampled_from(("203.0.113.45", "198.51.100.7")),
            st.booleans(),
        ),
        max_size=30,
    )
)
def test_lookups_over_partial_indexes_find_the_same_rows(
    ruleset: RuleSet, domains: DomainList, timeline: list[tuple[int, str, str, bool]]
) -> None:
    """History and absence lookups read an index of their scope's rows only: the rows found
    are those of the query run without it."""
    queries = compile_target(ruleset, "sqlite").by_rule
    engine = BulkEngine(domains, (f for s in SOURCES for f in s.field_names()))
    for n, (minute, actor, ip, login) in enumerate(timeline):
        record = _login(minute, actor) if login else add_user(minute, actor, ACTORS[n % 3], ip)
        for row in sigma_rows(record):
            engine.insert(engine.known(row), [BulkEngine.cells(row, engine.known(row), 0, n + 1)])
    for name in ("m365_user_added_from_new_ip", "m365_user_never_signed_in"):
        query = queries[ruleset.ref(name).id]
        whole = sorted(row[0] for row in engine.connection.execute(query))
        assert sorted(hit.rowids[0] for hit in engine.run(query)) == whole, name
    partial = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'"
    assert len(engine.connection.execute(partial).fetchall()) == 2


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
