"""Raw audit records, in their canonical shape (converters.engine.shapes), -> flat "Sigma rows".

A Sigma row holds the Sigma field names of converters.sources (the raw format flattened with
dots), every event/cmdlet parameter as ``parameters.<NAME>`` / ``Parameters.<Name>``, and three
engine columns: ``timestamp`` (ISO-8601 UTC, what the SQLite backend reads with julianday),
``dac_source`` (the data source name the SQLite pipeline scopes on) and ``dac_event_id``
(the record's native id, so that alerts point back at the evidence an analyst can find).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeGuard

from converters.pipelines.build import SQLITE_SOURCE_COLUMN
from converters.sources import GWS_ADMIN, M365_AUDIT, DataSource

SigmaValue = str | list[str] | None
SigmaRow = dict[str, SigmaValue]

TIMESTAMP = "timestamp"
SOURCE = SQLITE_SOURCE_COLUMN
EVENT_ID = "dac_event_id"
ENGINE_COLUMNS = (TIMESTAMP, SOURCE, EVENT_ID)

_GWS_PARAMETER_PREFIX = "parameters."
_UAL_PARAMETER_PREFIX = "Parameters."
# Keys every Management Activity API record carries (common schema).
_UAL_KEYS = ("Id", "CreationTime", "Operation", "Workload", "RecordType")


def is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, the exact type first: an ABC check costs about 0.4 us,
    and this runs on most values of every record read (decoded JSON holds plain dicts)."""
    return type(value) is dict or isinstance(value, Mapping)


class RecordFormatError(ValueError):
    """The record is not one of the formats read, or a value in it has the wrong form."""


def utc_timestamp(value: object) -> str:
    """ISO-8601 UTC with milliseconds and no zone suffix, e.g. ``2026-11-20T10:00:00.000``."""
    if not isinstance(value, str):
        raise RecordFormatError(f"timestamp must be a string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordFormatError(f"not an ISO-8601 timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        # UAL CreationTime is UTC written without a zone.
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}"


def gws_admin_rows(activity: Mapping[str, Any]) -> list[SigmaRow]:
    ident: Mapping[str, Any] = activity["id"]
    events: list[Any] = activity["events"]
    native = str(ident.get("uniqueQualifier", ""))
    timestamp = utc_timestamp(ident.get("time"))
    rows: list[SigmaRow] = []
    for index, event in enumerate(events):
        if not is_mapping(event):
            raise RecordFormatError(f"activity {native}: events[{index}] is not an object")
        # The Sigma names address the activity with the current event as "event".
        view = {**activity, "event": event}
        row = _source_fields(GWS_ADMIN, view, _GWS_PARAMETER_PREFIX)
        for parameter in event.get("parameters", []):
            row[_GWS_PARAMETER_PREFIX + str(parameter.get("name"))] = _gws_parameter(parameter)
        event_id = f"{native}#{index}" if len(events) > 1 else native
        row.update({TIMESTAMP: timestamp, SOURCE: GWS_ADMIN.name, EVENT_ID: event_id})
        rows.append(row)
    return rows


def ual_row(record: Mapping[str, Any]) -> SigmaRow:
    row = _source_fields(M365_AUDIT, record, _UAL_PARAMETER_PREFIX)
    for parameter in record.get("Parameters") or []:
        if is_mapping(parameter) and "Name" in parameter:
            row[_UAL_PARAMETER_PREFIX + str(parameter["Name"])] = _scalar(parameter.get("Value"))
    row.update(
        {
            TIMESTAMP: utc_timestamp(record.get("CreationTime")),
            SOURCE: M365_AUDIT.name,
            EVENT_ID: str(record["Id"]),
        }
    )
    return row


def _source_fields(source: DataSource, view: Mapping[str, Any], parameter_prefix: str) -> SigmaRow:
    """Every non-parameter field of the source (None when absent), so that every row of a
    source has the same columns."""
    row: SigmaRow = {}
    for name in source.field_names():
        row[name] = None if name.startswith(parameter_prefix) else _scalar(_lookup(view, name))
    return row


def _lookup(view: Mapping[str, Any], dotted: str) -> object:
    node: object = view
    for part in dotted.split("."):
        if not is_mapping(node):
            return None
        node = node.get(part)
    return node


def _gws_parameter(parameter: Mapping[str, Any]) -> SigmaValue:
    """A Reports API parameter's value, whichever of its typed value keys it uses."""
    for key in ("value", "intValue", "boolValue"):
        if key in parameter:
            return _scalar(parameter[key])
    for key in ("multiValue", "multiIntValue"):
        if key in parameter:
            return [str(v) for v in parameter[key]]
    for key in ("messageValue", "multiMessageValue"):
        if key in parameter:
            return json.dumps(parameter[key], sort_keys=True)
    return None


def _scalar(value: object) -> SigmaValue:
    if type(value) is str:  # the common case first
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        # The strings pySigma's SQLite backend (and Zircolite) compare booleans against.
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return json.dumps(value, sort_keys=True)
