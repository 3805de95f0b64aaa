"""Schedule replay: the built searches and rules, run on each SIEM's clock over attacks whose
records reach the SIEM late, alert once per attack.

Records are planted in the Unified Audit Log's format with index delays up to the source's
declared delivery lag (``DataSource.delivery_lag_minutes``, 180 minutes for the UAL after
Microsoft's "60 to 90 minutes, not guaranteed"). The Splunk side replays savedsearches.conf
(tests/replay/splunk.py), the Kibana side rules.ndjson (tests/replay/kibana.py), each from the
built package, so the schedule, windows, index-time selection and suppression under test are
the shipped ones. Every kind of schedule is covered: a single-event search, a correlation, a
correlation of correlations, new terms and an absence.

A record later than the declared lag is the known limit (README, "Late data"): the
expectations below say, per target, what happens to it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.compile import Queries
from converters.domains import DomainList
from converters.loading.rules import RuleSet
from converters.sources import SOURCES
from converters.writers.conf import conf_decode
from tests import spl_sim
from tests.dist_helpers import built_dist, kibana_rules, read_conf
from tests.replay import kibana, splunk
from tests.replay.plant import Planted, Store, logged_in
from tests.timelines import BASE, add_user, forward

LAG = next(s for s in SOURCES if s.name == "m365_audit").delivery_lag_minutes
# Index delays within the lag, the lag itself included; and one beyond it.
WITHIN = [0, 7, 29, 61, 95, 133, 170, LAG]
BEYOND = LAG + 90
DAY = 24 * 60
T0 = BASE.timestamp()
PARTNER = "invoices@fabrikam.example"


@dataclass(frozen=True)
class Scenario:
    rule: str
    plants: list[Planted]
    # Alerts per attack label: both targets, then where a target differs.
    expect: dict[str, int]
    splunk: dict[str, int] = field(default_factory=dict)
    kibana: dict[str, int] = field(default_factory=dict)
    days: float = 1.5

    def expected(self, target: str) -> dict[str, int]:
        return {**self.expect, **(self.splunk if target == "splunk" else self.kibana)}


def _forwarding() -> Scenario:
    plants = [
        Planted(forward(37 * i, f"attacker{i}@contoso.onmicrosoft.com"), delay, f"fwd-{delay}")
        for i, delay in enumerate(WITHIN)
    ]
    plants.append(Planted(forward(400, "ap@contoso.onmicrosoft.com", PARTNER), 120, "partner"))
    plants.append(Planted(forward(420, "late@contoso.onmicrosoft.com"), BEYOND, "beyond"))
    return Scenario(
        "m365_forwarding_disposable_domain",
        plants,
        expect={f"fwd-{d}": 1 for d in WITHIN} | {"partner": 0},
        # Splunk reads the event-time range lag + slot back: an older record is not read.
        # Kibana reads by event.ingested, so a record is read however late it comes.
        splunk={"beyond": 0},
        kibana={"beyond": 1},
    )


def _burst(actor: str, minutes: list[float], delays: list[float], label: str) -> list[Planted]:
    return [
        Planted(add_user(m, f"{actor}@contoso.onmicrosoft.com"), d, label)
        for m, d in zip(minutes, delays, strict=True)
    ]


def _bulk() -> Scenario:
    plants = [
        # Six accounts in 50 minutes, arriving out of order: one burst, one alert.
        *_burst("mallory", [0, 10, 20, 30, 40, 50], [170, 0, LAG, 61, 7, 133], "mallory"),
        # Five, all as late as the lag allows.
        *_burst("trudy", [300, 305, 310, 315, 320], [LAG] * 5, "trudy"),
        # Four accounts in an hour: below the threshold.
        *_burst("helpdesk", [600, 620, 640, 659], [95, 0, 29, 170], "helpdesk"),
        # The burst completes only with a record later than the lag.
        *_burst("eve", [900, 910, 920, 930, 940], [0, 0, 0, 0, BEYOND], "beyond"),
    ]
    return Scenario(
        "m365_bulk_user_creation",
        plants,
        expect={"mallory": 1, "trudy": 1, "helpdesk": 0, "beyond": 0},
    )


def _escalation() -> Scenario:
    plants = [
        *_burst("oscar", [0, 8, 16, 24, 32], [61, LAG, 0, 133, 29], "oscar"),
        Planted(forward(70, "oscar@contoso.onmicrosoft.com"), 170, "oscar"),
        # Bulk creation and forwarding to a partner's address: no escalation.
        *_burst("hr", [400, 408, 416, 424, 432], [7, 95, 170, 0, LAG], "hr"),
        Planted(forward(450, "hr@contoso.onmicrosoft.com", PARTNER), 61, "hr"),
    ]
    return Scenario("m365_escalation_bulk_and_disposable", plants, expect={"oscar": 1, "hr": 0})


def _new_terms() -> Scenario:
    actor = "admin@contoso.onmicrosoft.com"
    known, new = "198.51.100.20", "203.0.113.45"
    plants = [Planted(add_user(-day * DAY, actor, ip=known), 0, "history") for day in (20, 10, 2)]
    plants += [
        # Two additions from a new address; the earlier record arrives after the later one.
        Planted(add_user(0, actor, ip=new), 150, "new-address"),
        Planted(add_user(20, actor, ip=new), 5, "new-address"),
        # The usual address again, late: not new.
        Planted(add_user(60, actor, ip=known), LAG, "history"),
    ]
    return Scenario("m365_user_added_from_new_ip", plants, expect={"new-address": 1, "history": 0})


def _absence() -> Scenario:
    admin = "admin@contoso.onmicrosoft.com"
    week = 7 * DAY

    def account(name: str) -> str:
        return f"{name}@contoso.onmicrosoft.com"

    plants = [
        Planted(add_user(0, admin, account("ghost")), 170, "ghost"),
        Planted(add_user(5, admin, account("newhire")), 0, "newhire"),
        Planted(logged_in(6 * DAY, account("newhire")), 175, "newhire"),
        Planted(add_user(10, admin, account("lastminute")), 61, "lastminute"),
        Planted(logged_in(10 + week - 10, account("lastminute")), LAG, "lastminute"),
        # Signed in just before the wait ended, but the record came later than the lag:
        # the searches decide before it arrives.
        Planted(add_user(15, admin, account("beyond")), 0, "beyond"),
        Planted(logged_in(15 + week - 10, account("beyond")), BEYOND, "beyond"),
    ]
    return Scenario(
        "m365_user_never_signed_in",
        plants,
        expect={"ghost": 1, "newhire": 0, "lastminute": 0, "beyond": 1},
        days=9,
    )


SCENARIOS = {s.rule: s for s in (_forwarding(), _bulk(), _escalation(), _new_terms(), _absence())}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_dist(tmp_path_factory)


@pytest.fixture(scope="module")
def stanzas(dist: Path) -> dict[str, dict[str, str]]:
    return _stanzas(dist)


@pytest.fixture(scope="module")
def dist_for_property(
    dist: Path, ruleset: RuleSet, sqlite_queries: Queries, domains: DomainList
) -> tuple[Path, RuleSet, Queries, DomainList]:
    return dist, ruleset, sqlite_queries, domains


def _stanzas(dist: Path) -> dict[str, dict[str, str]]:
    (conf,) = (dist / "splunk").glob("*/default/savedsearches.conf")
    return {
        title: {key: conf_decode(value) for key, value in stanza.items()}
        for title, stanza in read_conf(conf).items()
    }


@pytest.fixture(scope="module")
def rules_by_id(dist: Path) -> dict[str, dict[str, Any]]:
    return {r["rule_id"]: r for r in kibana_rules(dist)}


def _selection(sql: str) -> str:
    """A new-terms or absence rule's own selection inside its reference query."""
    match = re.match(r"SELECT e\.\* FROM \((SELECT \* FROM logs WHERE .*?)\) AS e WHERE ", sql)
    assert match, sql
    return match.group(1)


