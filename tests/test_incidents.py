"""One alert per incident in `dac hunt`, on timelines: a burst is one alert per rule and group
however many windows it fills; two bursts far apart are two; two actors interleaved are one
each; a busy long-established sender is one low alert a day, not hundreds.

The engine's hits (Hunter.run) are grouped by converters/hunt/episodes.py, as `dac hunt`
does; the counts of raw hits are asserted too, to show what the grouping saves.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from converters.domains import DomainList
from converters.hunt.episodes import IncidentAlert, incidents
from converters.hunt.readers import sniff
from converters.hunt.run import Hunter, HuntResult
from converters.hunt.selection import select_rules
from converters.loading.rules import RuleSet
from converters.valuelists import ValueList
from tests.timelines import BASE, add_user, at

EVENTS = Path(__file__).resolve().parent / "events"
ADMIN = "it-admin@example.com"


def _template(name: str) -> dict[str, Any]:
    data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return dict(data["items"][0])


_SENT = _template("gws_gmail/busy_sender.json")
_CREATED = _template("gws/bulk_5_in_40min.json")
_serial = iter(range(10**9))


def _stamp(minutes: float) -> str:
    return at(minutes).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sent(minutes: float, sender: str) -> dict[str, Any]:
    """A Reports API Gmail activity: ``sender`` sent one message."""
    record = copy.deepcopy(_SENT)
    record["id"]["time"] = _stamp(minutes)
    record["id"]["uniqueQualifier"] = str(next(_serial))
    record["actor"]["email"] = sender
    (event,) = record["events"]
    info, message = event["parameters"]
    micros = int((at(minutes) - BASE).total_seconds() * 1e6 + BASE.timestamp() * 1e6)
    info["messageValue"]["parameter"][0]["intValue"] = str(micros)
    for parameter in message["messageValue"]["parameter"]:
        if parameter["name"] == "source":
            parameter["messageValue"]["parameter"][0]["value"] = sender
        if parameter["name"] == "rfc2822_message_id":
            parameter["value"] = f"<{next(_serial)}@mail.gmail.com>"
    return record


def created(minutes: float, account: str, actor: str = ADMIN) -> dict[str, Any]:
    """A Reports API admin activity: ``actor`` created ``account``."""
    record = copy.deepcopy(_CREATED)
    record["id"]["time"] = _stamp(minutes)
    record["id"]["uniqueQualifier"] = str(next(_serial))
    record["actor"]["email"] = actor
    record["events"][0]["parameters"][0]["value"] = account
    return record


@pytest.fixture(scope="module")
def hunter(ruleset: RuleSet, domains: DomainList, lists: dict[str, ValueList]) -> Hunter:
    return Hunter(ruleset, domains, select_rules(ruleset), lists)


def _hunt(hunter: Hunter, tmp_path: Path, records: list[dict[str, Any]]) -> HuntResult:
    log = tmp_path / "timeline.ndjson"
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return hunter.run([(log, sniff(log))])


def _per_rule(alerts: Any) -> Counter[str]:
    return Counter(a.doc.name for a in alerts)


def test_a_150_message_burst_from_a_new_account_is_one_alert_per_rule(
    hunter: Hunter, ruleset: RuleSet, tmp_path: Path
) -> None:
    account = "k.new@example.com"
    records = [created(0, account), *(sent(60 + m * 0.5, account) for m in range(150))]
    result = _hunt(hunter, tmp_path, records)
    # The engine holds a window per message from the 50th on: 101 per rule.
    assert _per_rule(result.alerts) == {
        "gws_new_account_mail_burst": 101,
        "gws_gmail_mail_burst": 101,
    }
    alerts = incidents(result.alerts, ruleset)
    assert _per_rule(alerts) == {"gws_new_account_mail_burst": 1, "gws_gmail_mail_burst": 1}
    levels = {a.doc.name: a.doc.level for a in alerts}
    assert levels == {"gws_new_account_mail_burst": "high", "gws_gmail_mail_burst": "low"}
    burst = next(a for a in alerts if a.doc.name == "gws_gmail_mail_burst")
    assert isinstance(burst, IncidentAlert) and burst.hits == 101
    # All the evidence, each message once, first to last.
    assert len(burst.evidence) == 150 == len({e.rowid for e in burst.evidence})
    assert burst.evidence[0].timestamp < burst.evidence[-1].timestamp
    assert burst.hit.group == {"email": account}


def test_a_20_creation_burst_is_one_alert(hunter: Hunter, ruleset: RuleSet, tmp_path: Path) -> None:
    actor = "admin@contoso.onmicrosoft.com"
    result = _hunt(hunter, tmp_path, [add_user(2 * m, actor) for m in range(20)])
    assert _per_rule(result.alerts) == {"m365_bulk_user_creation": 16}
    alerts = incidents(result.alerts, ruleset)
    assert _per_rule(alerts) == {"m365_bulk_user_creation": 1}
    (alert,) = alerts
    assert len(alert.evidence) == 20 and alert.hit.group == {"UserId": actor}


def test_two_bursts_two_hours_apart_are_two_alerts(
    hunter: Hunter, ruleset: RuleSet, tmp_path: Path
) -> None:
    accounts = iter(f"hire{n}@example.com" for n in range(100))
    records = [created(start + 5 * m, next(accounts)) for start in (0, 160) for m in range(6)]
    alerts = incidents(_hunt(hunter, tmp_path, records).alerts, ruleset)
    assert _per_rule(alerts) == {"gws_bulk_user_creation": 2}
    first, second = sorted(alerts, key=lambda a: a.evidence[0].timestamp)
    assert len(first.evidence) == len(second.evidence) == 6


def test_two_actors_interleaved_are_one_alert_each(
    hunter: Hunter, ruleset: RuleSet, tmp_path: Path
) -> None:
    actors = ("admin@contoso.onmicrosoft.com", "helpdesk@contoso.onmicrosoft.com")
    records = [add_user(3 * m, actors[m % 2]) for m in range(24)]
    alerts = incidents(_hunt(hunter, tmp_path, records).alerts, ruleset)
    assert _per_rule(alerts) == {"m365_bulk_user_creation": 2}
    assert {a.hit.group["UserId"] for a in alerts} == set(actors)
    assert all(len(a.evidence) == 12 for a in alerts)


def test_a_busy_established_sender_is_one_low_alert_a_day(
    hunter: Hunter, ruleset: RuleSet, tmp_path: Path
) -> None:
    """60 messages an hour for a day from an account created long before: the generic
    burst, low, once; the new-account rule stays quiet."""
    records = [sent(m, "orders@example.com") for m in range(24 * 60)]
    result = _hunt(hunter, tmp_path, records)
    assert len(result.alerts) > 1000  # a window per message, from the 50th on
    alerts = incidents(result.alerts, ruleset)
    assert [(a.doc.name, a.doc.level) for a in alerts] == [("gws_gmail_mail_burst", "low")]
    (alert,) = alerts
    assert len(alert.evidence) == 24 * 60
    assert alert.evidence[-1].timestamp.startswith(
        (BASE + timedelta(minutes=1439)).strftime("%Y-%m-%dT%H:%M")
    )


def test_single_event_alerts_are_one_per_entity_within_the_period(
    hunter: Hunter, ruleset: RuleSet, tmp_path: Path
) -> None:
    """Mail forwarded to a disposable domain (key: the actor, period 1h): three changes by
    one actor within the hour are one alert, a fourth two hours later another; a second
    actor's change its own."""
    from tests.timelines import forward

    one, two = "mallory@contoso.onmicrosoft.com", "trudy@contoso.onmicrosoft.com"
    records = [forward(m, one) for m in (0, 10, 50)] + [forward(170, one), forward(20, two)]
    result = _hunt(hunter, tmp_path, records)
    assert _per_rule(result.alerts) == {"m365_forwarding_disposable_domain": 5}
    alerts = incidents(result.alerts, ruleset)
    assert sorted(len(a.evidence) for a in alerts) == [1, 1, 3]
    distinct = {a.evidence[0].values["UserId"] for a in alerts}
    assert distinct == {one, two}
