"""One Sigma field read straight from a raw record, without building the record's rows.

The hunt asks "can this record match any rule?" of millions of records; building every row
(converters.engine.adapters) costs several times more than reading the one or two fields the
rules anchor on. ``field_reader`` returns exactly the values ``sigma_rows`` would put in that
field, one per row the record yields (tests/test_hunt_engine.py holds the two to each other).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from converters.engine.adapters import (
    _GWS_PARAMETER_PREFIX,
    _UAL_PARAMETER_PREFIX,
    SigmaValue,
    _gws_parameter,
    _lookup,
    _scalar,
    is_mapping,
)
from converters.sources import GWS_ADMIN, M365_AUDIT

FieldReader = Callable[[Mapping[str, Any]], list[SigmaValue]]


def field_reader(source: str, field: str) -> FieldReader | None:
    """A reader of ``field`` for records of the data source named ``source``, or None when
    the source has no fast reader (the caller then treats every record as a candidate)."""
    if source == GWS_ADMIN.name:
        return _gws_reader(field)
    if source == M365_AUDIT.name:
        return _ual_reader(field)
    return None


def _gws_reader(field: str) -> FieldReader:
    if field.startswith(_GWS_PARAMETER_PREFIX):
        name = field[len(_GWS_PARAMETER_PREFIX) :]

        def parameter(activity: Mapping[str, Any]) -> list[SigmaValue]:
            return [_gws_event_parameter(event, name) for event in activity["events"]]

        return parameter
    if field.startswith("event."):
        path = field[len("event.") :]

        def event_field(activity: Mapping[str, Any]) -> list[SigmaValue]:
            return [_scalar(_lookup(event, path)) for event in activity["events"]]

        return event_field

    def activity_field(activity: Mapping[str, Any]) -> list[SigmaValue]:
        return [_scalar(_lookup(activity, field))] * len(activity["events"])

    return activity_field


def _gws_event_parameter(event: object, name: str) -> SigmaValue:
    found: SigmaValue = None
    if is_mapping(event):
        # The adapter writes parameters in order, so the last one of a name wins.
        for parameter in event.get("parameters", []):
            if str(parameter.get("name")) == name:
                found = _gws_parameter(parameter)
    return found


def _ual_reader(field: str) -> FieldReader:
    if field.startswith(_UAL_PARAMETER_PREFIX):
        name = field[len(_UAL_PARAMETER_PREFIX) :]

        def parameter(record: Mapping[str, Any]) -> list[SigmaValue]:
            found: SigmaValue = None
            for item in record.get("Parameters") or []:
                if is_mapping(item) and "Name" in item and str(item["Name"]) == name:
                    found = _scalar(item.get("Value"))
            return [found]

        return parameter
    if "." not in field:

        def top(record: Mapping[str, Any]) -> list[SigmaValue]:
            return [_scalar(record.get(field))]

        return top

    def nested(record: Mapping[str, Any]) -> list[SigmaValue]:
        return [_scalar(_lookup(record, field))]

    return nested


Matcher = Callable[[Mapping[str, Any]], bool]


def field_matcher(source: str, field: str, values: frozenset[str]) -> Matcher | None:
    """Whether a record may have a row whose ``field`` is one of ``values`` (lower case),
    compared as the SQL does, ignoring case; a value that is not a string (a multivalue field,
    a number) answers yes, leaving the decision to the SQL. None: no reader for the source."""
    reader = field_reader(source, field)
    if reader is None:
        return None
    # The two fields every rule so far anchors on, read without building a list.
    if source == M365_AUDIT.name and "." not in field:

        def top(record: Mapping[str, Any]) -> bool:
            return _admits(record.get(field), values)

        return top
    if source == GWS_ADMIN.name and field.startswith("event.") and field.count(".") == 1:
        name = field[len("event.") :]

        def event(activity: Mapping[str, Any]) -> bool:
            return any(_admits(e.get(name), values) for e in activity["events"])

        return event

    def generic(record: Mapping[str, Any]) -> bool:
        return any(_admits(value, values) for value in reader(record))

    return generic


def reads_records(source: str) -> bool:
    """Whether ``field_reader`` reads the source's records (else tests read their rows)."""
    return source in (GWS_ADMIN.name, M365_AUDIT.name)


def cell_matcher(index: int | None, values: frozenset[str]) -> Callable[[Sequence[object]], bool]:
    """``field_matcher`` of a row's cells (BulkEngine.cells), the field's at ``index`` (None:
    the table has no such column, no row holds it). A cell is the stored text (a multivalue
    field as its JSON text): the SQL's equality compares that very text."""
    if index is None:
        return _nothing

    def cell(cells: Sequence[object]) -> bool:
        return _admits(cells[index], values)

    return cell


def _nothing(cells: Sequence[object]) -> bool:
    return False


def _admits(value: object, values: frozenset[str]) -> bool:
    if value is None:
        return False
    if type(value) is str:
        return value.lower() in values
    return True