def _splunk_leaves(
    store: Store, ruleset: RuleSet, sql: Queries, name: str, search: str
) -> dict[str, list[dict[str, Any]]]:
    doc = ruleset.by_name(name)

    def events(rule: str, query: str | None = None) -> list[dict[str, Any]]:
        return store.splunk_events(ruleset, rule, query or sql.by_rule[ruleset.by_name(rule).id])

    if doc.absence:
        own = events(name, _selection(sql.by_rule[doc.id]))
        return {"dac_created": own, "dac_followup": events(str(doc.absence["rule"]))}
    if doc.new_terms:
        return {name: events(name, _selection(sql.by_rule[doc.id]))}
    if doc.is_correlation:
        return {leaf: events(leaf) for leaf in spl_sim.branch_evals(search)}
    return {name: events(name)}


def _span(scenario: Scenario) -> tuple[float, float]:
    start = T0 - 3600 - T0 % 3600
    return start, start + scenario.days * 86400


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_splunk_schedule_alerts_each_attack_once(
    name: str,
    stanzas: dict[str, dict[str, str]],
    ruleset: RuleSet,
    sqlite_queries: Queries,
    domains: DomainList,
) -> None:
    scenario = SCENARIOS[name]
    store = Store(scenario.plants, domains)
    stanza = stanzas[ruleset.by_name(name).title]
    leaves = _splunk_leaves(store, ruleset, sqlite_queries, name, stanza["search"])
    notables = splunk.replay(stanza, leaves, *_span(scenario))
    counts = _counts(store, [n.row.get("dac_event_id") for n in notables])
    assert counts == scenario.expected("splunk"), _describe(notables)


