"""The EQL backend's queries run on ECS documents with Elastic's ``eql`` library.

What the library needs, and where it differs from Elasticsearch:
- Each event is ``eql.Event(type, time, data)``. ``any where`` matches every type; a typed
  query (``iam where``) matches ``event.category``, as Elasticsearch's default
  ``event_category_field`` does, so the type is the first ``event.category``.
- ``time`` is in the engine's ``time_unit`` (ticks per second, FILETIME by default); ours are
  epoch milliseconds, so ``time_unit`` is 1000 and ``maxspan=1h`` is 3,600,000 ticks. The
  library drops a partial sequence once its first event is *more* than maxspan older than
  the current event, so a span of exactly maxspan still matches.
- Events must be streamed in time order (the library does not sort).
- Dotted field names walk nested objects, as ECS documents are indexed.
- Strings compare case-insensitively, even ``==`` and ``sequence by`` joins (Elasticsearch
  compares keyword fields case-sensitively; only ``:`` and ``like~`` ignore case there).
- Each new matching event also starts a new partial sequence while older ones advance, so six
  matches within maxspan give two sequences (events 1-5 and 2-6), like the SQLite backend's
  two qualifying windows.
- ``regex`` matches a prefix and ``?`` is no wildcard in the library; the parsed query is
  adjusted to read both as Elasticsearch does (``_as_elasticsearch``).
- ``with runs=`` is refused by default (the parser's ``allow_runs`` setting would expand it);
  the backend writes the repeated sequence out instead, which the library runs as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import eql
import eql.walkers

from converters.domains import DomainList
from converters.engine.ecs import DOCUMENT_ID, ECS_TIMESTAMP, ecs_documents, get_path
from converters.engine.sqlite_engine import Alert, EngineError, iso_from_millis
from converters.sources import SOURCES

TIME_UNIT = 1000  # ticks per second: event times are epoch milliseconds


class EqlEngine:
    """``EqlEngine(domains)``, ``.load(documents)`` (or ``.load_records(raw)``),
    ``.run(query) -> list[Alert]``."""

    def __init__(self, domains: DomainList) -> None:
        self.domains = domains
        self._events: list[Any] = []

    def load(self, documents: Iterable[Mapping[str, Any]]) -> None:
        for document in documents:
            category = get_path(document, "event.category")
            if isinstance(category, list):
                category = category[0] if category else None
            event_type = category if isinstance(category, str) else "generic"
            self._events.append(eql.Event(event_type, _millis(document), dict(document)))
        # Stable: events of the same millisecond keep their load order.
        self._events.sort(key=lambda event: event.time)

    def load_records(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Raw records -> ECS documents (with the enrichment) -> loaded."""
        for record in records:
            self.load(ecs_documents(record, self.domains))

    def run(self, query: str) -> list[Alert]:
        parsed = parse(query)
        outputs: list[Any] = []
        engine = eql.PythonEngine({"time_unit": TIME_UNIT})
        engine.add_output_hook(outputs.append)
        engine.add_query(parsed)
        engine.stream_events(self._events)
        join_fields = _join_fields(parsed)
        return [_alert(output.events, join_fields) for output in outputs]


def parse(query: str) -> Any:
    """Parse as Elasticsearch EQL (``:``, ``like~``, ``!= null``); EngineError if refused."""
    try:
        with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
            parsed = eql.parse_query(query)
    except eql.EqlError as exc:
        raise EngineError(f"the eql library refuses the query: {exc}\nquery: {query}") from exc
    _as_elasticsearch(parsed)
    return parsed


def _as_elasticsearch(parsed: Any) -> None:
    """Where the library reads a pattern otherwise than Elasticsearch, read it as Elasticsearch
    does: a ``regex`` matches the whole value (the library matches a prefix), and ``?`` in a
    ``:`` or ``like`` pattern is any one character (the library takes it literally)."""
    for node in eql.walkers.Walker().iter_node(parsed):
        if not isinstance(node, eql.ast.FunctionCall):
            continue
        patterns = [a for a in node.arguments[1:] if isinstance(a, eql.ast.String)]
        if node.name == "match":
            for arg in patterns:
                arg.value = f"(?:{arg.value})\\Z"
        elif node.name == "wildcard" and any("?" in arg.value for arg in patterns):
            node.name = "match"
            for arg in patterns:
                arg.value = _wildcard_regex(arg.value)


def _wildcard_regex(pattern: str) -> str:
    wildcards = {"*": ".*", "?": "."}
    return "".join(wildcards.get(c) or re.escape(c) for c in pattern) + "\\Z"


def _join_fields(parsed: Any) -> list[str]:
    """The ``sequence by`` fields; the parser copies them onto every subquery."""
    first = getattr(parsed, "first", None)
    queries = getattr(first, "queries", None)
    if not queries:
        return []
    return [value.render() for value in queries[0].join_values]


def _alert(events: list[Any], join_fields: list[str]) -> Alert:
    first = events[0]
    group = {}
    for name in join_fields:
        value = get_path(first.data, name)
        # The library folds case to join; report the key as it compared it.
        group[_sigma_name(first.data, name)] = str(value).lower() if value is not None else ""
    return Alert(
        group=group,
        window_start=iso_from_millis(int(first.time)),
        window_end=iso_from_millis(int(events[-1].time)),
        event_ids=tuple(str(event.data.get(DOCUMENT_ID)) for event in events),
    )


def _sigma_name(document: Mapping[str, Any], ecs_name: str) -> str:
    """The rule's field behind an ECS field, so that alerts of both engines carry the same
    group keys (ECS names are shared between sources, hence the lookup by dataset)."""
    dataset = get_path(document, "event.dataset")
    for source in SOURCES:
        if source.elastic_dataset == dataset:
            for field in source.fields:
                if field.elastic == ecs_name:
                    return field.sigma
    return ecs_name


def _millis(document: Mapping[str, Any]) -> int:
    stamp = document.get(ECS_TIMESTAMP)
    if not isinstance(stamp, str):
        raise ValueError(f"document {document.get(DOCUMENT_ID)!r} has no {ECS_TIMESTAMP}")
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)
