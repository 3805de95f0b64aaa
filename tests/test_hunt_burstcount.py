"""Held rows decided in Python (converters.hunt.burstcount, .holdback): the times read off the
rows' cells, the windows that reach the threshold with the table's rows counted in, a count
whose rows went to SQLite as well as to the store released whole, a join's field found as
SQLite finds it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.domains import DomainList
from converters.engine.adapters import ENGINE_COLUMNS, moment_timestamp
from converters.engine.bulk import BulkEngine
from converters.hunt.burstcount import GroupRows, group_rows, released, row_seconds
from converters.hunt.holdback import HeldBack
from converters.hunt.prefilter import Join
from converters.hunt.run import Hunter
from converters.hunt.selection import select_rules
from converters.loading.rules import RuleSet
from converters.sources import SOURCES


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_a_cell_s_time_is_its_moment(moment: datetime) -> None:
    aware = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert row_seconds(moment_timestamp(aware)) == (aware - epoch).total_seconds()


@pytest.mark.parametrize("cell", [None, 5, "2026-11-20T10:00:00", "2026-11-20T10:00:00.000Z"])
def test_a_cell_in_another_shape_has_no_time(cell: object) -> None:
    assert row_seconds(cell) is None


def _rows(pairs: list[tuple[float, int]]) -> GroupRows:
    rows = group_rows()
    for moment, number in pairs:
        rows[0].append(moment)
        rows[1].append(number)
    return rows


def test_a_window_reaching_the_threshold_releases_its_rows_and_no_other() -> None:
    # Five of one sender within the hour (the first exactly an hour before the last), one
    # more two hours on; four of another.
    held = {
        b"a@x": _rows(
            [(0.0, 10), (900.0, 11), (1800.0, 12), (2700.0, 13), (3600.0, 14), (10800.0, 15)]
        ),
        b"b@x": _rows([(0.0, 20), (60.0, 21), (120.0, 22), (180.0, 23)]),
    }
    assert sorted(released(held, [], 3600, 5)) == [10, 11, 12, 13, 14]
    # A row of the table counts: b's four held rows and one loaded make five.
    assert sorted(released(held, [(b"b@x", 200.0)], 3600, 5)) == [
        10,
        11,
        12,
        13,
        14,
        20,
        21,
        22,
        23,
    ]
    # A window of 59 minutes holds four of a's: none released.
    assert released(held, [], 3540, 5) == []


def _mail_held(ruleset: RuleSet, domains: DomainList) -> tuple[HeldBack, tuple[str, ...], int]:
    """The hunt's held-back store for the Gmail burst rule: it, the rows' columns and the
    bit of the rule's count."""
    hunter = Hunter(ruleset, domains, select_rules(ruleset, ["gws_gmail_mail_burst"]))
    engine = BulkEngine(domains, (f for s in SOURCES for f in s.field_names()))
    declared = [f for s in SOURCES if s.name == "gws_gmail" for f in s.field_names()]
    columns = engine.known([*ENGINE_COLUMNS, *declared])
    held = HeldBack(engine, hunter.plan, lambda source: columns)
    [(_test, bit)] = held.tests["gws_gmail"]
    return held, columns, bit


def test_a_count_held_on_both_sides_is_released_whole(
    ruleset: RuleSet, domains: DomainList
) -> None:
    """A row the store cannot take (here a group that is not text) goes to SQLite; the
    count's windows are then read on neither side alone: every row it held is loaded."""
    held, columns, bit = _mail_held(ruleset, domains)
    stamp = "2026-11-20T10:00:00.000"
    for n, sender in enumerate(["k.wu@example.com", "k.wu@example.com", 7, 7]):
        row = {"timestamp": stamp, "dac_source": "gws_gmail", "email": sender}
        row["event_info.mail_event_type"] = "1"
        held.hold(columns, bit, (*(row.get(c) for c in columns), 0, n + 1))
    assert held.release() == {0: 4}  # four of the threshold's 50, all loaded


def test_the_counts_are_dropped_once_released(ruleset: RuleSet, domains: DomainList) -> None:
    """The held rows' times and numbers are spent at the release: kept, they would weigh on
    the rules and alerts that make the hunt's peak."""
    held, columns, bit = _mail_held(ruleset, domains)
    for n in range(3):
        row = {"timestamp": f"2026-11-20T10:0{n}:00.000", "dac_source": "gws_gmail"}
        row |= {"email": "k.wu@example.com", "event_info.mail_event_type": "1"}
        held.hold(columns, bit, (*(row.get(c) for c in columns), 0, n + 1))
    assert held._counts  # held in the store, counted per group
    assert held.release() == {}  # three of the threshold's 50: none loaded
    assert held._counts == {}


def test_a_join_s_field_is_found_whatever_its_case(ruleset: RuleSet, domains: DomainList) -> None:
    """SQLite's names ignore case: a join on ``ACTOR.EMAIL`` reads the ``actor.email`` cell,
    as the SQL did (a sign-in of the created account is loaded, another is not)."""
    hunter = Hunter(ruleset, domains, select_rules(ruleset, ["gws_user_never_signed_in"]))
    [(condition, join)] = hunter.plan.holds["gws_login"]
    assert isinstance(join, Join)
    shouting = Join(join.column.upper(), join.key_source, join.key_column)
    plan = dataclasses.replace(hunter.plan, holds={"gws_login": [(condition, shouting)]})
    engine = BulkEngine(domains, (f for s in SOURCES for f in s.field_names()))
    engine.insert(
        ("timestamp", "dac_source", "parameters.USER_EMAIL"),
        [("2026-11-20T09:00:00.000", "gws_admin", "k.wu@example.com", 0, 1)],
    )
    declared = [f for s in SOURCES if s.name == "gws_login" for f in s.field_names()]
    columns = engine.known([*ENGINE_COLUMNS, *declared])
    held = HeldBack(engine, plan, lambda source: columns)
    [(_test, bit)] = held.tests["gws_login"]
    for n, actor in enumerate(["K.Wu@example.com", "n.ortiz@example.com"]):
        row = {"timestamp": "2026-11-20T10:00:00.000", "dac_source": "gws_login"}
        row |= {"event.name": "login_success", "actor.email": actor}
        held.hold(columns, bit, (*(row.get(c) for c in columns), 0, n + 2))
    assert held.release() == {0: 1}
    (loaded,) = engine.connection.execute(
        "SELECT `actor.email` FROM logs WHERE dac_source = 'gws_login'"
    ).fetchone()
    assert loaded == "K.Wu@example.com"
