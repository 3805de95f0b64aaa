"""Rows held back for an absence rule's join (converters.hunt.prefilter.Join): built as the
records are read, kept in a table of their own, and moved into the engine's table once every
file has been read, only those whose value some row of the rule's own source holds.

The join is SQL, as the absence query's is: ``IN`` over the NOCASE column compares as its
``IS`` does, and a NULL joins where the key source holds a NULL (``NULL IS NULL``). The keys
are every loaded row of that source, a superset of the rule's own events: no row the query
could join is dropped. Rows of other sources (and the released rows' order) are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from converters.engine.adapters import SOURCE
from converters.engine.bulk import JOINS, BulkEngine
from converters.engine.sqlite_engine import TABLE, _quote
from converters.hunt.prefilter import Join, LoadPlan, Test

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
        self.joins: list[Join] = []
        for source, tests in plan.join_tests().items():
            for test, join in tests:
                self.tests.setdefault(source, []).append((test, 1 << len(self.joins)))
                self.joins.append(join)
        # The held table's columns: those of every source held.
        self._held = tuple(dict.fromkeys(c for s in self.tests for c in columns_of(s)))
        self._batch: dict[tuple[str, ...], list[Cells]] = {}
        self._size = 0

    def __bool__(self) -> bool:
        return bool(self.joins)

    def admits(self, source: str, record: Mapping[str, Any]) -> int:
        """A mask of the joins whose held-back condition the record meets (0: none)."""
        mask = 0
        for test, bit in self.tests.get(source, ()):
            if test(record):
                mask |= bit
        return mask

    def hold(self, columns: tuple[str, ...], mask: int, cells: Cells) -> None:
        """A row, its cells in ``columns`` (``columns_of`` its source; BulkEngine.cells)."""
        self._batch.setdefault(columns, []).append((*cells, mask))
        self._size += 1
        if self._size >= _BATCH:
            self._flush()

    def release(self) -> dict[int, int]:
        """Move the joined rows into the engine's table; rows moved per file index."""
        self._flush()
        if not self.joins:
            return {}
        return self.engine.release(" OR ".join(map(self._condition, range(len(self.joins)))))

    def _flush(self) -> None:
        for columns, rows in self._batch.items():
            self.engine.hold(columns, rows, self._held)
        self._batch.clear()
        self._size = 0

    def _condition(self, index: int) -> str:
        join, bit = self.joins[index], 1 << index
        names = self.engine.known([join.column, join.key_column])
        if len(names) < 2 or names[0] not in self._held:
            # a field the table lacks: every row it held back is released
            return f"(h.{JOINS} & {bit})"
        value, key = map(_quote, names)
        source = "'" + join.key_source.replace("'", "''") + "'"
        keys = f"FROM {TABLE} WHERE {SOURCE} = {source}"
        return (
            f"(h.{JOINS} & {bit} AND (h.{value} IN (SELECT {key} {keys}) "
            f"OR (h.{value} IS NULL AND EXISTS (SELECT 1 {keys} AND {key} IS NULL))))"
        )
