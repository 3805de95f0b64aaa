"""Compiled cell builders of Workspace activities (converters.engine.fastcells says what a
builder must hold to): admin activities as adapters.gws_admin_rows builds them, Gmail's as
gws._gws_rows_kept with gws._gmail_envelope, any other application's as the activity
flattened (gws._gws_rows_kept)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from converters.engine.adapters import ENGINE_COLUMNS, _gws_parameter, is_mapping, stamp_of
from converters.engine.fastcells import (
    DISCARD,
    FALLBACK,
    Fallback,
    Plan,
    lookup,
    scalar_cell,
    stored,
)
from converters.engine.rowtools import Cells, CellsOf, Inspected
from converters.sources import GWS_ADMIN, GWS_GMAIL

_ADMIN, _GMAIL = GWS_ADMIN.name, GWS_GMAIL.name
_EVENT = ("event.name", "event.type")
# A message's parameter names: each one's column, the level of its own message's names, or
# a mark (fastcells.FALLBACK, DISCARD).
Level = dict[str, "int | Level"]


def _level(plan: Plan, prefix: str) -> Level:
    """The parameter names kept under ``prefix`` (gws._gws_parameters)."""
    found: Level = {}
    for kept in plan.keep:
        if not kept.startswith(prefix):
            continue
        raw = kept[len(prefix) :]
        if kept in ENGINE_COLUMNS:
            found[raw] = FALLBACK  # written, then overwritten
        elif kept in plan.index:
            found[raw] = plan.index[kept]
        elif kept + "." in plan.keep:
            found[raw] = _level(plan, kept + ".")
        else:
            found[raw] = FALLBACK
    return found


def _parameters(parameters: list[Any], level: Level, cells: list[object]) -> None:
    """gws._gws_parameters over plain parameters: a kept name's value into its column."""
    for parameter in parameters:
        if type(parameter) is not dict:
            if is_mapping(parameter):
                raise Fallback
            continue
        name = parameter.get("name")
        action = level.get(name if type(name) is str else f"{name}")
        if action is None:
            continue
        if type(action) is int:
            if action < 0 or "messageValue" in parameter or "multiMessageValue" in parameter:
                raise Fallback
            value = _gws_parameter(parameter)
            cells[action] = value if type(value) is str else stored(value)
            continue
        message = parameter.get("messageValue")
        if type(message) is dict and type(action) is dict:
            nested = message.get("parameter")
            if type(nested) is list:
                _parameters(nested, action, cells)
            elif nested:
                raise Fallback
        elif is_mapping(message) or "multiMessageValue" in parameter:
            raise Fallback  # nests, or appends
        else:
            _gws_parameter(parameter)  # a key no column reads (e.g. a sender left out)


def _event(cells: list[object], event: object, at: tuple[int, int], level: Level) -> None:
    """An event's name and type (both made: either may fail in the rows), its parameters
    (those of an empty level are never read: the rows only test each one's type)."""
    if type(event) is not dict:
        raise Fallback
    name, kind = event.get("name"), event.get("type")
    if type(name) is not str:
        name = scalar_cell(name)
    if type(kind) is not str:
        kind = scalar_cell(kind)
    if at[0] >= 0:
        cells[at[0]] = name
    if at[1] >= 0:
        cells[at[1]] = kind
    parameters = event.get("parameters")
    if type(parameters) is list:
        if level:
            _parameters(parameters, level, cells)
    elif parameters:
        raise Fallback


def _rows(
    plan: Plan,
    base: list[object],
    activity: Mapping[str, Any],
    inspected: Inspected,
    at: tuple[int, int],
    level: Level,
    where: tuple[int, int],
) -> list[Cells]:
    """Each event's cells over the activity's ``base``."""
    source, _count, when = inspected
    ident = activity["id"]
    events = activity["events"]
    stamp = stamp_of(ident.get("time"), when)
    native = str(ident.get("uniqueQualifier", ""))
    file, line = where
    if len(events) == 1:  # the activity's cells are the event's: no copy
        _event(base, events[0], at, level)
        return [plan.finish(base, stamp, source, native or None, file, line)]
    rows = []
    for index, event in enumerate(events):
        cells = base.copy()
        _event(cells, event, at, level)
        rows.append(plan.finish(cells, stamp, source, f"{native}#{index}", file, line))
    return rows


def _dotted(keep: frozenset[str], prefix: str) -> frozenset[str]:
    """The keys under ``prefix`` that ``flatten`` walks (kept) and that hold a dot."""
    size = len(prefix)
    return frozenset(k[size:] for k in keep if k.startswith(prefix) and "." in k[size:])


