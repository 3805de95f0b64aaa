"""Rows held back (converters.hunt.prefilter.Hold): built as the records are read, kept out
of the engine's table, and moved into it once every file has been read, only those a
selected rule can use.

A join (an absence rule's: a sign-in read only to tell whether a created account signed in)
keeps the rows whose value some loaded row of the key source holds, compared as the absence
query's ``IS`` on the NOCASE table compares: ASCII letters without case, and a NULL joining
a NULL. The keys are every loaded row of that source, a superset of the rule's own events:
no row the query could join is dropped.

A count (an event count over one rule: the mail-burst rules) keeps the rows in a window of
their group that reaches the threshold, counted over the held rows and the table's together
(converters.hunt.burstcount, with a margin; converters.engine.eventcount reads the count
back from its compiled query): each window that qualifies keeps all its rows.

The rows wait in a file (converters.hunt.heldstore), indexed by their joins' folded values and
their counts' groups and times. A row the store cannot take (a value neither text nor NULL, a
time not in the rows' format; no shipped source builds one) waits in a SQLite table and is
released whatever it was held for, with every row of a count it shares with the store. Every
row held has a place in the order held; the rows released are moved in that order, after
the rows loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from converters.engine.adapters import SOURCE, TIMESTAMP
from converters.engine.bulk import BulkEngine
from converters.engine.sqlite_engine import TABLE, _quote
from converters.hunt.burstcount import GroupRows, group_rows, released, row_seconds
from converters.hunt.heldstore import HeldRow, HeldStore, nocase
from converters.hunt.prefilter import Burst, Hold, Join, LoadPlan, Test

Cells = tuple[object, ...]
_BATCH = 20_000


class HeldBack:
    """``admits(source, record)``, then ``hold`` for each of its rows; ``release()``."""

    def __init__(
        self,
        engine: BulkEngine,
        plan: LoadPlan,
        columns_of: Callable[[str], tuple[str, ...]],
    ) -> None:
        self.engine = engine
        self.tests: dict[str, list[tuple[Test, int]]] = {}
        self.holds: list[Hold] = []
        for source, tests in plan.hold_tests(columns_of).items():
            for test, hold in tests:
                self.tests.setdefault(source, []).append((test, 1 << len(self.holds)))
                self.holds.append(hold)
        # The held table's columns: those of every source held.
        self._held = tuple(dict.fromkeys(c for s in self.tests for c in columns_of(s)))
        self._batch: dict[tuple[str, ...], list[Cells]] = {}
        self._size = 0
        self._store: HeldStore | None = None
        self._seq = 0  # rows held so far
        # Per (columns, mask) of a row the store can take: each hold's index, the place of
        # its value (a join's) or group (a count's) among the cells (-1: not a column of the
        # row's, a NULL), and of its time (a count's; -1 for a join).
        self._places: dict[tuple[tuple[str, ...], int], list[tuple[int, int, int]]] = {}
        # Per count (its hold's index): each group's held rows, their times and numbers in
        # the store.
        self._counts: dict[int, dict[bytes, GroupRows]] = {}
        # The holds some row was held for in SQLite: a count with rows on both sides is
        # counted on neither, every row it held is released.
        self._tabled = 0

    def __bool__(self) -> bool:
        return bool(self.holds)

    def admits(self, source: str, record: Any) -> int:
        """A mask of the holds (joins, counts) whose held-back condition the record (a
        rowwise source's row: its cells) meets; 0: none."""
        mask = 0
        for test, bit in self.tests.get(source, ()):
            if test(record):
                mask |= bit
        return mask

    def hold(self, columns: tuple[str, ...], mask: int, cells: Cells) -> None:
        """A row, its cells in ``columns`` (``columns_of`` its source; BulkEngine.cells)."""
        seq = self._seq
        self._seq += 1
        if self._stored(seq, columns, mask, cells):
            return
        self._tabled |= mask
        self._batch.setdefault(columns, []).append((seq, *cells))
        self._size += 1
        if self._size >= _BATCH:
            self._flush()

    def _stored(self, seq: int, columns: tuple[str, ...], mask: int, cells: Cells) -> bool:
        """Whether the row went to the store: not when a value it is joined or grouped on is
        other than text or NULL, or its time is not in the rows' format (SQLite would read
        those as stored)."""
        places = self._places.get((columns, mask))
        if places is None:
            places = self._places[(columns, mask)] = [
                self._place(columns, n) for n in range(len(self.holds)) if mask & (1 << n)
            ]
        keys: list[tuple[int, bytes | None]] = []
        groups: list[tuple[int, bytes, float]] = []
        for n, place, time in places:
            value = cells[place] if place >= 0 else None
            if value is not None and type(value) is not str:
                return False
            if time < 0:
                keys.append((n, None if value is None else nocase(value)))
            elif value is not None:  # a NULL group is in no window
                moment = row_seconds(cells[time])
                if moment is None:
                    return False
                groups.append((n, nocase(value), moment))
        if self._store is None:
            self._store = HeldStore()
        row = self._store.add(seq, columns, cells, keys)
        for n, group, moment in groups:
            by_group = self._counts.get(n)
            if by_group is None:
                by_group = self._counts[n] = {}
            rows = by_group.get(group)
            if rows is None:
                rows = by_group[group] = group_rows()
            rows[0].append(moment)
            rows[1].append(row)
        return True

    def _place(self, columns: tuple[str, ...], index: int) -> tuple[int, int, int]:
        hold = self.holds[index]
        # A join's field, or a count's as its query quotes it (`name`), spelt as the table
        # spells it (SQLite's names ignore case); the time is always a column (ENGINE_COLUMNS).
        if isinstance(hold, Join):
            field, time = hold.column, -1
        else:
            field, time = hold.count.field[1:-1].replace("``", "`"), columns.index(TIMESTAMP)
        names = self.engine.known([field])
        return index, columns.index(names[0]) if names and names[0] in columns else -1, time

    def release(self) -> dict[int, int]:
        """Move the joined rows into the engine's table; rows moved per file index."""
        self._flush()
        if not self.holds:
            return {}
        try:
            return self._release()
        finally:
            # The counts' times and numbers are spent: the rules and the alerts that follow
            # make the hunt's peak (at 100,000 alerts, 27 MB less without them).
            self._counts.clear()
            if self._store is not None:
                self._store.close()
                self._store = None

    def _release(self) -> dict[int, int]:
        # A row held in SQLite (one the store cannot take) is released whatever it was held
        # for: such rows are rare, and more rows than needed change no alert.
        return self.engine.release(self._joined())

    def _joined(self) -> list[HeldRow]:
        """The rows of the store whose value some row of the join's key source holds, or
        that lie in a window of a count that reaches its threshold."""
        if self._store is None:
            return []
        numbers: list[int] = []
        for n, groups in self._counts.items():
            hold = self.holds[n]
            assert isinstance(hold, Burst)
            if self._tabled & (1 << n):
                numbers += (row for _, rows in groups.values() for row in rows)
                continue
            count = hold.count
            table = self._table_groups(hold)
            numbers += released(groups, table, count.seconds, count.threshold)
        for n, by_key in self._store.index.items():
            keys = self._keys(n)
            if keys is None:  # a field the table lacks: every row it held back is released
                numbers += (row for found in by_key.values() for row in found)
                continue
            for key in keys & by_key.keys():
                numbers += by_key[key]
        return list(self._store.rows(numbers))

    def _table_groups(self, hold: Burst) -> list[tuple[bytes, float]]:
        """The count's rows in the engine's table: group and time, by the query's own SQL."""
        count = hold.count
        found = self.engine.connection.execute(
            f"SELECT lower({count.field}), {count.ts} FROM {TABLE} WHERE {count.flag}"
        )
        return [(nocase(str(g)), float(t)) for g, t in found if g is not None and t is not None]

    def _keys(self, index: int) -> set[bytes | None] | None:
        """The join's key values, folded (None: a NULL); None where a field is not in the
        table (then every row the join held is released)."""
        hold = self.holds[index]
        assert isinstance(hold, Join)
        names = self.engine.known([hold.column, hold.key_column])
        if len(names) < 2 or names[0] not in self._held:
            return None
        found = self.engine.connection.execute(
            f"SELECT DISTINCT {_quote(names[1])} FROM {TABLE} WHERE {SOURCE} = ?",
            (hold.key_source,),
        )
        return {None if k is None else nocase(str(k)) for (k,) in found}

    def _flush(self) -> None:
        for columns, rows in self._batch.items():
            self.engine.hold(columns, rows, self._held)
        self._batch.clear()
        self._size = 0
