"""The hunt builds only the row keys its rules read (``RecordFormat.rows_for`` with a
``Keep``, or their cells straight: converters.engine.cells) and reads a row's timestamp off
the record's own string when it is written as the rows write it. All must give, key for
key, what the full rows give: checked on every captured-shape fixture and example record,
and on any JSON hypothesis makes up (the compiled cells: tests/test_hunt_cells.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.engine.adapters import RecordFormatError, keep_of, stamp_of
from converters.engine.bulk import BulkEngine
from converters.engine.cells import cells_of
from converters.engine.records import canonical, load_records
from converters.engine.rowtools import Cells, flatten, iso_time, row_time
from converters.hunt.readers import FILE_FORMATS, open_log, sniff
from converters.sources import SOURCES

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted((REPO / "tests" / "events").rglob("*.json"))
EXAMPLES = sorted(p for p in (REPO / "examples").iterdir() if p.suffix != ".csv")
# Every field a rule may name, and names no source declares.
NAMES = sorted({f for s in SOURCES for f in s.field_names()})
ENGINE = ("timestamp", "dac_source", "dac_event_id")


def _example_records(path: Path) -> list[dict[str, Any]]:
    stream, _position = open_log(path)
    with stream:
        found = [r for _l, r in FILE_FORMATS[sniff(path).name].read(stream)]
    return [r for r in found if isinstance(r, dict)]


def _records() -> list[tuple[str, dict[str, Any]]]:
    out = [(p.name, r) for p in FIXTURES for r in load_records(p)]
    return out + [(p.name, r) for p in EXAMPLES for r in _example_records(p)]


def _column_sets(rows: list[dict[str, Any]], seed: int) -> list[tuple[str, ...]]:
    """The engine's columns with: every declared field; every key the full rows hold; and
    random subsets of both (parents without their children, children without parents)."""
    keys = sorted({k for row in rows for k in row} | set(NAMES))
    pick = random.Random(seed)
    subsets = [tuple(pick.sample(keys, k=min(len(keys), pick.randint(1, 6)))) for _ in range(6)]
    return [(*ENGINE, *keys), *((*ENGINE, *s) for s in subsets)]


@pytest.mark.parametrize(
    ("name", "record"), _records(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_kept_rows_hold_what_full_rows_hold(name: str, record: dict[str, Any]) -> None:
    fmt, shaped = canonical(record)
    inspected = fmt.inspect(shaped)
    full = fmt.rows(shaped)
    for columns in _column_sets(full, hash(name) % 1000):
        kept = fmt.rows_for(shaped, inspected, keep_of(columns))
        assert len(kept) == len(full) == inspected[1]
        for whole, part in zip(full, kept, strict=True):
            assert {c: whole.get(c) for c in columns} == {c: part.get(c) for c in columns}
            assert part["timestamp"] == row_time(inspected[2])


@pytest.mark.parametrize(
    ("name", "record"), _records(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_compiled_cells_are_the_kept_rows_cells(name: str, record: dict[str, Any]) -> None:
    """The hunt's cells (converters.engine.cells: a compiled builder for Workspace and UAL
    records) are those of the kept rows, with the source's declared columns (the hunt's,
    every rule read) and the random sets; the plain records of the hunt's busiest sources
    never fall back to the rows."""
    fmt, shaped = canonical(record)
    inspected = fmt.inspect(shaped)
    source = inspected[0]
    declared = (*ENGINE, *(f for s in SOURCES if s.name == source for f in s.field_names()))
    hunt = tuple(c for c in dict.fromkeys(declared) if c not in _DESTINATION)
    for columns in (hunt, *_column_sets(fmt.rows(shaped), hash(name) % 1000)):
        keep = keep_of(columns)
        rows = fmt.rows_for(shaped, inspected, keep)
        expected = [BulkEngine.cells(row, columns, 2, 9) for row in rows]
        assert cells_of(fmt, source, columns, keep)(shaped, inspected, 2, 9) == expected
    if fmt.compile_cells is not None and source in _PLAIN:

        def refuse(*_args: object) -> list[Cells]:
            raise AssertionError(f"{name}: a {source} record fell back to its rows")

        build = fmt.compile_cells(source, hunt, refuse)
        assert build is not None
        assert build(shaped, inspected, 2, 9) == [
            BulkEngine.cells(row, hunt, 2, 9)
            for row in fmt.rows_for(shaped, inspected, keep_of(hunt))
        ]


# Gmail's recipients are a multiMessageValue, which the compiled builder leaves to the rows
# when a rule reads them (none does yet).
_DESTINATION = ("message_info.destination.address",)
_PLAIN = ("gws_login", "gws_gmail", "gws_admin", "m365_audit")


_KEY = st.sampled_from(["a", "b", "a.b", "b.a", "c", "a.b.c", "events", "id"])
_SCALAR = st.none() | st.booleans() | st.integers() | st.text(max_size=3)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEY, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_JSON, st.lists(st.sampled_from(["a", "b", "a.b", "a.b.c", "b.a", "c", "a.c"]), max_size=4))
def test_flatten_with_keep_agrees_on_every_kept_key(value: object, columns: list[str]) -> None:
    # Dotted keys collide with nested ones ({"a.b": 1} and {"a": {"b": 2}}): same order, same
    # winner, same multivalue appends.
    full = flatten(value)
    part = flatten(value, keep=keep_of(columns))
    assert {c: full.get(c) for c in columns} == {c: part.get(c) for c in columns}


# From the second day of year 1: a layout with a zone five hours west must stay in range.
_MOMENT = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(_MOMENT, st.sampled_from(["Z-ms", "naive-s", "naive-us", "offset", "Z-s", "Z-us"]))
def test_a_stamp_read_off_the_string_is_the_formatted_one(moment: datetime, layout: str) -> None:
    text = {
        "Z-ms": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "naive-s": f"{moment.replace(tzinfo=None, microsecond=0).isoformat()}",
        "naive-us": moment.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "offset": moment.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        "Z-s": moment.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "Z-us": moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
    }[layout]
    try:
        parsed = iso_time(text)
    except ValueError:
        return  # %Y writes years under 1000 without padding: not ISO-8601, never a stamp
    assert stamp_of(text, parsed) == row_time(parsed)
    assert len(row_time(parsed)) == 23


def test_stamps_of_other_strings_are_formatted() -> None:
    moment = datetime(2026, 11, 2, 8, 0, 5, 604000, tzinfo=UTC)
    assert stamp_of("2026-11-02T08:00:05.604Z", moment) == "2026-11-02T08:00:05.604"
    assert stamp_of("2026-11-02T08:00:05", moment.replace(microsecond=0)) == (
        "2026-11-02T08:00:05.000"
    )
    # Same length, other layouts: formatted from the datetime, never sliced.
    assert stamp_of("2026-11-02T03:00:05-05:00", moment) == "2026-11-02T08:00:05.604"
    assert stamp_of("2026-11-02 08:00:05.604Z", moment) == "2026-11-02T08:00:05.604"
    assert stamp_of(1764057605, moment) == "2026-11-02T08:00:05.604"
    naive = datetime(2026, 11, 2, 8, 0, 5)
    assert stamp_of(None, naive) == "2026-11-02T08:00:05.000"


@settings(max_examples=300, deadline=None)
@given(_MOMENT, st.sampled_from(["seconds", "milliseconds", "microseconds", "minutes", "hours"]))
def test_a_naive_time_is_utc(moment: datetime, spec: str) -> None:
    naive = moment.replace(tzinfo=None)
    text = naive.isoformat(timespec=spec)
    expected = datetime.fromisoformat(text).replace(tzinfo=UTC)  # the timespec truncates
    assert iso_time(text) == expected and iso_time(text).tzinfo is UTC
    assert iso_time(naive.date().isoformat()) == datetime(
        naive.year, naive.month, naive.day, tzinfo=UTC
    )


def _reference_time(value: str) -> datetime:
    """iso_time by its definition: fromisoformat, no zone being UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789-:T+Z.", min_size=19, max_size=19),
        _MOMENT.map(lambda m: m.replace(tzinfo=None).isoformat(timespec="seconds")),
        # 19 characters with a zone of their own: "2026-11-02T08+01:00"
        st.builds(
            lambda m, hours: m.astimezone(timezone(timedelta(hours=hours))).isoformat("T", "hours"),
            _MOMENT,
            st.integers(-12, 12),
        ),
    )
)
def test_a_time_of_nineteen_characters_parses_as_its_definition(text: str) -> None:
    """The one-parse path for UAL's CreationTime (19 characters, no zone) agrees with
    fromisoformat on every string of that length, those with a zone of their own included."""
    try:
        expected = _reference_time(text)
    except ValueError:
        with pytest.raises(RecordFormatError):
            iso_time(text)
        return
    except OverflowError:  # year 1 moved back by its zone: the record is skipped as the same
        with pytest.raises(OverflowError):
            iso_time(text)
        return
    assert iso_time(text) == expected and iso_time(text).tzinfo is UTC
