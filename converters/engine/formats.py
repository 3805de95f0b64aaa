"""Every raw record format the hunt reads -> its data source, its events, and its Sigma rows.

Each format first makes its records canonical (converters.engine.shapes: the shapes SIEMs and
exports hold them in). Google Workspace records are read in converters.engine.gws; UAL records
go through converters.engine.adapters (the fixed columns the rule tests use). Squid access.log
and FortiGate rows carry the Sigma names of their generic sources (converters.datasources.proxy,
.firewall; parsed in converters.engine.netlogs). The other formats' Sigma field names are the
raw names flattened with dots (a list of objects becomes one multivalue field per key,
``targetResources.userPrincipalName``): the names an analyst sees in the raw log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from converters.datasources.firewall import FIREWALL
from converters.datasources.proxy import PROXY
from converters.engine import shapes
from converters.engine.adapters import _UAL_KEYS, Keep, RecordFormatError, SigmaRow, ual_row
from converters.engine.fastcells import ual_cells
from converters.engine.gws import GMAIL_BIGQUERY, GWS
from converters.engine.netlogs import (
    fortigate_event_id,
    fortigate_fields,
    fortigate_time,
    is_fortigate,
    squid_event_id,
    squid_fields,
)
from converters.engine.rowtools import (
    Inspected,
    RecordFormat,
    engine_columns,
    flatten,
    iso_time,
    kept_format,
    parse_time,
)
from converters.sources import M365_AUDIT

ENTRA_AUDIT = "entra_audit"
MESSAGE_TRACE = "m365_message_trace"
ZEEK_DNS = "zeek_dns"
SQUID_ACCESS = PROXY.name
# Squid's native access.log format (logformat squid), field by field.
SQUID_FIELDS = (
    "time", "elapsed", "remotehost", "code", "status", "bytes", "method", "url", "rfc931",
    "peerstatus", "peerhost", "type",
)  # fmt: skip

# Microsoft 365 Unified Audit Log records (Management Activity API, AuditData).


def _is_ual(record: Mapping[str, Any]) -> bool:
    # _UAL_KEYS one by one: all() over a generator costs more, on every UAL record read.
    return (
        "Id" in record
        and "CreationTime" in record
        and "Operation" in record
        and "Workload" in record
        and "RecordType" in record
    )


def _inspect_ual(record: Mapping[str, Any]) -> Inspected:
    if not _is_ual(record):
        missing = [key for key in _UAL_KEYS if key not in record]
        raise RecordFormatError(f"not a Unified Audit Log record: no {', '.join(missing)}")
    return M365_AUDIT.name, 1, iso_time(record["CreationTime"])


# Microsoft Entra ID audit: Graph directoryAudits, or Azure Monitor diagnostic records.


def _inspect_entra(record: Mapping[str, Any]) -> Inspected:
    if not shapes.is_entra_graph(record) or not record.get("id"):
        raise RecordFormatError(
            "not an Entra ID audit record (a directoryAudit with id and activityDateTime, or "
            "an Azure Monitor AuditLogs record with time, operationName and properties)"
        )
    return ENTRA_AUDIT, 1, parse_time(record["activityDateTime"])


def _entra_rows(record: Mapping[str, Any], inspected: Inspected, keep: Keep) -> list[SigmaRow]:
    return [engine_columns(flatten(record, keep=keep), inspected[2], ENTRA_AUDIT, record["id"])]


# Microsoft 365 message trace (Get-MessageTrace | Export-Csv, or the Reporting Web Service's
# JSON).


def _is_message_trace(record: Mapping[str, Any]) -> bool:
    return "SenderAddress" in record and "RecipientAddress" in record and "Received" in record


def _inspect_message_trace(record: Mapping[str, Any]) -> Inspected:
    if not _is_message_trace(record):
        raise RecordFormatError("not a message trace row (Received, SenderAddress, ...)")
    return MESSAGE_TRACE, 1, parse_time(record["Received"])


def _message_trace_rows(
    record: Mapping[str, Any], inspected: Inspected, keep: Keep
) -> list[SigmaRow]:
    # One row per recipient shares the message's trace id: the recipient makes it unique.
    trace = record.get("MessageTraceId") or record.get("MessageId")
    recipient = record.get("RecipientAddress")
    native = f"{trace}:{recipient}" if trace and recipient else trace
    return [engine_columns(flatten(record, keep=keep), inspected[2], MESSAGE_TRACE, native)]


# The mail service sign-up log (converters/datasources/signup.py), NDJSON.
MAIL_SIGNUP = "mail_signup"


def _is_signup(record: Mapping[str, Any]) -> bool:
    return "signup_id" in record and str(record.get("event", "")).startswith("account.")


def _inspect_signup(record: Mapping[str, Any]) -> Inspected:
    if not _is_signup(record) or not record.get("ts"):
        raise RecordFormatError("not a sign-up log record (signup_id, event, ts, ...)")
    return MAIL_SIGNUP, 1, parse_time(record["ts"])


def _signup_rows(record: Mapping[str, Any], inspected: Inspected, keep: Keep) -> list[SigmaRow]:
    row = flatten(record, keep=keep)
    return [engine_columns(row, inspected[2], MAIL_SIGNUP, record["signup_id"])]


# Zeek dns.log (JSON, or the TSV default read into a mapping by its #fields header).


def _is_zeek_dns(record: Mapping[str, Any]) -> bool:
    return "uid" in record and "query" in record and "ts" in record


def _inspect_zeek_dns(record: Mapping[str, Any]) -> Inspected:
    if not _is_zeek_dns(record):
        raise RecordFormatError("not a Zeek dns.log entry (ts, uid, query)")
    return ZEEK_DNS, 1, parse_time(record["ts"])


def _zeek_dns_rows(record: Mapping[str, Any], inspected: Inspected, keep: Keep) -> list[SigmaRow]:
    return [engine_columns(flatten(record, keep=keep), inspected[2], ZEEK_DNS, record["uid"])]


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
    return [engine_columns(squid_fields(record), when, SQUID_ACCESS, squid_event_id(record))]


# FortiGate logs, key=value syslog (converters.engine.netlogs.fortigate_record reads a line).
# Traffic and security-profile (utm) logs are the firewall source; the other types (event,
# ...) are counted as fortigate_<type>.
_FIREWALL_TYPES = frozenset({"traffic", "utm", "dns"})


def _inspect_fortigate(record: Mapping[str, Any]) -> Inspected:
    if not is_fortigate(record):
        raise RecordFormatError("not a FortiGate log entry (logid, type, date or eventtime)")
    kind = str(record["type"])
    source = FIREWALL.name if kind in _FIREWALL_TYPES else f"fortigate_{kind}"
    return source, 1, fortigate_time(record)


def _fortigate_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    source, _count, when = _inspect_fortigate(record)
    row = fortigate_fields(record) if source == FIREWALL.name else flatten(record)
    return [engine_columns(row, when, source, fortigate_event_id(record))]


UAL = RecordFormat(
    "ual",
    "Microsoft 365 Unified Audit Log records",
    _is_ual,
    _inspect_ual,
    lambda record: [ual_row(record)],
    shapes.ual_record,
    lambda record, inspected, keep: [ual_row(record, keep, inspected[2])],
    ual_cells,
)
ENTRA = kept_format(
    "entra",
    "Microsoft Entra ID audit records (Graph directoryAudits or Azure Monitor AuditLogs)",
    shapes.is_entra,
    _inspect_entra,
    _entra_rows,
    shapes.entra_audit,
)
MESSAGE_TRACE_FORMAT = kept_format(
    "message-trace",
    "Microsoft 365 message trace",
    _is_message_trace,
    _inspect_message_trace,
    _message_trace_rows,
    shapes.message_trace,
)
ZEEK = kept_format("zeek-dns", "Zeek dns.log", _is_zeek_dns, _inspect_zeek_dns, _zeek_dns_rows)
SQUID = RecordFormat("squid", "Squid access.log", _is_squid, _inspect_squid, _squid_rows)
FORTIGATE = RecordFormat(
    "fortigate", "FortiGate log (key=value)", is_fortigate, _inspect_fortigate, _fortigate_rows
)
SIGNUP = kept_format(
    "mail-signup", "Mail service sign-up log", _is_signup, _inspect_signup, _signup_rows
)
RECORD_FORMATS = (
    GWS,
    GMAIL_BIGQUERY,
    UAL,
    ENTRA,
    MESSAGE_TRACE_FORMAT,
    ZEEK,
    SQUID,
    SIGNUP,
    FORTIGATE,
)


def record_format(record: Mapping[str, Any]) -> RecordFormat | None:
    """The format a JSON record is in, or None."""
    for candidate in RECORD_FORMATS:
        if candidate.looks_like(record):
            return candidate
    return None