def _kibana_alerts(
    rule: dict[str, Any],
    rules_by_id: dict[str, dict[str, Any]],
    store: Store,
    ruleset: RuleSet,
    sqlite_queries: Queries,
    span: tuple[float, float],
) -> list[kibana.KibanaAlert]:
    documents = store.elastic_documents()
    read: list[kibana.KibanaAlert] = []
    if ".alerts-security.alerts-" in rule["query"]:
        for rule_id in re.findall(r'"([0-9a-f-]{36})"', rule["query"]):
            read += _kibana_alerts(
                rules_by_id[rule_id], rules_by_id, store, ruleset, sqlite_queries, span
            )
    selection: set[str] = set()
    if rule["type"] == "new_terms":
        doc = ruleset.by_id(rule["rule_id"])
        sql = _selection(sqlite_queries.by_rule[doc.id])
        selection = {i for a in store.engine.run(sql) for i in a.event_ids}
    return kibana.replay(
        rule, documents, *span, domains=store.domains, selection=selection, alerts=read
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_kibana_schedule_alerts_each_attack_once(
    name: str,
    rules_by_id: dict[str, dict[str, Any]],
    ruleset: RuleSet,
    sqlite_queries: Queries,
    domains: DomainList,
) -> None:
    scenario = SCENARIOS[name]
    store = Store(scenario.plants, domains)
    rule = rules_by_id[ruleset.by_name(name).id]
    alerts = _kibana_alerts(rule, rules_by_id, store, ruleset, sqlite_queries, _span(scenario))
    labels = {p.attack for p in scenario.plants}
    found: list[str | None] = []
    for alert in alerts:
        if alert.event_ids:
            found.append(alert.event_ids[0])
        else:  # an aggregating ES|QL row: its group names the attack
            found.append(_label_of_row(alert.fields, store, labels))
    counts = _counts(store, found)
    assert counts == scenario.expected("kibana"), alerts


def _label_of_row(row: Any, store: Store, labels: set[str]) -> str | None:
    """The event id of a record of the attack whose account or actor the row's group is."""
    values = {str(v).lower() for v in row.values() if isinstance(v, str)}
    for event_id, attack in store.attack_of.items():
        row_of = store.engine.event(event_id)
        names = {str(row_of.get(k, "")).lower() for k in ("UserId", "ObjectId")}
        if attack in labels and names & values:
            return event_id
    return None


def _counts(store: Store, event_ids: list[str | None]) -> dict[str, int]:
    """Alerts per attack label, every planted label present (zero where none alerted)."""
    counts: Counter[str] = Counter({p.attack: 0 for p in store.plants})
    for event_id in event_ids:
        assert event_id is not None, "an alert that names no planted record"
        counts[store.attack_of[event_id]] += 1
    return dict(counts)


def _describe(notables: list[splunk.Notable]) -> str:
    return "\n".join(
        f"{n.scheduled}: {n.row.get('dac_event_id')} {n.row.get('UserId')}" for n in notables
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    delays=st.lists(st.integers(0, LAG), min_size=6, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_any_delays_within_the_lag_give_one_escalation(
    delays: list[int], seed: int, dist_for_property: tuple[Path, RuleSet, Queries, DomainList]
) -> None:
    """Whatever the order and lateness of the records (each within the lag) and however late
    each run starts, the escalation alerts exactly once on both targets."""
    dist, ruleset, sqlite_queries, domains = dist_for_property
    name = "m365_escalation_bulk_and_disposable"
    plants = _burst("oscar", [0, 8, 16, 24, 32], delays[:5], "oscar")
    plants.append(Planted(forward(70, "oscar@contoso.onmicrosoft.com"), delays[5], "oscar"))
    scenario = Scenario(name, plants, expect={"oscar": 1})
    store = Store(plants, domains)
    stanza = _stanzas(dist)[ruleset.by_name(name).title]
    leaves = _splunk_leaves(store, ruleset, sqlite_queries, name, stanza["search"])
    notables = splunk.replay(stanza, leaves, *_span(scenario), seed=seed)
    assert len(notables) == 1, _describe(notables)
    rules = {r["rule_id"]: r for r in kibana_rules(dist)}
    rule = rules[ruleset.by_name(name).id]
    alerts = _kibana_alerts(rule, rules, store, ruleset, sqlite_queries, _span(scenario))
    assert len(alerts) == 1, alerts
