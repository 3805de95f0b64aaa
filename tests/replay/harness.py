"""The built package's searches and rules replayed over planted records: the glue between a
build (savedsearches.conf, rules.ndjson), the reference engine's matches and the two
schedulers (tests/replay/splunk.py, tests/replay/kibana.py)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from converters.compile import Queries
from converters.domains import DomainList
from converters.loading.rules import RuleSet
from converters.writers.conf import conf_decode
from tests import spl_sim
from tests.dist_helpers import kibana_rules, read_conf
from tests.replay import kibana, splunk
from tests.replay.plant import Event, Planted, Store

Counts = dict[str, int]


def selection(sql: str) -> str:
    """A new-terms or absence rule's own selection inside its reference query."""
    match = re.match(r"SELECT e\.\* FROM \((SELECT \* FROM logs WHERE .*?)\) AS e WHERE ", sql)
    if not match:
        raise ValueError(f"not a new-terms or absence query: {sql}")
    return match.group(1)


class Replayer:
    def __init__(
        self, dist: Path, ruleset: RuleSet, sqlite_queries: Queries, domains: DomainList
    ) -> None:
        (conf,) = (dist / "splunk").glob("*/default/savedsearches.conf")
        self.stanzas = {
            title: {key: conf_decode(value) for key, value in stanza.items()}
            for title, stanza in read_conf(conf).items()
        }
        self.rules = {r["rule_id"]: r for r in kibana_rules(dist)}
        self.ruleset = ruleset
        self.sql = sqlite_queries
        self.domains = domains

    def splunk(
        self, name: str, plants: list[Planted], span: tuple[float, float], seed: int = 0
    ) -> tuple[Counts, list[splunk.Notable]]:
        """Notables per attack label of the rule's saved search over ``span``."""
        store = Store(plants, self.domains)
        stanza = self.stanzas[self.ruleset.by_name(name).title]
        leaves = self._leaves(store, name, stanza["search"])
        notables = splunk.replay(stanza, leaves, *span, seed=seed)
        return _counts(store, [n.row.get("dac_event_id") for n in notables]), notables

    def kibana(
        self, name: str, plants: list[Planted], span: tuple[float, float], seed: int = 0
    ) -> tuple[Counts, list[kibana.KibanaAlert]]:
        """Alerts per attack label of the rule's Kibana rule over ``span``; an aggregating
        ES|QL row is the attack's whose account or actor its group is."""
        store = Store(plants, self.domains)
        alerts = self._kibana_alerts(self.rules[self.ruleset.by_name(name).id], store, span, seed)
        found = [a.event_ids[0] if a.event_ids else _event_of_row(a.fields, store) for a in alerts]
        return _counts(store, found), alerts

    def _events(self, store: Store, rule: str, query: str | None = None) -> list[Event]:
        doc = self.ruleset.by_name(rule)
        return store.splunk_events(self.ruleset, rule, query or self.sql.by_rule[doc.id])

    def _leaves(self, store: Store, name: str, search: str) -> dict[str, list[Event]]:
        """The events each part of the search reads, as the reference engine matches them."""
        doc = self.ruleset.by_name(name)
        if doc.absence:
            own = self._events(store, name, selection(self.sql.by_rule[doc.id]))
            return {"dac_created": own, "dac_followup": self._events(store, doc.absence["rule"])}
        if doc.new_terms:
            return {name: self._events(store, name, selection(self.sql.by_rule[doc.id]))}
        if doc.is_correlation:
            return {leaf: self._events(store, leaf) for leaf in spl_sim.branch_evals(search)}
        return {name: self._events(store, name)}

    def _kibana_alerts(
        self, rule: dict[str, Any], store: Store, span: tuple[float, float], seed: int
    ) -> list[kibana.KibanaAlert]:
        read: list[kibana.KibanaAlert] = []
        if ".alerts-security.alerts-" in rule["query"]:  # it reads the inner rules' alerts
            for rule_id in re.findall(r'"([0-9a-f-]{36})"', rule["query"]):
                read += self._kibana_alerts(self.rules[rule_id], store, span, seed)
        chosen: set[str] = set()
        if rule["type"] == "new_terms":
            sql = selection(self.sql.by_rule[self.ruleset.by_id(rule["rule_id"]).id])
            chosen = {i for a in store.engine.run(sql) for i in a.event_ids}
        documents = store.elastic_documents()
        return kibana.replay(
            rule,
            documents,
            *span,
            domains=store.domains,
            selection=chosen,
            alerts=read,
            seed=seed,
        )


def _event_of_row(row: Any, store: Store) -> str | None:
    """A planted record whose account or actor the row's group value is."""
    values = {str(v).lower() for v in row.values() if isinstance(v, str)}
    for event_id in store.attack_of:
        event = store.engine.event(event_id)
        if {str(event.get(k, "")).lower() for k in ("UserId", "ObjectId")} & values:
            return event_id
    return None


def _counts(store: Store, event_ids: list[str | None]) -> Counts:
    """Alerts per attack label, every planted label present (zero where none alerted)."""
    counts: Counter[str] = Counter({p.attack: 0 for p in store.plants})
    for event_id in event_ids:
        if event_id is None:
            raise AssertionError("an alert that names no planted record")
        counts[store.attack_of[event_id]] += 1
    return dict(counts)
