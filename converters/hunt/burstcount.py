"""Which rows held back for an event count (converters.hunt.prefilter.Burst) its query can
use, decided in Python: those in a window of their group whose count reaches the threshold.

A held row is counted with its group folded as SQLite's lower() folds it (ASCII letters
only: converters.hunt.heldstore.nocase) and its time read from its timestamp cell, the
rows' own format; the rows of the engine's table with the query's own SQL. Each side may be
a hair off the query's time (its milliseconds through julianday), so a window is counted
over its width plus a second either side, and a window that qualifies releases its rows a
second further back still: every window the query finds holds the threshold here too, and
all its rows are released. Extra rows are harmless: a window that does not qualify over
every row cannot over fewer. Counting a row that the rule's condition would not select (the
test that held it is a necessary condition) only adds to a count: harmless too.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from datetime import datetime

_EPOCH = datetime(1970, 1, 1)
_MARGIN = 1.0  # seconds: far more than the drift of a millisecond's rounding

# One group's held rows: their times and their numbers in the store, in step. Two arrays
# rather than a (time, number) tuple per row: a fifth of the memory (the 200,000 sent
# messages held at 1M events took 27 MB as tuples), and 5% of the hunt's time in a paired
# measure, as long-lived small objects among the records' short-lived ones.
GroupRows = tuple["array[float]", "array[int]"]


def group_rows() -> GroupRows:
    """An empty group: ``rows[0].append(time); rows[1].append(number)`` per row."""
    return array("d"), array("q")


def row_seconds(stamp: object) -> float | None:
    """Seconds since the epoch of a timestamp cell (``2026-11-20T10:00:00.000``, UTC, as
    adapters.moment_timestamp writes it); None for any other value."""
    if type(stamp) is not str or len(stamp) != 23 or stamp[10:11] != "T":
        return None
    try:
        return (datetime.fromisoformat(stamp) - _EPOCH).total_seconds()
    except ValueError:
        return None


def released(
    held: dict[bytes, GroupRows],
    table: Iterable[tuple[bytes, float]],
    seconds: int,
    threshold: int,
) -> list[int]:
    """The held rows (their numbers, from ``held``: per group, the rows' times and numbers)
    in a window that reaches ``threshold``, counted with the table's rows (group, time)."""
    groups: dict[bytes, list[tuple[float, int]]] = {}
    for group, moment in table:
        groups.setdefault(group, []).append((moment, -1))
    found: list[int] = []
    for group, (moments, numbers) in held.items():
        entries = sorted([*zip(moments, numbers, strict=True), *groups.get(group, ())])
        if len(entries) >= threshold:
            found += _covered(entries, seconds, threshold)
    return found


def _covered(entries: list[tuple[float, int]], seconds: int, threshold: int) -> list[int]:
    """One group's rows in time order -> the held ones (number >= 0) in a window that
    qualifies: each row ends a window; the ranges released are marked, then read once."""
    times = [moment for moment, _ in entries]
    size = len(times)
    cover = [0] * (size + 1)
    low = high = back = 0
    for end in times:
        while times[low] < end - seconds - _MARGIN:
            low += 1
        while high + 1 < size and times[high + 1] <= end + _MARGIN:
            high += 1
        if high - low + 1 >= threshold:
            while times[back] < end - seconds - 2 * _MARGIN:
                back += 1
            cover[back] += 1
            cover[high + 1] -= 1
    found = []
    running = 0
    for at in range(size):
        running += cover[at]
        if running and entries[at][1] >= 0:
            found.append(entries[at][1])
    return found
