"""A record's rows as the engine's table stores them (``BulkEngine.cells``), built by the
format's compiled builder where it has one (converters.engine.fastcells), by its rows
otherwise, and whenever the builder declines a record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from converters.engine.adapters import Keep, keep_of
from converters.engine.bulk import BulkEngine
from converters.engine.rowtools import Cells, CellsOf, Inspected, RecordFormat


def cells_of(fmt: RecordFormat, source: str, columns: tuple[str, ...], keep: Keep) -> CellsOf:
    """``[BulkEngine.cells(row, columns, file, line) for row in fmt.rows_for(record,
    inspected, keep)]`` for records of ``source``, as a function of (record, inspected,
    file, line)."""
    rows_for, cells = fmt.rows_for, BulkEngine.cells

    def by_rows(
        record: Mapping[str, Any], inspected: Inspected, file: int, line: int
    ) -> list[Cells]:
        return [cells(row, columns, file, line) for row in rows_for(record, inspected, keep)]

    compiled = fmt.compile_cells
    # The builders read the columns' own keep: any other is the rows' business.
    if compiled is None or keep != keep_of(columns):
        return by_rows
    return compiled(source, columns, by_rows) or by_rows