def _activity_cells(columns: tuple[str, ...], by_rows: CellsOf) -> CellsOf | None:
    """Any application but admin and Gmail: the activity flattened, each event's name and
    type, its parameters under ``parameters.``."""
    plan = Plan(columns)
    paths = []
    for column in columns:
        if column in ENGINE_COLUMNS or column in _EVENT or column.startswith("parameters."):
            continue
        parts = column.split(".")
        if "" in parts or parts[0] == "events":
            return None
        # Each object walked on the way, with its kept keys holding a dot.
        steps = tuple(
            (part, _dotted(plan.keep, ".".join(parts[: n + 1]) + "."))
            for n, part in enumerate(parts[:-1])
        )
        paths.append((plan.index[column], steps, parts[-1]))
    if not plan.usable:
        return None
    # Kept keys with a dot may fill a column another way; a "parameters" object fills the
    # parameters' columns that no parameter fills.
    danger = _dotted(plan.keep, "") | (
        {"parameters"} if any(c.startswith("parameters.") for c in columns) else set()
    )
    level = _level(plan, "parameters.")
    at = (plan.index.get(_EVENT[0], DISCARD), plan.index.get(_EVENT[1], DISCARD))
    blank: list[object] = [None] * plan.width

    def build(
        activity: Mapping[str, Any], inspected: Inspected, file: int, line: int
    ) -> list[Cells]:
        try:
            if type(activity) is not dict or not danger.isdisjoint(activity):
                raise Fallback
            base = blank.copy()
            for column, steps, last in paths:
                node: Mapping[str, Any] = activity
                for part, dots in steps:
                    found = node.get(part)
                    if type(found) is dict:
                        if dots and not dots.isdisjoint(found):
                            raise Fallback
                        node = found
                    elif type(found) is list or is_mapping(found):
                        raise Fallback  # lists of objects append; other mappings: rows
                    else:
                        break  # a scalar on the way: the column stays empty
                else:
                    value = node.get(last)
                    if type(value) is str:
                        base[column] = value
                    elif value is not None:
                        base[column] = _flat_value(value)
            return _rows(plan, base, activity, inspected, at, level, (file, line))
        except Exception:
            return by_rows(activity, inspected, file, line)

    return build


def _flat_value(value: object) -> object:
    """The cell ``flatten`` makes of a leaf value that is not a string."""
    if type(value) is list:
        if any(is_mapping(item) for item in value):
            raise Fallback  # its objects' keys and its scalars append
    elif is_mapping(value):
        return None  # its keys extend the column's: none is kept
    return scalar_cell(value)


def _gmail_cells(columns: tuple[str, ...], by_rows: CellsOf) -> CellsOf | None:
    """Gmail: the activity's mailbox and address, each event's name and type, then its
    parameters by their own names, messages nesting with dots."""
    plan = Plan(columns)
    if not plan.usable:
        return None
    level = _level(plan, "")
    email_at, ip_at, name_at, type_at = plan.slots(
        ("email", "ip_address", "event_name", "event_type")
    )
    blank: list[object] = [None] * plan.width

    def build(
        activity: Mapping[str, Any], inspected: Inspected, file: int, line: int
    ) -> list[Cells]:
        try:
            if type(activity) is not dict:
                raise Fallback
            base = blank.copy()
            actor = activity.get("actor")
            email = scalar_cell(actor.get("email")) if is_mapping(actor) else None
            address = scalar_cell(activity.get("ipAddress"))
            if email_at >= 0:
                base[email_at] = email
            if ip_at >= 0:
                base[ip_at] = address
            return _rows(plan, base, activity, inspected, (name_at, type_at), level, (file, line))
        except Exception:
            return by_rows(activity, inspected, file, line)

    return build


def _admin_cells(columns: tuple[str, ...], by_rows: CellsOf) -> CellsOf | None:
    """The source's fields looked up (``event``: the current one), each kept parameter as
    ``parameters.<name>``."""
    plan = Plan(columns)
    if not plan.usable:
        return None
    lookups = plan.lookups(GWS_ADMIN, "parameters.")
    of_event = tuple(item for item in lookups if item[1] == "event")
    of_activity = tuple(item for item in lookups if item[1] != "event")
    level = plan.flat_level("parameters.")
    blank: list[object] = [None] * plan.width

    def build(
        activity: Mapping[str, Any], inspected: Inspected, file: int, line: int
    ) -> list[Cells]:
        try:
            if type(activity) is not dict:
                raise Fallback
            base = blank.copy()
            for at, first, rest in of_activity:
                value = lookup(activity.get(first), rest)
                if type(value) is not str:
                    value = scalar_cell(value)  # made even when not stored: it may fail
                if at >= 0:
                    base[at] = value
            ident = activity["id"]
            events = activity["events"]
            stamp = stamp_of(ident.get("time"), inspected[2])
            native = str(ident.get("uniqueQualifier", ""))
            rows = []
            for index, event in enumerate(events):
                if type(event) is not dict:
                    raise Fallback
                cells = base.copy() if len(events) > 1 else base
                for at, _first, rest in of_event:
                    value = lookup(event, rest)
                    if type(value) is not str:
                        value = scalar_cell(value)
                    if at >= 0:
                        cells[at] = value
                parameters = event.get("parameters", [])
                if type(parameters) is not list:
                    raise Fallback
                for parameter in parameters:
                    if type(parameter) is not dict:
                        raise Fallback
                    name = parameter.get("name")
                    slot = level.get(name if type(name) is str else str(name))
                    if slot is not None:
                        made = _gws_parameter(parameter)
                        if slot >= 0:
                            cells[slot] = made if type(made) is str else stored(made)
                event_id = f"{native}#{index}" if len(events) > 1 else native
                rows.append(plan.finish(cells, stamp, _ADMIN, event_id, file, line))
            return rows
        except Exception:
            return by_rows(activity, inspected, file, line)

    return build


def gws_cells(source: str, columns: tuple[str, ...], by_rows: CellsOf) -> CellsOf | None:
    """RecordFormat.compile_cells of Workspace activities."""
    if source == _ADMIN:
        return _admin_cells(columns, by_rows)
    if source == _GMAIL:
        return _gmail_cells(columns, by_rows)
    return _activity_cells(columns, by_rows)
