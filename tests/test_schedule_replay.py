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

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.compile import Queries
from converters.domains import DomainList
from converters.loading.rules import RuleSet
from converters.sources import SOURCES
from tests.dist_helpers import built_dist
from tests.replay.harness import Replayer
from tests.replay.plant import Planted, logged_in
from tests.test_incidents import sent
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
    name: str = ""  # where one rule has several scenarios

    @property
    def key(self) -> str:
        return self.name or self.rule

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


def _incidents() -> Scenario:
    """One alert per rule and group per incident (converters/incidents.py): a burst of 20,
    two actors interleaved, a burst again after the suppression period."""
    plants = [
        *_burst("twenty", [2 * m for m in range(20)], [m * 9 for m in range(20)], "twenty"),
        *_burst("ann", [600 + 6 * m for m in range(6)], [0, LAG, 61, 7, 95, 29], "ann"),
        *_burst("bob", [603 + 6 * m for m in range(6)], [170, 0, 29, LAG, 7, 61], "bob"),
        *_burst("carl", [1200 + 5 * m for m in range(5)], [0, 61, 7, 29, 95], "carl-1"),
        # Ten hours later: past Splunk's 255 minutes and Kibana's EQL suppression (window,
        # lag and a look-back: converters/targets/kibana.py).
        *_burst("carl", [1800 + 5 * m for m in range(5)], [7, 0, LAG, 29, 61], "carl-2"),
    ]
    return Scenario(
        "m365_bulk_user_creation",
        plants,
        expect={"twenty": 1, "ann": 1, "bob": 1, "carl-1": 1, "carl-2": 1},
        name="m365_bulk_user_creation-incidents",
    )


def _forwarding_per_actor() -> Scenario:
    """A single-event rule: one alert per actor within the rule's period (1h), however
    late each record comes; the same actor again after the period alerts again."""
    mallory = "mallory@contoso.onmicrosoft.com"
    plants = [
        Planted(forward(0, mallory), 0, "mallory"),
        Planted(forward(10, mallory), 7, "mallory"),
        Planted(forward(20, mallory), 3, "mallory"),
        Planted(forward(300, mallory), 61, "mallory-later"),
        Planted(forward(305, mallory), 0, "mallory-later"),
    ]
    return Scenario(
        "m365_forwarding_disposable_domain",
        plants,
        expect={"mallory": 1, "mallory-later": 1},
        name="m365_forwarding_disposable_domain-per-actor",
    )


def _mail_burst() -> Scenario:
    """150 messages in 75 minutes from a new account, each up to Gmail's 240-minute lag late:
    one alert per target (the hunt: one, tests/test_incidents.py)."""
    account = "k.new@example.com"
    lag = next(s for s in SOURCES if s.name == "gws_gmail").delivery_lag_minutes
    plants = [Planted(sent(60 + m / 2, account), (m * 7) % lag, "burst") for m in range(150)]
    return Scenario(
        "gws_gmail_mail_burst", plants, expect={"burst": 1}, name="gws_gmail_mail_burst-150"
    )


SCENARIOS = {
    s.key: s
    for s in (
        _forwarding(),
        _bulk(),
        _escalation(),
        _new_terms(),
        _absence(),
        _incidents(),
        _forwarding_per_actor(),
        _mail_burst(),
    )
}


@pytest.fixture(scope="module")
def replayer(
    tmp_path_factory: pytest.TempPathFactory,
    ruleset: RuleSet,
    sqlite_queries: Queries,
    domains: DomainList,
) -> Replayer:
    return Replayer(built_dist(tmp_path_factory), ruleset, sqlite_queries, domains)


def _span(scenario: Scenario) -> tuple[float, float]:
    start = T0 - 3600 - T0 % 3600
    return start, start + scenario.days * 86400


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_splunk_schedule_alerts_each_attack_once(name: str, replayer: Replayer) -> None:
    scenario = SCENARIOS[name]
    counts, notables = replayer.splunk(scenario.rule, scenario.plants, _span(scenario))
    assert counts == scenario.expected("splunk"), notables


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_kibana_schedule_alerts_each_attack_once(name: str, replayer: Replayer) -> None:
    scenario = SCENARIOS[name]
    counts, alerts = replayer.kibana(scenario.rule, scenario.plants, _span(scenario))
    assert counts == scenario.expected("kibana"), alerts


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    delays=st.lists(st.integers(0, LAG), min_size=6, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_any_delays_within_the_lag_give_one_escalation(
    delays: list[int], seed: int, replayer: Replayer
) -> None:
    """Whatever the order and lateness of the records (each within the lag) and however late
    each run starts, the escalation alerts exactly once on both targets."""
    name = "m365_escalation_bulk_and_disposable"
    plants = _burst("oscar", [0, 8, 16, 24, 32], delays[:5], "oscar")
    plants.append(Planted(forward(70, "oscar@contoso.onmicrosoft.com"), delays[5], "oscar"))
    span = _span(Scenario(name, plants, expect={}))
    counts, notables = replayer.splunk(name, plants, span, seed)
    assert counts == {"oscar": 1}, notables
    counts, alerts = replayer.kibana(name, plants, span, seed)
    assert counts == {"oscar": 1}, alerts
