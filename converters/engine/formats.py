"""Every raw record format the hunt reads -> its data source, its events, and its Sigma rows.

Google Workspace admin activities and UAL records go through converters.engine.adapters (the
rows the rule tests use). Squid access.log and FortiGate traffic rows carry the Sigma names
of their generic sources (converters.datasources.proxy, .firewall; parsed in
converters.engine.netlogs). The other formats have no data source in converters.sources yet;
their Sigma field names are the raw names flattened with dots (a list of objects becomes one
multivalue field per key, ``targetResources.userPrincipalName``), so that a rule written for
them later reads the names an analyst sees in the raw log. Their source names below are the
names a DataSource for them must take for the hunt to run its rules on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from converters.datasources.firewall import FIREWALL
from converters.datasources.proxy import PROXY
from converters.engine.adapters import (
    _UAL_KEYS,
    EVENT_ID,
    GWS_ACTIVITY_KIND,
    SOURCE,
    TIMESTAMP,
    RecordFormatError,
    SigmaRow,
    SigmaValue,
    _gws_parameter,
    _scalar,
    sigma_rows,
)
from converters.engine.netlogs import (
    fortigate_event_id,
    fortigate_fields,
    fortigate_time,
    is_fortigate,
    squid_event_id,
    squid_fields,
)
from converters.sources import GWS_ADMIN, M365_AUDIT

ENTRA_AUDIT = "entra_audit"
MESSAGE_TRACE = "m365_message_trace"
ZEEK_DNS = "zeek_dns"
SQUID_ACCESS = PROXY.name
# Squid's native access.log format (logformat squid), field by field.
SQUID_FIELDS = (
    "time", "elapsed", "remotehost", "code", "status", "bytes", "method", "url", "rfc931",
    "peerstatus", "peerhost", "type",
)  # fmt: skip
# Get-MessageTrace | Export-Csv writes dates in the en-US culture unless told otherwise.
_US_TIMES = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")


# What a cheap look at one record tells: its data source, how many events (rows) it holds,
# and when it happened (the newest time read bounds correlation windows). A plain tuple: this
# runs once per record read.
Inspected = tuple[str, int, datetime]


@dataclass(frozen=True)
class RecordFormat:
    name: str
    title: str
    looks_like: Callable[[Mapping[str, Any]], bool]
    inspect: Callable[[Mapping[str, Any]], Inspected]
    rows: Callable[[Mapping[str, Any]], list[SigmaRow]]


def parse_time(value: object) -> datetime:
    """ISO-8601 (no zone = UTC), Unix seconds (Zeek, Squid) or the en-US date of a message
    trace export, as an aware UTC datetime; RecordFormatError otherwise."""
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = _other_time(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    else:
        raise RecordFormatError(f"time must be a string or a number, got {value!r}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def iso_time(value: object) -> datetime:
    """ISO-8601 only (no zone = UTC), as adapters.utc_timestamp accepts it: a record that
    inspects well must also give its rows."""
    if type(value) is not str:
        raise RecordFormatError(f"timestamp must be a string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordFormatError(f"not an ISO-8601 timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def _other_time(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    for layout in _US_TIMES:
        try:
            return datetime.strptime(value.strip(), layout)
        except ValueError:
            continue
    raise RecordFormatError(f"not a timestamp: {value!r}")


def row_time(moment: datetime) -> str:
    """The rows' timestamp format (adapters.utc_timestamp)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def flatten(value: object, prefix: str = "", into: SigmaRow | None = None) -> SigmaRow:
    """Raw names flattened with dots; lists of objects become one multivalue field per key."""
    row: SigmaRow = {} if into is None else into
    if isinstance(value, Mapping):
        for key, item in value.items():
            flatten(item, f"{prefix}{key}.", row)
    elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        for item in value:
            for key, found in flatten(item, prefix).items():
                _append(row, key, found)
    elif prefix:
        row[prefix[:-1]] = _scalar(value)
    return row


def _append(row: SigmaRow, key: str, found: SigmaValue) -> None:
    """Add values to a multivalue field."""
    existing = row.get(key)
    if found is None and existing is None:
        return
    values = [] if existing is None else [existing] if isinstance(existing, str) else existing
    values.extend([] if found is None else [found] if isinstance(found, str) else found)
    row[key] = values


def _engine_columns(row: SigmaRow, moment: datetime, source: str, event_id: object) -> SigmaRow:
    row.update(
        {
            TIMESTAMP: row_time(moment),
            SOURCE: source,
            EVENT_ID: None if event_id in (None, "") else str(event_id),
        }
    )
    return row


# Google Workspace Reports API activities, any application.


