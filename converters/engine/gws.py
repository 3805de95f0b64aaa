"""Google Workspace records -> data source, events and Sigma rows.

Reports API activities of any application, in the three shapes SIEMs hold them
(converters.engine.shapes.gws_activity makes them one): admin activities go through the fixed
columns of converters.engine.adapters; Gmail activities become rows of the Gmail source's
canonical shape, the BigQuery export row (converters.datasources.gws_gmail), so that a rule
reads ``message_info.source.address`` whether the record came from the Reports API or from
BigQuery; other applications (login, ...) are the activity flattened with dots, each event
parameter as ``parameters.<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from converters.engine import shapes
from converters.engine.adapters import (
    EVENT_ID,
    SOURCE,
    TIMESTAMP,
    Keep,
    RecordFormatError,
    SigmaRow,
    _gws_parameter,
    _scalar,
    gws_admin_rows,
    is_mapping,
    stamp_of,
)
from converters.engine.fastgws import gws_cells
from converters.engine.rowtools import (
    Inspected,
    RecordFormat,
    append,
    engine_columns,
    flatten,
    iso_time,
    parse_time,
)
from converters.sources import GWS_ADMIN, GWS_GMAIL


def _inspect_gws(activity: Mapping[str, Any]) -> Inspected:
    ident = activity.get("id")
    if not is_mapping(ident):
        raise RecordFormatError("Google Workspace activity without an 'id' object")
    events = activity.get("events")
    if not isinstance(events, list):
        raise RecordFormatError(
            "Google Workspace activity without events: expected 'events' (a list, or one "
            "object as Elastic stores it) or 'event' (one object, as the Splunk add-on stores it)"
        )
    for event in events:
        if not is_mapping(event):
            raise RecordFormatError("Google Workspace activity with an event that is not an object")
    application = ident.get("applicationName")
    if not isinstance(application, str) or not application:
        raise RecordFormatError("Google Workspace activity without id.applicationName")
    source = GWS_ADMIN.name if application == "admin" else f"gws_{application}"
    return source, len(events), iso_time(ident.get("time"))


def _gws_rows(activity: Mapping[str, Any]) -> list[SigmaRow]:
    return _gws_rows_kept(activity, _inspect_gws(activity), None)


def _gws_rows_kept(activity: Mapping[str, Any], inspected: Inspected, keep: Keep) -> list[SigmaRow]:
    source, _count, when = inspected
    if source == GWS_ADMIN.name:
        return gws_admin_rows(activity, keep, when)
    ident = activity["id"]
    native = str(ident.get("uniqueQualifier", ""))
    stamp = stamp_of(ident.get("time"), when)
    events: list[Mapping[str, Any]] = activity["events"]
    gmail = source == GWS_GMAIL.name
    base: SigmaRow
    if gmail:
        base = _gmail_envelope(activity)
    else:
        base = {}
        for key, value in activity.items():
            if key != "events" and (keep is None or key in keep):
                flatten(value, key + ".", base, keep)
    rows = []
    for index, event in enumerate(events):
        row = dict(base)
        if gmail:
            row["event_name"] = _scalar(event.get("name"))
            row["event_type"] = _scalar(event.get("type"))
            _gws_parameters(event.get("parameters") or [], "", row, keep)
        else:
            row["event.name"] = _scalar(event.get("name"))
            row["event.type"] = _scalar(event.get("type"))
            _gws_parameters(event.get("parameters") or [], "parameters.", row, keep)
        event_id = f"{native}#{index}" if len(events) > 1 else native
        row.update({TIMESTAMP: stamp, SOURCE: source, EVENT_ID: event_id or None})
        rows.append(row)
    return rows


def _gmail_envelope(activity: Mapping[str, Any]) -> SigmaRow:
    """The BigQuery row's own columns that a Reports API activity also holds: the mailbox
    (``email``, the activity's actor) and the address it acted from."""
    actor = activity.get("actor")
    return {
        "email": _scalar(actor.get("email")) if is_mapping(actor) else None,
        "ip_address": _scalar(activity.get("ipAddress")),
    }


def _gws_parameters(parameters: list[Any], prefix: str, row: SigmaRow, keep: Keep) -> None:
    """Typed parameter values; message values (Gmail's ``event_info``) nest with dots. Those
    whose keys are not kept are skipped (every nested key starts with its parent's)."""
    for parameter in parameters:
        if not is_mapping(parameter):
            continue
        name = f"{prefix}{parameter.get('name')}"
        if keep is not None and name not in keep:
            continue
        message = parameter.get("messageValue")
        if is_mapping(message):
            _gws_parameters(message.get("parameter") or [], name + ".", row, keep)
        elif isinstance(parameter.get("multiMessageValue"), list):
            for item in parameter["multiMessageValue"]:
                if not is_mapping(item):
                    continue
                nested: SigmaRow = {}
                _gws_parameters(item.get("parameter") or [], name + ".", nested, keep)
                for key, value in nested.items():
                    append(row, key, value)
        else:
            row[name] = _gws_parameter(parameter)


GWS = RecordFormat(
    "gws",
    "Google Workspace Reports API activities",
    shapes.is_gws_activity,
    _inspect_gws,
    _gws_rows,
    shapes.gws_activity,
    _gws_rows_kept,
    gws_cells,
)


# Gmail logs exported to BigQuery (the Workspace activity table, record_type "gmail"), one
# row per JSON object: what the Splunk add-on stores (gws:gmail) and Elastic's
# google_workspace.gmail data stream reads.


def is_gmail_row(record: Mapping[str, Any]) -> bool:
    return is_mapping(record.get("message_info")) and "event_info" in record


def _gmail_time(record: Mapping[str, Any]) -> datetime:
    usec = record.get("time_usec")
    if usec is None and is_mapping(record.get("event_info")):
        usec = record["event_info"].get("timestamp_usec")
    if usec is not None:
        try:
            return datetime.fromtimestamp(int(str(usec)) / 1_000_000, UTC)
        except ValueError:
            raise RecordFormatError(f"time_usec is not a number: {usec!r}") from None
    if "timestamp" in record:  # the older Gmail export: epoch seconds
        return parse_time(record["timestamp"])
    raise RecordFormatError("Gmail BigQuery row without time_usec or event_info.timestamp_usec")


def _inspect_gmail_row(record: Mapping[str, Any]) -> Inspected:
    if not is_gmail_row(record):
        raise RecordFormatError("not a Gmail log row (event_info, message_info)")
    return GWS_GMAIL.name, 1, _gmail_time(record)


def _gmail_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    return _gmail_rows_kept(record, _inspect_gmail_row(record), None)


def _gmail_rows_kept(record: Mapping[str, Any], inspected: Inspected, keep: Keep) -> list[SigmaRow]:
    native = record.get("unique_identifier") or record.get("event_id")
    if not native:
        message = record["message_info"].get("rfc2822_message_id")
        native = f"{message}@{record.get('time_usec', '')}" if message else None
    row = flatten(record, keep=keep)
    return [engine_columns(row, inspected[2], GWS_GMAIL.name, native)]


GMAIL_BIGQUERY = RecordFormat(
    "gmail-bigquery",
    "Gmail log rows (BigQuery export)",
    is_gmail_row,
    _inspect_gmail_row,
    _gmail_rows,
    rows_kept=_gmail_rows_kept,
)
