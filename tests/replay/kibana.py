"""Kibana's detection engine replayed over a built rule (rules.ndjson as shipped).

A rule runs every ``interval``, each run up to two minutes late (Task Manager's drift), and
resolves ``from`` against the moment it runs. It reads the documents ingested by then whose
time field lies in ``from``..now: ``timestamp_override`` (``event.ingested``) where the rule
sets it, ``@timestamp`` where a document lacks it and the fallback is kept, ``@timestamp`` for
ES|QL (Kibana applies the range to ``@timestamp`` there). Per type:

- ``eql``: the query runs in Elastic's ``eql`` library over the run's documents; an alert's
  id is its events' ids, so a later run that finds the same events writes no new alert.
- ``new_terms``: a combination of ``new_terms_fields`` is new when its first document since
  ``history_window_start`` falls in the run's range; which documents the query selects comes
  from the reference engine (no Lucene engine runs here), the windows from the rule.
- ``esql``: the query runs in the ES|QL evaluator (tests/replay/esql.py) over the run's
  documents and, for a rule reading ``.alerts-security.alerts-*``, the alerts written by then;
  every row is a new alert (aggregating queries have no source ids to deduplicate on).

``alert_suppression`` then holds back an alert whose ``group_by`` values already alerted
within ``duration`` (missing values form a group of their own: ``suppress``).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from converters.domains import DomainList
from converters.engine import EqlEngine
from converters.engine.ecs import DOCUMENT_ID, get_path
from tests.replay import esql

Document = dict[str, Any]
DRIFT_SECONDS = 120
ALERTS_INDEX = ".alerts-security.alerts-default"
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class KibanaAlert:
    rule_id: str
    created: float
    event_ids: tuple[str, ...]
    fields: Mapping[str, Any] = field(default_factory=dict)  # the row, or the first document

    def document(self) -> Document:
        """The alert as the alerts index holds it, for rules that read alerts."""
        source = {k: v for k, v in self.fields.items() if not k.startswith("_")}
        stamp = datetime.fromtimestamp(self.created, UTC).isoformat()
        kibana = {"alert": {"rule": {"rule_id": self.rule_id}}}
        return {**source, "_index": ALERTS_INDEX, "@timestamp": stamp, "kibana": kibana}


def span(text: str) -> float:
    match = re.fullmatch(r"(?:now-)?(\d+)([smhd])", text)
    if not match:
        raise ValueError(f"the replay does not know the time span {text!r}")
    return int(match.group(1)) * _UNIT[match.group(2)]


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _when(rule: Mapping[str, Any], document: Document) -> float | None:
    """The time the rule's range applies to."""
    override = rule.get("timestamp_override") if rule["type"] != "esql" else None
    if override:
        value = _epoch(get_path(document, override))
        if value is not None or rule.get("timestamp_override_fallback_disabled"):
            return value
    return _epoch(document.get("@timestamp"))


def _value(fields: Mapping[str, Any], name: str) -> Any:
    return fields[name] if name in fields else get_path(fields, name)


class _Run:
    def __init__(self, rule: Mapping[str, Any], ran: float, documents: list[Document]) -> None:
        self.rule = rule
        self.ran = ran
        start = ran - span(rule["from"])
        self.documents = [
            d
            for d in documents
            if d["_ingested"] <= ran and (w := _when(rule, d)) is not None and start <= w <= ran
        ]


def _eql(run: _Run, domains: DomainList) -> list[tuple[tuple[str, ...], Document]]:
    engine = EqlEngine(domains)
    engine.load(run.documents)
    by_id = {str(d[DOCUMENT_ID]): d for d in run.documents}
    return [(a.event_ids, by_id[a.event_ids[0]]) for a in engine.run(run.rule["query"])]


def _new_terms(
    run: _Run, history: Sequence[Document], selection: Collection[str]
) -> list[tuple[tuple[str, ...], Document]]:
    rule = run.rule
    names = rule["new_terms_fields"]
    since = run.ran - span(rule["history_window_start"])
    start = run.ran - span(rule["from"])
    first: dict[tuple[Any, ...], tuple[float, Document]] = {}
    for document in history:
        when = _when(rule, document)
        if (
            str(document[DOCUMENT_ID]) not in selection
            or document["_ingested"] > run.ran
            or when is None
            or not since <= when <= run.ran
        ):
            continue
        terms = tuple(get_path(document, n) for n in names)
        if None in terms:
            continue
        if terms not in first or when < first[terms][0]:
            first[terms] = (when, document)
    return [
        ((str(document[DOCUMENT_ID]),), document)
        for when, document in first.values()
        if when >= start
    ]


def replay(
    rule: Mapping[str, Any],
    documents: list[Document],
    start: float,
    end: float,
    *,
    domains: DomainList,
    selection: Collection[str] = (),
    alerts: Sequence[KibanaAlert] = (),
    seed: int = 0,
) -> list[KibanaAlert]:
    """The alerts a rule writes, run every interval from ``start`` to ``end``. ``selection``:
    the ids of the documents a new-terms rule's query selects; ``alerts``: the alerts other
    rules wrote, for a rule that reads them."""
    drift = random.Random(seed)
    interval = span(rule["interval"])
    suppression = rule.get("alert_suppression")
    group_by = suppression["group_by"] if suppression else []
    duration = (
        span(f"{suppression['duration']['value']}{suppression['duration']['unit']}")
        if (suppression)
        else 0.0
    )
    written: set[tuple[str, ...]] = set()
    held: dict[tuple[Any, ...], float] = {}
    result: list[KibanaAlert] = []
    moment = start
    while moment < end:
        ran = moment + drift.uniform(0, DRIFT_SECONDS)
        moment += interval
        if rule["type"] == "esql":
            past = [a.document() for a in alerts if a.created <= ran]
            for d in past:
                d["_ingested"] = _epoch(d["@timestamp"])
            run = _Run(rule, ran, documents + past)
            found = [((), row) for row in esql.run(rule["query"], run.documents, ran)]
        elif rule["type"] == "eql":
            found = _eql(_Run(rule, ran, documents), domains)
        elif rule["type"] == "new_terms":
            found = _new_terms(_Run(rule, ran, documents), documents, selection)
        else:
            raise ValueError(f"the replay does not run {rule['type']} rules")
        for event_ids, fields in found:
            if event_ids and event_ids in written:
                continue
            written.add(event_ids)
            key = tuple(_value(fields, name) for name in group_by)
            if group_by and held.get(key, -math.inf) > ran:
                continue
            if group_by:
                held[key] = ran + duration
            result.append(KibanaAlert(rule["rule_id"], ran, event_ids, fields))
    return result