def _inspect_gws(activity: Mapping[str, Any]) -> Inspected:
    if activity.get("kind") != GWS_ACTIVITY_KIND:
        raise RecordFormatError(f"not a Reports API activity (kind {GWS_ACTIVITY_KIND!r})")
    ident = activity.get("id")
    events = activity.get("events")
    if not isinstance(ident, dict | Mapping) or not isinstance(events, list):
        raise RecordFormatError("Reports API activity without 'id' object or 'events' list")
    for event in events:
        if not isinstance(event, dict | Mapping):
            raise RecordFormatError("Reports API activity with an event that is not an object")
    application = ident.get("applicationName")
    if not isinstance(application, str) or not application:
        raise RecordFormatError("Reports API activity without id.applicationName")
    source = GWS_ADMIN.name if application == "admin" else f"gws_{application}"
    return source, len(events), iso_time(ident.get("time"))


def _gws_rows(activity: Mapping[str, Any]) -> list[SigmaRow]:
    source, _count, when = _inspect_gws(activity)
    if source == GWS_ADMIN.name:
        return sigma_rows(activity)
    native = str(activity["id"].get("uniqueQualifier", ""))
    base = flatten({k: v for k, v in activity.items() if k != "events"})
    events: list[Mapping[str, Any]] = activity["events"]
    rows = []
    for index, event in enumerate(events):
        row = {**base, "event.name": _scalar(event.get("name"))}
        row["event.type"] = _scalar(event.get("type"))
        _gws_parameters(event.get("parameters") or [], "parameters.", row)
        event_id = f"{native}#{index}" if len(events) > 1 else native
        rows.append(_engine_columns(row, when, source, event_id))
    return rows


def _gws_parameters(parameters: list[Any], prefix: str, row: SigmaRow) -> None:
    """Typed parameter values; message values (Gmail's ``event_info``) nest with dots."""
    for parameter in parameters:
        if not isinstance(parameter, Mapping):
            continue
        name = f"{prefix}{parameter.get('name')}"
        message = parameter.get("messageValue")
        if isinstance(message, Mapping):
            _gws_parameters(message.get("parameter") or [], name + ".", row)
        elif isinstance(parameter.get("multiMessageValue"), list):
            for item in parameter["multiMessageValue"]:
                if not isinstance(item, Mapping):
                    continue
                nested: SigmaRow = {}
                _gws_parameters(item.get("parameter") or [], name + ".", nested)
                for key, value in nested.items():
                    _append(row, key, value)
        else:
            row[name] = _gws_parameter(parameter)


# Microsoft 365 Unified Audit Log records (Management Activity API, AuditData).


def _is_ual(record: Mapping[str, Any]) -> bool:
    return all(key in record for key in _UAL_KEYS)


def _inspect_ual(record: Mapping[str, Any]) -> Inspected:
    missing = [key for key in _UAL_KEYS if key not in record]
    if missing:
        raise RecordFormatError(f"not a Unified Audit Log record: no {', '.join(missing)}")
    return M365_AUDIT.name, 1, iso_time(record["CreationTime"])


# Microsoft Entra ID directoryAudits (Microsoft Graph).


def _is_entra(record: Mapping[str, Any]) -> bool:
    return "activityDisplayName" in record and "activityDateTime" in record


def _inspect_entra(record: Mapping[str, Any]) -> Inspected:
    if not _is_entra(record) or not record.get("id"):
        raise RecordFormatError("not an Entra ID directoryAudit (id, activityDateTime, ...)")
    return ENTRA_AUDIT, 1, parse_time(record["activityDateTime"])


def _entra_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    when = _inspect_entra(record)[2]
    return [_engine_columns(flatten(record), when, ENTRA_AUDIT, record["id"])]


# Microsoft 365 message trace (Get-MessageTrace | Export-Csv).


def _is_message_trace(record: Mapping[str, Any]) -> bool:
    return "SenderAddress" in record and "RecipientAddress" in record and "Received" in record


def _inspect_message_trace(record: Mapping[str, Any]) -> Inspected:
    if not _is_message_trace(record):
        raise RecordFormatError("not a message trace row (Received, SenderAddress, ...)")
    return MESSAGE_TRACE, 1, parse_time(record["Received"])


def _message_trace_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    when = _inspect_message_trace(record)[2]
    # One row per recipient shares the message's trace id: the recipient makes it unique.
    trace = record.get("MessageTraceId") or record.get("MessageId")
    recipient = record.get("RecipientAddress")
    native = f"{trace}:{recipient}" if trace and recipient else trace
    return [_engine_columns(flatten(record), when, MESSAGE_TRACE, native)]


# The mail service sign-up log (converters/datasources/signup.py), NDJSON.
MAIL_SIGNUP = "mail_signup"


def _is_signup(record: Mapping[str, Any]) -> bool:
    return "signup_id" in record and str(record.get("event", "")).startswith("account.")


