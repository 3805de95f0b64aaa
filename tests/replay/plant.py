"""Planted records: raw records in the collector's format, each with the attack it belongs to
and how long after the event the SIEM indexed it; and the SIEM's views of them (Splunk
events with ``_time``/``_indextime``, Elastic documents with ``event.ingested``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from converters.domains import DomainList
from converters.engine import SqliteEngine, ecs_documents, sigma_rows
from converters.engine.adapters import EVENT_ID, TIMESTAMP
from converters.engine.ecs import DOCUMENT_ID
from converters.loading.rules import RuleSet
from tests.timelines import _stamp, at

Event = dict[str, Any]


@dataclass(frozen=True)
class Planted:
    record: dict[str, Any]
    delay_minutes: float  # from the event to the moment the SIEM indexed the record
    attack: str  # the attack, or benign activity, the record belongs to


def logged_in(minutes: float, account: str) -> dict[str, Any]:
    """A UAL "UserLoggedIn" record of ``account``, as the Management Activity API returns it."""
    return {
        "CreationTime": _stamp(at(minutes)),
        "Id": str(uuid.uuid4()),
        "Operation": "UserLoggedIn",
        "OrganizationId": "4b2a0c1e-7f3d-4c8a-9e61-0d5b3a2f1c47",
        "RecordType": 15,
        "ResultStatus": "Success",
        "UserKey": "1003200000000001",
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ClientIP": "198.51.100.31",
        "ObjectId": "00000003-0000-0000-c000-000000000000",
        "UserId": account,
        "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [{"Name": "RequestType", "Value": "Login:login"}],
        "Actor": [{"ID": account, "Type": 5}],
        "Target": [{"ID": "00000003-0000-0000-c000-000000000000", "Type": 0}],
    }


def _epoch(stamp: str) -> float:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Store:
    """The planted records as both SIEMs hold them."""

    plants: list[Planted]
    domains: DomainList
    engine: SqliteEngine = field(init=False)
    attack_of: dict[str, str] = field(default_factory=dict)  # event id -> attack
    indexed: dict[str, float] = field(default_factory=dict)  # event id -> index time

    def __post_init__(self) -> None:
        self.engine = SqliteEngine(self.domains)
        for plant in self.plants:
            rows = sigma_rows(plant.record)
            for row in rows:
                event_id = str(row[EVENT_ID])
                self.attack_of[event_id] = plant.attack
                self.indexed[event_id] = _epoch(str(row[TIMESTAMP])) + plant.delay_minutes * 60
            self.engine.load(rows)

    def splunk_events(self, ruleset: RuleSet, name: str, sql: str) -> list[Event]:
        """The events of ``name``'s search (its matches in the reference engine) as Splunk
        holds them: each field under its Splunk name, with ``_time`` and ``_indextime``."""
        source = ruleset.sources_of(ruleset.by_name(name))[0]
        events = []
        for alert in self.engine.run(sql):
            (event_id,) = alert.event_ids
            row = dict(self.engine.event(event_id))
            for f in source.fields:
                row[f.splunk_result] = row.get(f.sigma)
                row.setdefault(f.splunk, row.get(f.sigma))
            row["_time"] = _epoch(str(row[TIMESTAMP]))
            row["_indextime"] = self.indexed[event_id]
            events.append(row)
        return events

    def elastic_documents(self) -> list[Event]:
        """ECS documents as the integrations index them, ``event.ingested`` set to the index
        time and ``_index`` to the data stream's backing index."""
        documents = []
        for plant in self.plants:
            for document in ecs_documents(plant.record, self.domains):
                event_id = str(document[DOCUMENT_ID])
                ingested = self.indexed[event_id]
                document.setdefault("event", {})["ingested"] = _iso(ingested)
                dataset = document["event"]["dataset"]
                document["_index"] = f"logs-{dataset}-default"
                document["_ingested"] = ingested
                documents.append(document)
        return documents
