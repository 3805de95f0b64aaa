"""Raw audit records -> the documents the Elastic integrations would index (ECS, nested).

Only what the rules and the analyst need is mapped; every Sigma field lands where
converters.sources says the integration keeps it (``Field.elastic``), so the EQL the backend
writes and these documents cannot drift apart. Then the ingest-time disposable-domain
enrichment the package ships for Elastic is simulated: Elastic cannot test 10,000 domains in a
query, so an ingest pipeline writes the listed domain an address matched under
``dac.disposable_email.<address_key>`` and the EQL only tests that field for presence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from converters.backends.eql import ENRICHMENT_ROOT
from converters.datasources.proxy import PROXY
from converters.domains import DomainList
from converters.engine.adapters import EVENT_ID, TIMESTAMP, SigmaRow, SigmaValue
from converters.engine.records import canonical, detect_source, sigma_rows
from converters.engine.shapes import client_address
from converters.sources import ENTRA_AUDIT, M365_AUDIT, DataSource

ECS_TIMESTAMP = "@timestamp"
# Elasticsearch's document id; the EQL engine reports evidence by it.
DOCUMENT_ID = "_id"

# RecordType numbers of the Management Activity API -> the names the o365 integration puts in
# event.code (AuditLogRecordType enumeration; the ones seen around account and mail changes).
UAL_RECORD_TYPES: Mapping[int, str] = {
    1: "ExchangeAdmin",
    2: "ExchangeItem",
    3: "ExchangeItemGroup",
    4: "SharePoint",
    6: "SharePointFileOperation",
    8: "AzureActiveDirectory",
    9: "AzureActiveDirectoryAccountLogon",
    14: "SharePointSharingOperation",
    15: "AzureActiveDirectoryStsLogon",
    18: "SecurityComplianceCenterEOPCmdlet",
    25: "MicrosoftTeams",
    28: "ThreatIntelligence",
    40: "SecurityComplianceAlerts",
    50: "ExchangeItemAggregated",
}
_UAL_PARAMETERS = "o365.audit.Parameters"


def ecs_documents(record: Mapping[str, Any], domains: DomainList) -> list[dict[str, Any]]:
    """The indexed documents of one raw record (one per Reports API event, as the
    google_workspace integration splits activities), enrichment applied."""
    source = detect_source(record)
    raw, record = record, canonical(record)[1]
    documents = []
    for row in sigma_rows(record):
        document = _map_fields(source, row)
        if source is M365_AUDIT:
            _add_ual_extras(document, raw)
        elif source is PROXY:
            _drop_connect_domain(document)
        elif source is ENTRA_AUDIT:
            # The azure integration keeps additionalDetails as its list of key/value objects.
            details = record.get("additionalDetails")
            if isinstance(details, list):
                set_path(document, "azure.auditlogs.properties.additional_details", details)
        enrich(document, source, domains)
        documents.append(document)
    return documents


def enrich(document: dict[str, Any], source: DataSource, domains: DomainList) -> None:
    """The simulated ingest-time enrichment (converters.targets.enrichment builds the real
    pipeline): it reads each address field where the document holds it, as the pipeline's
    script does, and writes the listed domain that field matched."""
    for field in source.fields:
        if field.address_key is None:
            continue
        found = domains.match_addresses(get_path(document, field.elastic))
        if found is not None:
            set_path(document, f"{ENRICHMENT_ROOT}.{field.address_key}", found)


def get_path(document: Mapping[str, Any], dotted: str) -> object:
    """The value at a dotted path; through a list of objects, the list of their values (as
    Elasticsearch reads an object array and the enrichment script walks it)."""
    node: object = document
    for part in dotted.split("."):
        if isinstance(node, list):
            found: list[object] = []
            for item in node:
                value = item.get(part) if isinstance(item, Mapping) else None
                found += value if isinstance(value, list) else [] if value is None else [value]
            node = found or None
        elif isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return node


def set_path(document: dict[str, Any], dotted: str, value: object) -> None:
    parts = dotted.split(".")
    node = document
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ValueError(f"cannot set {dotted!r}: {part!r} already holds a value")
        node = child
    node[parts[-1]] = value


def _map_fields(source: DataSource, row: SigmaRow) -> dict[str, Any]:
    document: dict[str, Any] = {
        DOCUMENT_ID: row[EVENT_ID],
        ECS_TIMESTAMP: f"{row[TIMESTAMP]}Z",
    }
    set_path(document, "event.dataset", source.elastic_dataset)
    for field in source.fields:
        value = row.get(field.sigma)
        if value is None:
            continue
        mapped = _elastic_value(source, field.sigma, value)
        if field.numeric and isinstance(mapped, str):
            mapped = _number(mapped)
        set_path(document, field.elastic, mapped)
    return document


def _number(value: str) -> Any:
    """As the integration's numeric mapping indexes it; a non-number stays text (Elasticsearch
    would reject the document, the engine shows the value as read)."""
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _elastic_value(source: DataSource, sigma_field: str, value: SigmaValue) -> SigmaValue:
    renames = source.elastic_value_maps.get(sigma_field)
    if renames is None or not isinstance(value, str) or value not in renames:
        return value
    # The integration rewrites exactly this spelling (case-sensitive); others stay as read.
    return renames[value][0]


def _drop_connect_domain(document: dict[str, Any]) -> None:
    """The squid integration parses the URL only when the method is not CONNECT: a tunnel's
    document has ``host:port`` in url.original and no url.domain (its pipeline and test
    expectations), so rules must test the tunnel's URL too."""
    if str(get_path(document, "http.request.method") or "").upper() == "CONNECT":
        url = document.get("url")
        if isinstance(url, dict):
            url.pop("domain", None)


def _add_ual_extras(document: dict[str, Any], record: Mapping[str, Any]) -> None:
    record_type = record.get("RecordType")
    if isinstance(record_type, int):
        set_path(document, "event.code", UAL_RECORD_TYPES.get(record_type, str(record_type)))
    elif record_type is not None:
        set_path(document, "event.code", str(record_type))
    # The integration turns the Parameters name/value list into an object.
    for parameter in record.get("Parameters") or []:
        if isinstance(parameter, Mapping) and "Name" in parameter:
            set_path(document, f"{_UAL_PARAMETERS}.{parameter['Name']}", parameter.get("Value"))
    # source.ip: the integration takes the first of these keys that is present, even when it
    # is empty (then there is no address), and strips a port and brackets.
    for key in ("ClientIPAddress", "ClientIP", "ActorIpAddress"):
        if key in record:
            value = record[key]
            address = client_address(value) if isinstance(value, str) else ""
            source = document.setdefault("source", {})
            if address:
                source["ip"] = address
            else:
                source.pop("ip", None)
            break
