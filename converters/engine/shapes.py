"""The shapes in which SIEMs and exports really hold each source's records -> one canonical
record per source, the shape the Sigma field names are written against.

Which captured record or ingest pipeline shows each shape is named in the data source's
module (converters/datasources/, ``shapes``). Every function here returns its input
unchanged when it already is canonical, cheaply: the hunt calls them on every record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from converters.engine.adapters import is_mapping

GWS_ACTIVITY_KIND = "admin#reports#activity"
GWS_PAGE_KIND = "admin#reports#activities"

# Containers a file may wrap its records in: a Reports API page (``items``), a Graph or
# Reporting Web Service answer (``value``), an Azure Monitor export (``records``). The
# wrapper's other keys are paging and metadata only (``kind``, ``nextPageToken``,
# ``odata.nextLink``, ``@odata.context``, ``etag``).
CONTAINER_KEYS = ("items", "value", "records")
_WRAPPER_KEYS = frozenset({"kind", "etag", "nextPageToken", "nextLink"})


def records_in(value: object) -> list[object] | None:
    """The records of a container (a JSON array, a Reports API page, a Graph or Reporting
    Web Service answer, an Azure Monitor export), or None when ``value`` is a record."""
    if type(value) is dict:
        # A record, the common case, answered without the lookups below: CONTAINER_KEYS and
        # OData's "d" looked up one by one (a frozenset's isdisjoint walks every key).
        if (
            "items" not in value
            and "value" not in value
            and "records" not in value
            and "d" not in value
            and value.get("kind") != GWS_PAGE_KIND
        ):
            return None
    elif isinstance(value, list):
        return value
    if not is_mapping(value):
        return None
    if value.get("kind") == GWS_PAGE_KIND:
        items = value.get("items", [])  # an empty page has no "items" at all
        return items if isinstance(items, list) else None
    odata = value.get("d")  # OData v2 verbose JSON: {"d": {"results": [...]}} or {"d": [...]}
    if len(value) == 1 and is_mapping(odata) and isinstance(odata.get("results"), list):
        return list(odata["results"])
    if len(value) == 1 and isinstance(odata, list):
        return odata
    for key in CONTAINER_KEYS:
        inner = value.get(key)
        if isinstance(inner, list) and all(k == key or _is_wrapper_key(str(k)) for k in value):
            return inner
    return None


def _is_wrapper_key(key: str) -> bool:
    return key in _WRAPPER_KEYS or key.startswith(("odata.", "@odata.", "__"))


# Google Workspace activities: the Reports API lists a record's events (``events: [...]``);
# Elastic's integration ingests one event per document (``events: {...}``); the Splunk add-on
# stores one per event under the singular ``event``.


def is_gws_activity(record: Mapping[str, Any]) -> bool:
    if record.get("kind") == GWS_ACTIVITY_KIND:
        return True
    ident = record.get("id")
    return (
        is_mapping(ident)
        and "applicationName" in ident
        and ("events" in record or "event" in record)
    )


def gws_activity(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The activity with its events as a list."""
    events = record.get("events")
    if type(events) is list:
        return record
    if is_mapping(events):
        return {**record, "events": [events]}
    event = record.get("event")
    if events is None and is_mapping(event):
        canonical = {k: v for k, v in record.items() if k != "event"}
        canonical["events"] = [event]
        return canonical
    return record


# Microsoft Entra ID audit: Graph's directoryAudit, or the same record under ``properties``
# of an Azure Monitor diagnostic record (Event Hub, storage export; Splunk azure:monitor:aad,
# Elastic azure.auditlogs).


def is_entra_graph(record: Mapping[str, Any]) -> bool:
    return "activityDisplayName" in record and "activityDateTime" in record


def is_entra_monitor(record: Mapping[str, Any]) -> bool:
    properties = record.get("properties")
    return (
        is_mapping(properties)
        and "operationName" in record
        and str(record.get("category", "")).lower() == "auditlogs"
    )


def is_entra(record: Mapping[str, Any]) -> bool:
    return is_entra_graph(record) or is_entra_monitor(record)


def entra_audit(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The directoryAudit itself, with the caller's address as ``callerIpAddress``. From a
    diagnostic record: its ``properties``, with the envelope's time, name, id and
    ``callerIpAddress`` where they are missing. Graph's directoryAudit names no caller
    address: the initiating user's address stands for it (the diagnostic record's
    callerIpAddress is that address for a user's activity)."""
    if is_entra_graph(record) and not is_entra_monitor(record):
        if "callerIpAddress" in record:
            return record
        initiator = record.get("initiatedBy")
        user = initiator.get("user") if is_mapping(initiator) else None
        address = user.get("ipAddress") if is_mapping(user) else None
        return {**record, "callerIpAddress": address or None}
    if not is_entra_monitor(record):
        return record
    audit = dict(record["properties"])
    audit.setdefault("activityDisplayName", record.get("operationName"))
    if not audit.get("activityDateTime"):
        audit["activityDateTime"] = record.get("time")
    if not audit.get("id"):
        # The diagnostic record has no id of its own beside properties.id.
        audit["id"] = f"{record.get('correlationId', '')}:{record.get('time', '')}"
    audit["callerIpAddress"] = record.get("callerIpAddress") or None
    return audit


# Microsoft 365 Unified Audit Log: the client's address. Azure AD (RecordType 8) records
# usually carry none (empty or missing ClientIP and ActorIpAddress); Exchange writes it with a
# port, IPv6 in brackets; some workloads write ClientIPAddress. The Sigma field ``ClientIP`` is
# the address alone, from the first of those keys that holds one.

_IP_KEYS = ("ClientIPAddress", "ClientIP", "ActorIpAddress")
_BRACKETED = re.compile(r"^\[([^\]]+)\](?::\d+)?$")
_V4_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$")
_MAPPED_V4 = re.compile(r"^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$", re.IGNORECASE)


def client_address(value: str) -> str:
    """``1.2.3.4:52816`` -> ``1.2.3.4``; ``[2001:db8::1]:443`` -> ``2001:db8::1``;
    ``::ffff:1.2.3.4`` -> ``1.2.3.4``; a bare IPv6 address or anything else as it is."""
    text = value.strip()
    found = _BRACKETED.match(text) or _V4_PORT.match(text)
    if found:
        text = found.group(1)
    mapped = _MAPPED_V4.match(text)
    return mapped.group(1) if mapped else text


def ual_record(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record with ``ClientIP`` the bare address of whichever key holds one."""
    ip = record.get("ClientIP")
    if type(ip) is str and ip and ":" not in ip and "[" not in ip:
        return record  # the common case: a bare IPv4 address
    for key in _IP_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return {**record, "ClientIP": client_address(value)}
    if ip is None:
        return record
    return {k: v for k, v in record.items() if k != "ClientIP"}  # empty: no address


# Exchange Online message trace: the Reporting Web Service's JSON (light: ISO ``Received``
# without a zone, UTC; verbose: ``/Date(ms)/`` and a ``__metadata`` object), or CSV rows.

_OData_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def odata_date(value: str) -> datetime | None:
    """``/Date(1659020996164)/`` as an aware UTC datetime; None for other text."""
    found = _OData_DATE.match(value)
    if found is None:
        return None
    return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)


def message_trace(record: Mapping[str, Any]) -> Mapping[str, Any]:
    if "__metadata" not in record:
        return record
    return {k: v for k, v in record.items() if k != "__metadata"}