def _inspect_signup(record: Mapping[str, Any]) -> Inspected:
    if not _is_signup(record) or not record.get("ts"):
        raise RecordFormatError("not a sign-up log record (signup_id, event, ts, ...)")
    return MAIL_SIGNUP, 1, parse_time(record["ts"])


def _signup_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    when = _inspect_signup(record)[2]
    return [_engine_columns(flatten(record), when, MAIL_SIGNUP, record["signup_id"])]


# Zeek dns.log (JSON, or the TSV default read into a mapping by its #fields header).


def _is_zeek_dns(record: Mapping[str, Any]) -> bool:
    return "uid" in record and "query" in record and "ts" in record


def _inspect_zeek_dns(record: Mapping[str, Any]) -> Inspected:
    if not _is_zeek_dns(record):
        raise RecordFormatError("not a Zeek dns.log entry (ts, uid, query)")
    return ZEEK_DNS, 1, parse_time(record["ts"])


def _zeek_dns_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    when = _inspect_zeek_dns(record)[2]
    return [_engine_columns(flatten(record), when, ZEEK_DNS, record["uid"])]


# Squid access.log, native format.


def squid_record(line: str) -> dict[str, str]:
    """One access.log line as its named fields; RecordFormatError when it is not one."""
    parts = line.split()
    if len(parts) != 10 or "/" not in parts[3] or "/" not in parts[8]:
        raise RecordFormatError("not a Squid access.log line (10 fields, native format)")
    code, status = parts[3].split("/", 1)
    peerstatus, peerhost = parts[8].split("/", 1)
    values = [*parts[:3], code, status, *parts[4:8], peerstatus, peerhost, parts[9]]
    return dict(zip(SQUID_FIELDS, values, strict=True))


def _is_squid(record: Mapping[str, Any]) -> bool:
    return tuple(record) == SQUID_FIELDS


def _inspect_squid(record: Mapping[str, Any]) -> Inspected:
    if not _is_squid(record):
        raise RecordFormatError("not a Squid access.log entry")
    return SQUID_ACCESS, 1, parse_time(record["time"])


def _squid_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    when = _inspect_squid(record)[2]
    return [_engine_columns(squid_fields(record), when, SQUID_ACCESS, squid_event_id(record))]


# FortiGate logs, key=value syslog (converters.engine.netlogs.fortigate_record reads a line).
# Traffic logs are the firewall source; the other types are counted as fortigate_<type>.


def _inspect_fortigate(record: Mapping[str, Any]) -> Inspected:
    if not is_fortigate(record):
        raise RecordFormatError("not a FortiGate log entry (logid, type, date or eventtime)")
    kind = str(record["type"])
    source = FIREWALL.name if kind == "traffic" else f"fortigate_{kind}"
    return source, 1, fortigate_time(record)


def _fortigate_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    source, _count, when = _inspect_fortigate(record)
    row = fortigate_fields(record) if source == FIREWALL.name else flatten(record)
    return [_engine_columns(row, when, source, fortigate_event_id(record))]


GWS = RecordFormat(
    "gws",
    "Google Workspace Reports API activities",
    lambda r: r.get("kind") == GWS_ACTIVITY_KIND,
    _inspect_gws,
    _gws_rows,
)
UAL = RecordFormat(
    "ual", "Microsoft 365 Unified Audit Log records", _is_ual, _inspect_ual, sigma_rows
)
ENTRA = RecordFormat(
    "entra", "Microsoft Entra ID directoryAudits", _is_entra, _inspect_entra, _entra_rows
)
MESSAGE_TRACE_FORMAT = RecordFormat(
    "message-trace",
    "Microsoft 365 message trace",
    _is_message_trace,
    _inspect_message_trace,
    _message_trace_rows,
)
ZEEK = RecordFormat("zeek-dns", "Zeek dns.log", _is_zeek_dns, _inspect_zeek_dns, _zeek_dns_rows)
SQUID = RecordFormat("squid", "Squid access.log", _is_squid, _inspect_squid, _squid_rows)
FORTIGATE = RecordFormat(
    "fortigate", "FortiGate log (key=value)", is_fortigate, _inspect_fortigate, _fortigate_rows
)
SIGNUP = RecordFormat(
    "mail-signup", "Mail service sign-up log", _is_signup, _inspect_signup, _signup_rows
)
RECORD_FORMATS = (GWS, UAL, ENTRA, MESSAGE_TRACE_FORMAT, ZEEK, SQUID, SIGNUP, FORTIGATE)


def record_format(record: Mapping[str, Any]) -> RecordFormat | None:
    """The format a JSON record is in, or None."""
    for candidate in RECORD_FORMATS:
        if candidate.looks_like(record):
            return candidate
    return None
