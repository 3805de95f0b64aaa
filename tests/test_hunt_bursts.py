"""Rows tested one by one and sent mail held back for its bursts (converters.hunt.prefilter
``rowwise`` and ``Burst``, converters.engine.eventcount): the hunt's alerts are the reference
engine's over every event, on every test event folder and on random mail timelines around the
thresholds, while the table holds only the rows that can matter."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from converters.compile import compile_target
from converters.domains import DomainList
from converters.engine import SqliteEngine
from converters.engine.eventcount import count_of
from converters.hunt.limits import DEFAULT_LIMITS
from converters.hunt.prefilter import Burst, _readers
from converters.hunt.readers import FileFormat, open_log, sniff
from converters.hunt.run import Hunter
from converters.hunt.selection import select_rules
from converters.loading.rules import RuleSet
from converters.valuelists import ValueList
from tests.test_hunt_engine import _hunt_keys as _keys

EVENTS = Path(__file__).resolve().parent / "events"
Key = tuple[str, tuple[tuple[str, str], ...], str, tuple[str, ...]]


def _rows(files: list[tuple[Path, FileFormat]]) -> list[dict[str, Any]]:
    """Every row of every record, as the hunt's readers read the files (the reference is
    the engine's semantics over all of them, not the parsing)."""
    rows = []
    for path, fmt in files:
        stream, _ = open_log(path)
        with stream:
            for _line, record in fmt.read(stream, DEFAULT_LIMITS):
                assert not isinstance(record, str), (path, record)
                rows += fmt.record.rows(fmt.record.canonical(record))
    return rows


def _reference(hunter: Hunter, rows: list[dict[str, Any]], domains: DomainList) -> set[Key]:
    engine = SqliteEngine(domains)
    engine.load(rows)
    keys: set[Key] = set()
    for doc in hunter.selected:
        for alert in engine.run(hunter.queries[doc.id]):
            group = tuple(sorted(alert.group.items()))
            keys.add((doc.name, group, alert.window_end or "", alert.event_ids))
    return keys


@pytest.mark.parametrize("folder", sorted(p.name for p in EVENTS.iterdir() if p.is_dir()))
def test_every_event_folder_gives_the_reference_alerts(
    folder: str, ruleset: RuleSet, domains: DomainList, lists: dict[str, ValueList]
) -> None:
    files = [(p, sniff(p)) for p in sorted((EVENTS / folder).rglob("*")) if p.is_file()]
    hunter = Hunter(ruleset, domains, select_rules(ruleset), lists)
    result = hunter.run(files)
    assert all(f.error is None and not f.skipped for f in result.files), result.files
    expected = _reference(hunter, _rows(files), domains)
    assert _keys(result) == expected
    if folder in ("gws_gmail", "gws_login"):
        assert result.rows < result.events  # rows were left out, by their rows' tests


def test_the_shipped_event_counts_are_read_back(ruleset: RuleSet) -> None:
    """Every single-rule event count is recognised, with its window and threshold."""
    queries = compile_target(ruleset, "sqlite").by_rule
    burst = count_of(queries[ruleset.ref("gws_gmail_mail_burst").id])
    assert burst is not None and (burst.seconds, burst.threshold) == (3600, 50)
    assert "`event_info.mail_event_type`='1'" in burst.flag and burst.field == "`email`"
    bulk = count_of(queries[ruleset.ref("gws_bulk_user_creation").id])
    assert bulk is not None and bulk.threshold == 5
    # A correlation of correlations, or a temporal one, is no single rule's count.
    assert count_of(queries[ruleset.ref("gws_new_account_mail_burst").id]) is None
    assert count_of(queries[ruleset.ref("gws_escalation_bulk_and_disposable").id]) is None


def test_sent_mail_is_held_for_its_bursts_only(ruleset: RuleSet, domains: DomainList) -> None:
    hunter = Hunter(ruleset, domains, select_rules(ruleset))
    held = {type(h).__name__ for _c, h in hunter.plan.holds.get("gws_gmail", [])}
    assert held == {"Burst"}
    # Named, the building block reads every sent message: nothing is held back for it.
    named = Hunter(ruleset, domains, select_rules(ruleset, ["gws_gmail_mail_sent"]))
    assert not any(isinstance(h, Burst) for _c, h in named.plan.holds.get("gws_gmail", []))


# Case differences group together (ASCII only, as SQLite's lower()): Ñ and ñ do not.
SENDERS = ("n.ortiz@example.com", "N.Ortiz@example.com", "k.wu@example.com", "Ñ@example.com")


