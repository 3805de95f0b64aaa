"""Property tests: on random timelines, the SQLite reference engine, the generated EQL on
the `eql` engine and the generated SPL's correlation stages (simulated) agree with a small,
obviously correct model of Sigma's correlation semantics: a window of `timespan` ending at
each event of a group (both ends inclusive)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.compile import compile_target
from converters.domains import DomainList
from converters.loading.rules import RuleSet, load_rules
from tests.timelines import (
    Alerts,
    add_user,
    at,
    correlation_rules_dir,
    forward,
    run_eql,
    run_spl,
    run_sqlite,
)

SPAN = 60  # minutes: both rules use 1h
THRESHOLD = 5  # m365_bulk_user_creation: gte 5
ACTORS = (
    "admin@contoso.onmicrosoft.com",
    "ADMIN@contoso.onmicrosoft.com",
    "ops@contoso.onmicrosoft.com",
)

# Distinct minutes: equal timestamps have no defined order in a sequence.
timelines = st.lists(
    st.tuples(st.integers(0, 240), st.sampled_from(ACTORS), st.booleans()),
    min_size=1,
    max_size=14,
    unique_by=lambda e: e[0],
)


@pytest.fixture(scope="module")
def queries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    rules: RuleSet = load_rules(correlation_rules_dir(tmp_path_factory.mktemp("p") / "rules"))
    result: dict[str, dict[str, str]] = {}
    for target in ("sqlite", "elastic", "splunk"):
        compiled = compile_target(rules, target)
        result[target] = {rules.by_id(i).name: q for i, q in compiled.by_rule.items()}
    return result


def _stamp(minute: int) -> str:
    return at(minute).strftime("%Y-%m-%dT%H:%M:%S")


def model_event_count(events: Sequence[tuple[int, str]]) -> Alerts:
    alerts: Alerts = set()
    for minute, actor in events:
        group = actor.lower()
        inside = [m for m, a in events if a.lower() == group and minute - SPAN <= m <= minute]
        if len(inside) >= THRESHOLD:
            alerts.add(((("UserId", group),), _stamp(minute)))
    return alerts


def model_ordered(events: Sequence[tuple[int, str, str]]) -> Alerts:
    """An alert at each forwarding event preceded, within the window, by an account addition
    of the same actor."""
    alerts: Alerts = set()
    for minute, actor, kind in events:
        if kind != "forward":
            continue
        group = actor.lower()
        if any(
            k == "add" and a.lower() == group and minute - SPAN <= m < minute for m, a, k in events
        ):
            alerts.add(((("UserId", group),), _stamp(minute)))
    return alerts


PROPERTY = settings(
    max_examples=60,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(timelines)
def test_event_count_matches_model(
    queries: dict[str, dict[str, str]], domains: DomainList, timeline: list[tuple[int, str, bool]]
) -> None:
    events = [(m, a) for m, a, _ in timeline]
    records = [add_user(m, a) for m, a in events]
    want = model_event_count(events)
    assert run_sqlite(queries["sqlite"]["m365_bulk_user_creation"], records, domains) == want
    assert run_eql(queries["elastic"]["m365_bulk_user_creation"], records, domains) == want
    assert (
        run_spl(queries["splunk"]["m365_bulk_user_creation"], queries["sqlite"], records, domains)
        == want
    )


def _last_rule_only(alerts: Alerts, events: Sequence[tuple[int, str, str]]) -> Alerts:
    """The reference engine also re-reports a completed chain at later events of the window;
    an alert per completing event is what EQL and SPL emit, so compare those."""
    ends = {(a.lower(), _stamp(m)) for m, a, k in events if k == "forward"}
    return {alert for alert in alerts if (dict(alert[0])["UserId"], alert[1]) in ends}


@PROPERTY
@given(timelines)
def test_temporal_ordered_matches_model(
    queries: dict[str, dict[str, str]], domains: DomainList, timeline: list[tuple[int, str, bool]]
) -> None:
    events = [(m, a, "add" if is_add else "forward") for m, a, is_add in timeline]
    records = [add_user(m, a) if k == "add" else forward(m, a) for m, a, k in events]
    want = model_ordered(events)
    sql = run_sqlite(queries["sqlite"]["t_account_then_forwarding"], records, domains)
    assert _last_rule_only(sql, events) == want
    spl = run_spl(
        queries["splunk"]["t_account_then_forwarding"], queries["sqlite"], records, domains
    )
    assert spl == want
    eql = run_eql(queries["elastic"]["t_account_then_forwarding"], records, domains)
    # An EQL sequence uses each event once: a second forwarding after the same addition is
    # not reported again. Every EQL alert is a model alert, and every model alert falls in
    # the window of an EQL alert for the same group (same groups, overlapping windows).
    assert eql <= want
    for group, end in want:
        assert any(
            g == group and _minutes(end) - SPAN <= _minutes(e) <= _minutes(end) for g, e in eql
        ), (group, end, eql)


def _minutes(stamp: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(stamp) - at(0).replace(tzinfo=None)).total_seconds() / 60


def test_model_sanity() -> None:
    """The model itself, on the straddling burst: alerts at the 5th and 6th creation."""
    events = [(m, ACTORS[0]) for m in (40, 48, 56, 64, 72, 80)]
    assert {end for _, end in model_event_count(events)} == {_stamp(72), _stamp(80)}
    assert model_ordered([(0, ACTORS[0], "forward"), (10, ACTORS[1], "add")]) == set()


def test_fixture_paths_exist() -> None:
    assert (Path(__file__).parent / "correlation_rules").is_dir()
