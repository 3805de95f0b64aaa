"""Rows held back for joins and counts (converters.hunt.prefilter.Join, Burst), kept out of
SQLite: appended to a file of their own, marshalled a chunk of rows at a time, and indexed in
memory by each join's value, folded as SQLite's NOCASE collation folds it (a count's index is
the caller's, converters.hunt.burstcount). Most held rows (the sign-ins of accounts no one
created, the mail of senders in no burst) are never read again; an INSERT into a table, and a
scan of it at the end, cost about twice what the append does, and one marshal and one write
per chunk of rows cost about half of one per row. At the end, the rows released are read
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
# Rows per chunk: some tens of kilobytes marshalled, one write each.
CHUNK = 512


def nocase(value: str) -> bytes:
    """``value`` as SQLite's NOCASE compares it: its UTF-8 text (a lone surrogate stored as
    U+FFFD, as the engine stores it) with ASCII letters lowered, and no others."""
    try:
        return value.encode().lower()
    except UnicodeEncodeError:
        return str(storable(value)).encode().lower()


class HeldStore:
    """``add`` each row with its joins' folded values (its number back); ``rows`` of some
    numbers; ``close``."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="dac-hunt-held-")
        self._path = Path(self._directory.name) / "joins.bin"
        self._file = self._path.open("wb")
        self._numbers: dict[tuple[str, ...], int] = {}
        self._columns: list[tuple[str, ...]] = []
        self._pending: list[tuple[int, int, Cells] | None] = []
        self._chunks = array("q")  # each written chunk's offset in the file
        self._written = 0
        self._count = 0
        # Rows marshal cannot write (a cell of a type of its own; no builder makes one): kept
        # as they are, by number.
        self._kept: dict[int, tuple[int, int, Cells]] = {}
        # Per join (its hold's index): the numbers of its rows, by folded value (None: NULL).
        self.index: dict[int, dict[bytes | None, array[int]]] = {}

    def add(
        self,
        seq: int,
        columns: tuple[str, ...],
        cells: Cells,
        keys: Iterable[tuple[int, bytes | None]],
    ) -> int:
        """The row's number (rows are numbered from 0 in the order added)."""
        number = self._numbers.get(columns)
        if number is None:
            number = self._numbers[columns] = len(self._columns)
            self._columns.append(columns)
        self._pending.append((seq, number, cells))
        row = self._count
        self._count += 1
        for hold, key in keys:
            by_key = self.index.get(hold)
            if by_key is None:
                by_key = self.index[hold] = {}
            rows = by_key.get(key)
            if rows is None:
                rows = by_key[key] = array("q")
            rows.append(row)
        if len(self._pending) >= CHUNK:
            self._write()
        return row

    def _write(self) -> None:
        pending = self._pending
        try:
            data = marshal.dumps(cast(Any, pending))
        except ValueError:
            first = self._count - len(pending)
            for n, row in enumerate(pending):
                try:
                    marshal.dumps(cast(Any, row))
                except ValueError:
                    self._kept[first + n] = cast(tuple[int, int, Cells], row)
                    pending[n] = None
            data = marshal.dumps(cast(Any, pending))
        self._chunks.append(self._written)
        self._file.write(data)
        self._written += len(data)
        self._pending = []

    def rows(self, numbers: Iterable[int]) -> Iterator[HeldRow]:
        """The rows numbered ``numbers`` (each once), in the order held."""
        if self._pending:
            self._write()
        self._file.close()
        loaded, chunk = -1, []
        with self._path.open("rb") as stream:
            for row in sorted(set(numbers)):
                if row // CHUNK != loaded:
                    loaded = row // CHUNK
                    stream.seek(self._chunks[loaded])
                    chunk = marshal.load(stream)
                found = chunk[row % CHUNK] or self._kept[row]
                seq, number, cells = found
                yield seq, self._columns[number], tuple(cells)

    def close(self) -> None:
        self._file.close()
        self._directory.cleanup()