def _sent(second: float, sender: str, n: int, received: bool = False) -> dict[str, Any]:
    """A Reports API Gmail activity: ``sender`` sent (or received) a message at ``second``
    after 08:00."""
    whole, fraction = divmod(second, 1)
    moment = f"2026-11-20T{8 + int(whole) // 3600:02d}:{int(whole) % 3600 // 60:02d}:"
    moment += f"{int(whole) % 60:02d}.{int(fraction * 1000):03d}Z"
    kind = "2" if received else "1"  # a received message is not counted
    return {
        "kind": "admin#reports#activity",
        "id": {"time": moment, "uniqueQualifier": f"-{900000 + n}", "applicationName": "gmail"},
        "actor": {"callerType": "USER", "email": sender},
        "ipAddress": "185.220.101.7",
        "events": [
            {
                "type": "delivery_type",
                "name": "delivery",
                "parameters": [
                    {
                        "name": "event_info",
                        "messageValue": {
                            "parameter": [{"name": "mail_event_type", "intValue": kind}]
                        },
                    }
                ],
            }
        ],
    }


def _created(second: float, account: str) -> dict[str, Any]:
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": f"2026-11-20T0{7 + int(second) // 3600}:{int(second) % 3600 // 60:02d}:00.000Z",
            "uniqueQualifier": "-1",
            "applicationName": "admin",
        },
        "actor": {"callerType": "USER", "email": "admin@example.com"},
        "ipAddress": "203.0.113.9",
        "events": [
            {
                "type": "USER_SETTINGS",
                "name": "CREATE_USER",
                "parameters": [{"name": "USER_EMAIL", "value": account}],
            }
        ],
    }


_HUNTERS: dict[int, Hunter] = {}


_EDGE = [100.0 + 72 * n for n in range(48)]  # 48 messages between the two ends


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            # Seconds after 08:00 on a grid of halves: windows close exactly on a row too.
            st.integers(0, 2 * 4000).map(lambda half: half / 2),
            st.sampled_from((*SENDERS, "ñ@example.com")),
            st.sampled_from((False,) * 9 + (True,)),  # now and then a received message
        ),
        min_size=40,
        max_size=140,
    ),
    st.booleans(),
)
# 50 messages in exactly an hour, both ends included; then the first one half a second early.
@example([(t, SENDERS[n % 2], False) for n, t in enumerate([0.0, *_EDGE, 3600.0])], True)
@example([(t, SENDERS[0], False) for t in [0.0, *_EDGE, 3600.5]], False)
def test_bursts_held_back_give_the_reference_alerts(
    ruleset: RuleSet,
    domains: DomainList,
    timeline: list[tuple[float, str, bool]],
    created: bool,
) -> None:
    _check(ruleset, domains, timeline, created)


def test_fifty_messages_in_an_hour_to_the_second_are_a_burst(
    ruleset: RuleSet, domains: DomainList
) -> None:
    """The examples above raise the bursts (the property test meets alerts, not only quiet
    timelines), and half a second more does not."""
    edge = [(t, SENDERS[n % 2], False) for n, t in enumerate([0.0, *_EDGE, 3600.0])]
    names = {name for name, *_ in _check(ruleset, domains, edge, True)}
    assert names == {"gws_gmail_mail_burst", "gws_new_account_mail_burst"}
    late = [(t, SENDERS[0], False) for t in [0.0, *_EDGE, 3600.5]]
    assert not _check(ruleset, domains, late, True)


def _check(
    ruleset: RuleSet, domains: DomainList, timeline: list[tuple[float, str, bool]], created: bool
) -> set[Key]:
    """The hunt's alerts over the timeline equal the reference engine's; those alerts."""
    if id(ruleset) not in _HUNTERS:
        names = ["gws_gmail_mail_burst", "gws_new_account_mail_burst"]
        _HUNTERS[id(ruleset)] = Hunter(ruleset, domains, select_rules(ruleset, names))
    hunter = _HUNTERS[id(ruleset)]
    records = [_sent(*event[:2], n, event[2]) for n, event in enumerate(timeline)]
    if created:
        records.insert(0, _created(1800, "n.ortiz@example.com"))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "gws.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        files = [(path, sniff(path))]
        result = hunter.run(files)
        expected = _reference(hunter, _rows(files), domains)
    assert _keys(result) == expected
    return expected


def test_a_count_is_held_back_only_when_nothing_else_reads_its_rule(ruleset: RuleSet) -> None:
    """Who reads a base rule's events: a correlation of correlations reads its children's
    alerts; a correlation over an absence rule reads, through it, the follow-up's events."""
    burst = ruleset.ref("gws_new_account_mail_burst")
    pairs = {(reader.name, base.name) for reader, base in _readers(ruleset, burst)}
    assert pairs == {
        ("gws_new_account_mail_burst", "gws_user_created"),
        ("gws_gmail_mail_burst", "gws_gmail_mail_sent"),
    }
    absence = ruleset.ref("gws_user_never_signed_in")
    assert {b.name for _r, b in _readers(ruleset, absence)} == {
        "gws_user_never_signed_in",
        "gws_login_success",
    }
