"""Raw audit records, in their canonical shape (converters.engine.shapes), -> flat "Sigma rows".

A Sigma row holds the Sigma field names of converters.sources (the raw format flattened with
dots), every event/cmdlet parameter as ``parameters.<NAME>`` / ``Parameters.<Name>``, and three
engine columns: ``timestamp`` (ISO-8601 UTC, what the SQLite backend reads with julianday),
``dac_source`` (the data source name the SQLite pipeline scopes on) and ``dac_event_id``
(the record's native id, so that alerts point back at the evidence an analyst can find).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeGuard

from converters.pipelines.build import SQLITE_SOURCE_COLUMN
from converters.sources import GWS_ADMIN, M365_AUDIT, DataSource

SigmaValue = str | list[str] | None
SigmaRow = dict[str, SigmaValue]
# Every prefix of the row keys a caller reads (``keep_of``); None: every key. A row built
# with it holds the same value as the full row under each read key, and may lack the others:
# the hunt fills only the columns its rules read, and skips building the rest.
Keep = frozenset[str] | None

TIMESTAMP = "timestamp"
SOURCE = SQLITE_SOURCE_COLUMN
EVENT_ID = "dac_event_id"
ENGINE_COLUMNS = (TIMESTAMP, SOURCE, EVENT_ID)

_GWS_PARAMETER_PREFIX = "parameters."
_UAL_PARAMETER_PREFIX = "Parameters."
# Keys every Management Activity API record carries (common schema).
_UAL_KEYS = ("Id", "CreationTime", "Operation", "Workload", "RecordType")


def keep_of(keys: Iterable[str]) -> frozenset[str]:
    """The ``Keep`` of these row keys: a subtree of a record is walked only when the key it
    would give is a prefix of one of them (flattened keys extend their parent's)."""
    return frozenset(key[:end] for key in keys for end in range(1, len(key) + 1))


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
    return moment_timestamp(parsed)


def moment_timestamp(moment: datetime) -> str:
    """``utc_timestamp`` of a datetime, naive ones being UTC (isoformat: half the cost of
    strftime, and the year always four digits, as julianday reads it)."""
    if moment.tzinfo is not UTC:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:23]


def stamp_of(value: object, moment: datetime) -> str:
    """``moment_timestamp(moment)``, where ``moment`` was parsed from ``value``: read off the
    string when it is written as the rows write it, with a Z (Workspace's id.time) or naive
    without a fraction (UAL's CreationTime); formatting costs ten times the slice. Both
    shapes as captured: elastic/integrations google_workspace data_stream/login/_dev/test/
    pipeline/test-login.log ("2025-02-27T05:59:58.481Z"; its "2020-10-02T15:00:00Z" is
    formatted) and o365 data_stream/audit/_dev/test/pipeline/test-azuread-events.json
    ("CreationTime": "2020-02-09T15:33:26")."""
    if (
        type(value) is str
        and value[4:5] == value[7:8] == "-"
        and value[10:11] == "T"
        and value[13:14] == value[16:17] == ":"
    ):
        if len(value) == 24 and value[19] == "." and value[23] == "Z":
            return value[:23]
        if len(value) == 19:
            return value + ".000"
    return moment_timestamp(moment)


def gws_admin_rows(
    activity: Mapping[str, Any], keep: Keep = None, when: datetime | None = None
) -> list[SigmaRow]:
    """``when``: the activity's time, when the caller has read it already."""
    ident: Mapping[str, Any] = activity["id"]
    events: list[Any] = activity["events"]
    native = str(ident.get("uniqueQualifier", ""))
    time = ident.get("time")
    timestamp = utc_timestamp(time) if when is None else stamp_of(time, when)
    rows: list[SigmaRow] = []
    for index, event in enumerate(events):
        if not is_mapping(event):
            raise RecordFormatError(f"activity {native}: events[{index}] is not an object")
        # The Sigma names address the activity with the current event as "event".
        view = {**activity, "event": event}
        row = _source_fields(GWS_ADMIN, view, _GWS_PARAMETER_PREFIX, keep)
        for parameter in event.get("parameters", []):
            key = _GWS_PARAMETER_PREFIX + str(parameter.get("name"))
            if keep is None or key in keep:
                row[key] = _gws_parameter(parameter)
        event_id = f"{native}#{index}" if len(events) > 1 else native
        row.update({TIMESTAMP: timestamp, SOURCE: GWS_ADMIN.name, EVENT_ID: event_id})
        rows.append(row)
    return rows


def ual_row(record: Mapping[str, Any], keep: Keep = None, when: datetime | None = None) -> SigmaRow:
    """``when``: the record's CreationTime, when the caller has read it already."""
    row = _source_fields(M365_AUDIT, record, _UAL_PARAMETER_PREFIX, keep)
    for parameter in record.get("Parameters") or []:
        if is_mapping(parameter) and "Name" in parameter:
            key = _UAL_PARAMETER_PREFIX + str(parameter["Name"])
            if keep is None or key in keep:
                row[key] = _scalar(parameter.get("Value"))
    row.update(
        {
            TIMESTAMP: (
                utc_timestamp(record.get("CreationTime"))
                if when is None
                else stamp_of(record.get("CreationTime"), when)
            ),
            SOURCE: M365_AUDIT.name,
            EVENT_ID: str(record["Id"]),
        }
    )
    return row


def _source_fields(
    source: DataSource, view: Mapping[str, Any], parameter_prefix: str, keep: Keep = None
) -> SigmaRow:
    """Every non-parameter field of the source (None when absent), so that every row of a
    source has the same columns; only those kept, when ``keep`` is given."""
    row: SigmaRow = {}
    for name, parameter in _field_names(source, parameter_prefix, keep):
        # Parameters are read from the record's parameter list, not looked up by name.
        row[name] = None if parameter else _scalar(_lookup(view, name))
    return row


_FIELD_NAMES: dict[tuple[str, str, Keep], tuple[tuple[str, bool], ...]] = {}


def _field_names(
    source: DataSource, parameter_prefix: str, keep: Keep
) -> tuple[tuple[str, bool], ...]:
    """The source's fields (kept), each with whether it is a parameter; computed once per
    source and ``keep`` (a frozenset caches its hash)."""
    key = (source.name, parameter_prefix, keep)
    found = _FIELD_NAMES.get(key)
    if found is None:
        found = tuple(
            (name, name.startswith(parameter_prefix))
            for name in source.field_names()
            if keep is None or name in keep
        )
        _FIELD_NAMES[key] = found
    return found


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
