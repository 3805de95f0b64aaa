"""The cells of the hunt's columns, built straight from the records of its busiest sources
(Workspace activities: converters.engine.fastgws; UAL records, here) without the rows: a
builder per data source and columns, compiled once, reads only the fields they name.

A builder gives what ``BulkEngine.cells`` gives of each row ``RecordFormat.rows_for`` builds
under ``keep_of(columns)``, cell for cell, on records of the plain shape it assumes; on any
other (a kept key holding a dot, a list or another type where an object is expected, a
nested message under a kept name) it raises ``Fallback``, and builds the rows instead
(``by_rows``). So it does on any failure: the rows fail in their own words. Every call the
rows make that may fail on a kept value is made here too, or falls back: no record is
loaded here that the rows would have skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from converters.engine.adapters import (
    ENGINE_COLUMNS,
    SigmaValue,
    _scalar,
    is_mapping,
    keep_of,
    stamp_of,
)
from converters.engine.rowtools import Cells, CellsOf, Inspected
from converters.sources import M365_AUDIT, DataSource

_UAL = M365_AUDIT.name  # a module constant: an attribute lookup per record costs a cell
FALLBACK = -2  # a parameter name kept but not read plainly: the rows decide
DISCARD = -1  # kept, no column: its value is made (that may fail), not stored


class Fallback(Exception):
    """The record is not of the shape the builder reads: build its rows instead."""


def stored(value: SigmaValue) -> object:
    # BulkEngine.cells: strings and NULLs as they are, lists as JSON.
    return json.dumps(value) if isinstance(value, list) else value


def scalar_cell(value: object) -> object:
    return value if type(value) is str else stored(_scalar(value))


class Plan:
    """The columns' places, by name; the engine columns' own."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.width = len(columns) + 2  # and file, line
        self.index = {c: i for i, c in enumerate(columns)}
        self.keep = keep_of(columns)
        # Each column once, the engine's among them, none extending another ("a", "a.b":
        # flattening may fill either).
        self.usable = (
            len(self.index) == len(columns)
            and all(c in self.index for c in ENGINE_COLUMNS)
            and not any(c + "." in self.keep for c in columns)
        )
        self.stamp, self.source, self.event_id = (self.index.get(c, 0) for c in ENGINE_COLUMNS)

    def slots(self, names: Iterable[str]) -> tuple[int, ...]:
        """Each name's column, or DISCARD."""
        return tuple(self.index.get(name, DISCARD) for name in names)

    def flat_level(self, prefix: str) -> dict[str, int]:
        """Raw parameter names kept under ``prefix`` (admin, UAL: no nesting): their column."""
        size = len(prefix)
        return {k[size:]: self.index.get(k, DISCARD) for k in self.keep if k.startswith(prefix)}

    def lookups(
        self, source: DataSource, parameter_prefix: str
    ) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
        """adapters._source_fields: each kept field but parameters, its column (or DISCARD),
        its first key and the rest."""
        found = []
        for name in source.field_names():
            if name in self.keep and not name.startswith(parameter_prefix):
                first, *rest = name.split(".")
                found.append((self.index.get(name, DISCARD), first, tuple(rest)))
        return tuple(found)

    def finish(
        self, cells: list[object], stamp: str, source: str, event_id: object, file: int, line: int
    ) -> Cells:
        cells[self.stamp], cells[self.source], cells[self.event_id] = stamp, source, event_id
        cells[-2], cells[-1] = file, line
        return tuple(cells)


def lookup(node: object, rest: tuple[str, ...]) -> object:
    """adapters._lookup, from the value of the first key on."""
    for part in rest:
        if not is_mapping(node):
            return None
        node = node.get(part)
    return node


def ual_cells(source: str, columns: tuple[str, ...], by_rows: CellsOf) -> CellsOf | None:
    """RecordFormat.compile_cells of UAL records (adapters.ual_row)."""
    plan = Plan(columns)
    if source != _UAL or not plan.usable:
        return None
    lookups = plan.lookups(M365_AUDIT, "Parameters.")
    level = plan.flat_level("Parameters.")
    blank: list[object] = [None] * plan.width

    def build(record: Mapping[str, Any], inspected: Inspected, file: int, line: int) -> list[Cells]:
        try:
            if type(record) is not dict:
                raise Fallback
            cells = blank.copy()
            for at, first, rest in lookups:
                value = record.get(first)
                if rest:
                    value = lookup(value, rest)
                if type(value) is not str:
                    value = scalar_cell(value)  # made even when not stored: it may fail
                if at >= 0:
                    cells[at] = value
            parameters = record.get("Parameters") or []
            if type(parameters) is not list:
                raise Fallback
            for parameter in parameters:
                if (type(parameter) is dict or is_mapping(parameter)) and "Name" in parameter:
                    name = parameter["Name"]
                    slot = level.get(name if type(name) is str else str(name))
                    if slot is not None:
                        value = parameter.get("Value")
                        if type(value) is not str:
                            value = scalar_cell(value)
                        if slot >= 0:
                            cells[slot] = value
            stamp = stamp_of(record.get("CreationTime"), inspected[2])
            return [plan.finish(cells, stamp, _UAL, str(record["Id"]), file, line)]
        except Exception:
            return by_rows(record, inspected, file, line)

    return build
