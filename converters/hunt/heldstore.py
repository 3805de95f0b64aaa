"""Rows held back for joins and counts (converters.hunt.prefilter.Join, Burst), kept out of
SQLite: each row appended, marshalled, to a file of its own, and indexed in memory by each
join's value, folded as SQLite's NOCASE collation folds it (a count's index is the caller's,
converters.hunt.burstcount). Most held rows (the sign-ins of accounts no one created, the
mail of senders in no burst) are never read again; an INSERT into a table, and a scan of it
at the end, cost about twice what the append does. At the end, the rows released are read
back, in the order held.
"""

from __future__ import annotations

import marshal
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from converters.engine.bulk import storable

Cells = tuple[object, ...]
# One held row read back: its place in the order held, its columns, its cells.
HeldRow = tuple[int, tuple[str, ...], Cells]


def nocase(value: str) -> bytes:
    """``value`` as SQLite's NOCASE compares it: its UTF-8 text (a lone surrogate stored as
    U+FFFD, as the engine stores it) with ASCII letters lowered, and no others."""
    try:
        return value.encode().lower()
    except UnicodeEncodeError:
        return str(storable(value)).encode().lower()


class HeldStore:
    """``add`` each row with its joins' folded values; ``rows`` of some offsets; ``close``."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="dac-hunt-held-")
        self._path = Path(self._directory.name) / "joins.bin"
        self._file = self._path.open("wb")
        self._offset = 0
        self._numbers: dict[tuple[str, ...], int] = {}
        self._columns: list[tuple[str, ...]] = []
        # Per join (its hold's index): the offsets of its rows, by folded value (None: NULL).
        self.index: dict[int, dict[bytes | None, array[int]]] = {}

    def add(
        self,
        seq: int,
        columns: tuple[str, ...],
        cells: Cells,
        keys: Iterable[tuple[int, bytes | None]],
    ) -> int | None:
        """The row's offset; None, and nothing kept, for a row marshal cannot write (a cell
        of a type of its own): the caller holds it in SQLite."""
        number = self._numbers.get(columns)
        if number is None:
            number = self._numbers[columns] = len(self._columns)
            self._columns.append(columns)
        try:
            # Cells are text, numbers or NULL as built; anything else is refused here.
            data = marshal.dumps(cast(Any, (seq, number, cells)))
        except ValueError:
            return None
        self._file.write(data)
        offset = self._offset
        for hold, key in keys:
            by_key = self.index.get(hold)
            if by_key is None:
                by_key = self.index[hold] = {}
            offsets = by_key.get(key)
            if offsets is None:
                offsets = by_key[key] = array("q")
            offsets.append(offset)
        self._offset += len(data)
        return offset

    def rows(self, offsets: Iterable[int]) -> Iterator[HeldRow]:
        """The rows at ``offsets`` (each once), in the order held."""
        self._file.close()
        with self._path.open("rb") as stream:
            for offset in sorted(set(offsets)):
                stream.seek(offset)
                seq, number, cells = marshal.load(stream)
                yield seq, self._columns[number], tuple(cells)

    def close(self) -> None:
        self._file.close()
        self._directory.cleanup()
