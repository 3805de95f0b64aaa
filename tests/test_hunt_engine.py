"""The hunt's engine gives the reference engine's alerts: the same as SqliteEngine over every
event, on the test suite's cases, the correlation test rules and random timelines, whether
the records are prefiltered or all loaded."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.compile import Queries
from converters.domains import DomainList
from converters.engine import SqliteEngine, sigma_rows
from converters.engine.access import field_matcher, field_reader
from converters.engine.records import canonical
from converters.hunt.prefilter import LoadPlan, rule_necessary
from converters.hunt.readers import FILE_FORMATS, sniff
from converters.hunt.run import Hunter, HuntResult
from converters.hunt.selection import select_rules
from converters.loading.rules import RuleSet, load_rules
from converters.sources import GWS_ADMIN, M365_AUDIT
from converters.valuelists import ValueList
from tests.timelines import add_user, correlation_rules_dir, forward

TESTS = Path(__file__).resolve().parent
EVENTS = TESTS / "events"
Key = tuple[str, tuple[tuple[str, str], ...], str, tuple[str, ...]]


def _records(paths: Iterable[Path]) -> list[dict[str, Any]]:
    found = []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        found += data.get("items", []) if isinstance(data, dict) else data
    return found


def _event_files(spec: str | list[str]) -> list[Path]:
    files: list[Path] = []
    for item in [spec] if isinstance(spec, str) else spec:
        path = EVENTS / item
        files += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return files


def _hunt(hunter: Hunter, paths: list[Path]) -> HuntResult:
    # The hunt's own per-file detection, as `dac hunt` uses it.
    return hunter.run([(p, sniff(p)) for p in paths])


def _hunt_keys(result: HuntResult) -> set[Key]:
    return {
        (
            a.doc.name,
            tuple(sorted(a.hit.group.items())),
            a.hit.window_end or "",
            tuple(str(e.event_id) for e in a.evidence),
        )
        for a in result.alerts
    }


def _reference_keys(
    ruleset: RuleSet, queries: dict[str, str], records: list[dict[str, Any]], domains: DomainList
) -> set[Key]:
    engine = SqliteEngine(domains)
    engine.load(row for record in records for row in sigma_rows(record))
    keys: set[Key] = set()
    for doc in (d for d in ruleset.docs if d.id in queries):
        for alert in engine.run(queries[doc.id]):
            group = tuple(sorted(alert.group.items()))
            keys.add((doc.name, group, alert.window_end or "", alert.event_ids))
    return keys


def _everything(hunter: Hunter) -> Hunter:
    hunter.plan = LoadPlan(hunter.plan.sources, everything=True)
    return hunter


def _cases() -> list[Any]:
    params = []
    for path in sorted((TESTS / "cases").glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            params.append(pytest.param(document["rule"], case, id=f"{path.stem}:{case['name']}"))
    return params


@pytest.mark.parametrize(("rule", "case"), _cases())
def test_hunt_meets_every_rule_case(
    rule: str,
    case: dict[str, Any],
    ruleset: RuleSet,
    domains: DomainList,
    lists: dict[str, ValueList],
) -> None:
    hunter = Hunter(ruleset, domains, select_rules(ruleset, [rule]), lists)
    result = _hunt(hunter, _event_files(case["events"]))
    assert len(result.alerts) == case["expect"], (case["why"], result.alerts)
    for alert in result.alerts:
        assert alert.hit.group == {k: str(v).lower() for k, v in case.get("group", {}).items()}
        assert all(e.line > 0 and e.event_id for e in alert.evidence)


def test_hunt_equals_the_reference_engine_on_every_test_event(
    ruleset: RuleSet, sqlite_queries: Queries, domains: DomainList, lists: dict[str, ValueList]
) -> None:
    paths = _event_files(["gws", "m365"])
    selected = select_rules(ruleset)  # every rule but the building blocks
    queries = {d.id: sqlite_queries.by_rule[d.id] for d in selected}
    expected = _reference_keys(ruleset, queries, _records(paths), domains)
    hunter = Hunter(ruleset, domains, selected, lists)
    prefiltered = _hunt(hunter, paths)
    assert _hunt_keys(prefiltered) == expected
    assert prefiltered.rows < prefiltered.events  # the prefilter left records out
    assert _hunt_keys(_hunt(_everything(hunter), paths)) == expected


@pytest.fixture(scope="module")
def correlations(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return load_rules(correlation_rules_dir(tmp_path_factory.mktemp("hunt") / "rules"))


ACTORS = ("admin@contoso.onmicrosoft.com", "ADMIN@contoso.onmicrosoft.com", "ops@x.example")
KINDS = ("add", "forward", "partner", "noise")


def _timeline_record(minute: int, actor: str, kind: str) -> dict[str, Any]:
    if kind == "add":
        return add_user(minute, actor)
    if kind == "forward":
        return forward(minute, actor)
    if kind == "partner":
        return forward(minute, actor, "orders@partner.example.org")
    return {**add_user(minute, actor), "Operation": "MailItemsAccessed", "Workload": "Exchange"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.sampled_from(ACTORS), st.sampled_from(KINDS)),
        max_size=16,
    )
)
def test_random_timelines_prefiltered_equal_reference(
    correlations: RuleSet, domains: DomainList, timeline: list[tuple[int, str, str]]
) -> None:
    records = [_timeline_record(*event) for event in timeline]
    hunter = _shared_hunter(correlations, domains)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "ual.json"
        path.write_text(json.dumps(records))
        result = hunter.run([(path, FILE_FORMATS["ual"])])
    assert _hunt_keys(result) == _reference_keys(correlations, hunter.queries, records, domains)


_HUNTERS: dict[int, Hunter] = {}


def _shared_hunter(ruleset: RuleSet, domains: DomainList) -> Hunter:
    """One compilation for every example."""
    if id(ruleset) not in _HUNTERS:
        # Every rule, building blocks included: the engine is compared on all of them.
        everything = sorted(ruleset.docs, key=lambda d: d.name)
        _HUNTERS[id(ruleset)] = Hunter(ruleset, domains, everything)
    return _HUNTERS[id(ruleset)]


def test_necessary_conditions_of_the_shipped_rules(ruleset: RuleSet) -> None:
    rules = {str(r.id): r for r in ruleset.fresh_collection()}

    def necessary(name: str) -> object:
        return rule_necessary(rules[ruleset.by_name(name).id])  # type: ignore[arg-type]

    assert necessary("gws_user_created") == [{"event.name": {"create_user"}}]
    assert necessary("m365_user_added") == [
        {"Workload": {"azureactivedirectory"}},
        {"Operation": {"add user."}},
    ]
    # Each branch is "operation AND disposable address": the address is no readable value.
    assert necessary("m365_forwarding_disposable_domain") == [
        {"Operation": {"set-mailbox", "new-inboxrule", "set-inboxrule"}}
    ]


@pytest.mark.parametrize("source", [GWS_ADMIN, M365_AUDIT], ids=lambda s: s.name)
def test_field_readers_give_what_the_adapters_give(source: Any) -> None:
    folder = "gws" if source is GWS_ADMIN else "m365"
    records = _records(sorted((EVENTS / folder).glob("*.json")))
    names = [*source.field_names(), "parameters.OLD_VALUE", "Parameters.DeliverToMailboxAndForward"]
    for raw in records:
        # The hunt reads fields of the canonical record (converters.engine.shapes), as here.
        record = canonical(raw)[1]
        rows = sigma_rows(record)
        for name in names:
            reader = field_reader(source.name, name)
            assert reader is not None
            assert reader(record) == [row.get(name) for row in rows], (name, record)
            values = frozenset(str(v).lower() for row in rows for v in [row.get(name)] if v)
            matcher = field_matcher(source.name, name, values)
            assert matcher is not None and matcher(record) == bool(values), (name, record)
            assert not field_matcher(source.name, name, frozenset({"no such value"}))(
                record
            ) or any(  # type: ignore[misc]
                not isinstance(row.get(name), str | None) for row in rows
            )
