"""One rule's event count swept in Python (converters.engine.sweep) gives the alerts its query
gives run whole: the same windows, groups and evidence, on random timelines of several
sources where events share a group, a time, and a window's edge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from converters.compile import compile_target
from converters.domains import DomainList
from converters.engine import sigma_rows
from converters.engine.bulk import BulkEngine, Hit
from converters.engine.sweep import counted
from converters.loading.rules import RuleSet, load_rules
from converters.sources import SOURCES
from tests.timelines import BASE, add_user, correlation_rules_dir

ACTORS = ("admin@contoso.onmicrosoft.com", "ADMIN@contoso.onmicrosoft.com", "ops@x.example")
SWEPT = {
    "entra_bulk_user_creation_by_ip",
    "gws_bulk_user_creation",
    "gws_gmail_mail_burst",
    "m365_bulk_user_creation",
    "mail_signup_burst_from_one_ip",
    "message_trace_mail_burst",
}


@pytest.fixture(scope="module")
def queries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    ruleset: RuleSet = load_rules(correlation_rules_dir(tmp_path_factory.mktemp("sweep") / "rules"))
    compiled = compile_target(ruleset, "sqlite").by_rule
    return {d.name: compiled[d.id] for d in ruleset.docs if d.id in compiled}


def test_the_single_rule_event_counts_are_swept(queries: dict[str, str]) -> None:
    assert {name for name, query in queries.items() if counted(query)} == SWEPT
    # Any other text runs as written: a step changed, the group renamed, a second rule.
    query = queries["gws_bulk_user_creation"]
    assert counted(query.replace("ORDER BY e.value", "ORDER BY e.value DESC")) is None
    assert counted(query.replace("MAX(metric)", "MIN(metric)")) is None


def _gws_create(seconds: float, actor: str) -> dict[str, Any]:
    moment = BASE + timedelta(seconds=seconds)
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "uniqueQualifier": "-1",
            "applicationName": "admin",
            "customerId": "C03az79cb",
        },
        "actor": {"callerType": "USER", "email": actor},
        "events": [
            {
                "type": "USER_SETTINGS",
                "name": "CREATE_USER",
                "parameters": [{"name": "USER_EMAIL", "value": "new@example.com"}],
            }
        ],
    }


def _key(hit: Hit) -> tuple[Any, ...]:
    return hit.window_end, hit.window_start, hit.rowids, sorted(hit.group.items())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            # Whole minutes (windows of exactly an hour end on another event) and halves.
            st.integers(0, 240).map(lambda half: half * 30.0),
            st.sampled_from(ACTORS),
            st.booleans(),
        ),
        max_size=45,
    )
)
# Five creations within the hour, the first exactly an hour before the last; then a peer.
@example([(m * 900.0, ACTORS[m % 2], True) for m in range(5)] + [(3600.0, ACTORS[2], True)])
@example([(m * 600.0, ACTORS[0], False) for m in range(7)] + [(3600.0, ACTORS[1], False)])
def test_the_sweep_gives_the_whole_query_s_alerts(
    queries: dict[str, str], domains: DomainList, timeline: list[tuple[float, str, bool]]
) -> None:
    engine = BulkEngine(domains, (f for s in SOURCES for f in s.field_names()))
    for n, (seconds, actor, gws) in enumerate(timeline):
        record = _gws_create(seconds, actor) if gws else add_user(seconds / 60, actor)
        for row in sigma_rows(record):
            engine.insert(engine.known(row), [BulkEngine.cells(row, engine.known(row), 0, n + 1)])
    for name in sorted(SWEPT):
        query = queries[name]
        cursor = engine.connection.execute(query)
        names = [d[0] for d in cursor.description]
        whole = engine._correlation_hits([dict(zip(names, r, strict=True)) for r in cursor])
        assert sorted(map(_key, engine.run(query))) == sorted(map(_key, whole)), name
