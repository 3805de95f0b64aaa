"""Sign-ins held back for the never-signed-in rules (converters.hunt.holdback) and the oldest
time observed: the hunt's alerts equal the reference engine's over every record, whatever
the order, the case of the addresses, the missing addresses and the files they come in."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from converters.domains import DomainList
from converters.engine.bulk import BulkEngine
from converters.engine.records import sigma_rows
from converters.engine.sqlite_engine import SqliteEngine
from converters.hunt.readers import sniff
from converters.hunt.run import Hunter
from converters.loading.rules import RuleSet

START = datetime(2026, 11, 1, tzinfo=UTC)
# NOCASE folds ASCII letters only: "Ü" and "ü" are two addresses, in SQL as in the join store.
PEOPLE = (
    "k.wu@example.com",
    "K.Wu@Example.com",
    "n.ortiz@example.com",
    None,
    "j.müller@example.com",
    "J.MÜLLER@example.com",
)
RULES = ("gws_user_never_signed_in", "m365_user_never_signed_in", "gws_user_created_from_new_ip")


def _time(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def _activity(n: int, hours: float, app: str, actor: str | None, event: dict[str, Any]) -> Any:
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": _time(hours).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "uniqueQualifier": str(-1000 - n),
            "applicationName": app,
            "customerId": "C03az79cb",
        },
        "actor": {"callerType": "USER", **({"email": actor} if actor else {})},
        "ipAddress": f"203.0.113.{n % 3 + 1}",
        "events": [event],
    }


def _gws(n: int, hours: float, kind: str, person: str | None) -> Any:
    if kind == "create":
        parameters = [{"name": "USER_EMAIL", "value": person}] if person else []
        event = {"type": "USER_SETTINGS", "name": "CREATE_USER", "parameters": parameters}
        return _activity(n, hours, "admin", "admin@example.com", event)
    name = "login_success" if kind == "sign-in" else "login_failure"
    return _activity(n, hours, "login", person, {"type": "login", "name": name, "parameters": []})


def _ual(n: int, hours: float, kind: str, person: str | None) -> Any:
    record: dict[str, Any] = {
        "CreationTime": _time(hours).strftime("%Y-%m-%dT%H:%M:%S"),
        "Id": f"00000000-0000-4000-8000-{n:012d}",
        "RecordType": 8 if kind == "create" else 15,
        "Workload": "AzureActiveDirectory",
        "ResultStatus": "Success",
        "Operation": "Add user." if kind == "create" else "UserLoggedIn",
        "UserId": "admin@contoso.onmicrosoft.com" if kind == "create" else person,
        "ObjectId": person if kind == "create" else "00000003-0000-0000-c000-000000000000",
    }
    if kind == "noise":
        record["Operation"] = "UserLoginFailed"
    return record


def _reference(ruleset: RuleSet, hunter: Hunter, records: list[Any], domains: DomainList) -> Any:
    engine = SqliteEngine(domains)
    engine.load(row for record in records for row in sigma_rows(record))
    found = set()
    for doc in hunter.selected:
        for alert in engine.run(hunter.queries[doc.id]):
            found.add((doc.name, alert.event_ids))
    return found


_EVENT = st.tuples(
    st.floats(0, 24 * 10),  # the rules wait 7 days: most creations are decided
    st.sampled_from(["create", "sign-in", "noise"]),
    st.sampled_from(PEOPLE),
    st.sampled_from(["gws", "ual"]),
    st.integers(0, 1),  # which of two files
)


@pytest.fixture(scope="module")
def hunter(ruleset: RuleSet, domains: DomainList) -> Hunter:
    return Hunter(ruleset, domains, [ruleset.ref(name) for name in RULES])


def test_the_sign_ins_are_held_back_for_a_join(hunter: Hunter) -> None:
    assert {source for source in hunter.plan.holds} == {"gws_login", "m365_audit"}
    assert "gws_login" not in hunter.plan.sources  # only the join reads the sign-ins


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_EVENT, max_size=14))
# A sign-in in another case, and one without an address after a creation without one.
@example(
    [
        (1, "create", "K.Wu@Example.com", "gws", 0),
        (2, "sign-in", PEOPLE[0], "gws", 1),
        (3, "create", None, "gws", 0),
        (4, "sign-in", None, "gws", 1),
        (240, "noise", None, "gws", 0),
    ]
)
# Cases NOCASE does not fold: a non-ASCII letter in another case is another address.
@example(
    [
        (1, "create", PEOPLE[5], "gws", 0),
        (2, "sign-in", PEOPLE[4], "gws", 1),
        (3, "create", PEOPLE[4], "ual", 0),
        (4, "sign-in", PEOPLE[5], "ual", 1),
        (240, "noise", PEOPLE[2], "gws", 0),
    ]
)
@example(
    [
        (1, "create", "K.Wu@Example.com", "ual", 0),
        (2, "sign-in", PEOPLE[0], "ual", 1),
        (240, "noise", PEOPLE[2], "ual", 0),
    ]
)
def test_held_back_sign_ins_give_the_reference_alerts(
    hunter: Hunter, ruleset: RuleSet, domains: DomainList, timeline: list[Any]
) -> None:
    files: dict[tuple[str, int], list[Any]] = {}
    records = []
    for n, (hours, kind, person, source, file) in enumerate(timeline):
        record = (_gws if source == "gws" else _ual)(n, hours, kind, person)
        if source == "ual" and person is None and kind != "noise":
            continue  # a UAL record always names its user
        files.setdefault((source, file), []).append(record)
        records.append(record)
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for (source, file), found in sorted(files.items()):
            path = Path(scratch) / f"{source}{file}.json"
            path.write_text(json.dumps(found))
            paths.append(path)
        result = hunter.run([(p, sniff(p)) for p in paths])
    hunted = {(a.doc.name, tuple(str(e.event_id) for e in a.evidence)) for a in result.alerts}
    assert hunted == _reference(ruleset, hunter, records, domains)
    assert len(result.alerts) == len(hunted)
    # Released rows are counted in the files they came from.
    assert sum(f.loaded for f in result.files) == result.rows


def test_held_rows_are_kept_in_a_file_removed_after_the_release(
    hunter: Hunter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The held rows live in a database file of their own (memory stays bounded however
    many sign-ins are held), gone once they are released."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    records = [_gws(n, 1 + n, "sign-in", PEOPLE[n % 3]) for n in range(5)]
    path = tmp_path / "gws.json"
    path.write_text(json.dumps([_gws(9, 0, "create", PEOPLE[0]), *records]))
    seen: list[list[str]] = []
    original = BulkEngine.release

    def spy(engine: BulkEngine, *more: Any) -> dict[int, int]:
        seen.append([p.name for p in (tmp_path / "tmp").iterdir()])
        return original(engine, *more)

    monkeypatch.setattr(BulkEngine, "release", spy)
    result = hunter.run([(path, sniff(path))])
    assert len(seen) == 1 and [n[:14] for n in seen[0]] == ["dac-hunt-held-"]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert result.rows < result.events  # sign-ins of accounts not created were left out


def test_the_oldest_time_read_bounds_a_history(
    hunter: Hunter, ruleset: RuleSet, domains: DomainList, tmp_path: Path
) -> None:
    """A creation 31 days after the first record read (a sign-in no rule loads) has 30 days
    of history behind it: the oldest time is the record's, not the first loaded row's."""
    records = [_gws(0, 0, "noise", "k.wu@example.com"), _gws(1, 24 * 31, "create", "a@x.example")]
    path = tmp_path / "gws.json"
    path.write_text(json.dumps(records))
    result = hunter.run([(path, sniff(path))])
    expected = _reference(ruleset, hunter, records, domains)
    assert any(name == "gws_user_created_from_new_ip" for name, _ids in expected)
    assert {a.doc.name for a in result.alerts} == {name for name, _ids in expected}
