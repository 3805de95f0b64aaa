"""`dac build` output for Elastic: Kibana rules as the import API takes them, with the
playbook in every investigation guide."""

from __future__ import annotations

import json
from pathlib import Path

import eql
import pytest

from converters.compile import skipped_targets
from converters.loading.rules import load_rules
from converters.playbook.model import load_playbook
from converters.timing import schedule_for, window_seconds
from tests.dist_helpers import ROOT, built_dist, kibana_contract_problems, kibana_rules
from tests.esql_syntax import EsqlSyntaxError, parse_esql


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_dist(tmp_path_factory)


def test_kibana_rules_follow_the_import_contract(dist: Path) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    rules = kibana_rules(dist)
    shipped = {d.id for d in ruleset.docs if "elastic" not in skipped_targets(d)}
    assert {r["rule_id"] for r in rules} == shipped
    for rule in rules:
        assert not kibana_contract_problems(rule), (rule["name"], kibana_contract_problems(rule))
        assert (rule["type"], rule["language"]) in {
            ("eql", "eql"), ("esql", "esql"), ("new_terms", "lucene"), ("threat_match", "lucene"),
        }  # fmt: skip
        if rule["type"] == "threat_match":
            # Account creation from an address Elastic's threat-intelligence integrations
            # list: the list itself is never written into a query.
            assert rule["threat_index"] == ["logs-ti_*"]
            assert rule["threat_indicator_path"] == "threat.indicator"
            for mapping in rule["threat_mapping"]:
                (entry,) = mapping["entries"]
                assert entry["type"] == "mapping" and entry["value"] == "threat.indicator.ip"
                assert rule["query"].endswith(f"AND {entry['field']}:*)")
        if rule["type"] == "new_terms":
            assert 1 <= len(rule["new_terms_fields"]) <= 3
            assert rule["history_window_start"].startswith("now-")
        else:
            assert "new_terms_fields" not in rule and "history_window_start" not in rule
        assert rule["severity"] in {"low", "medium", "high", "critical"}
        assert 0 <= rule["risk_score"] <= 100
        if rule["type"] != "esql":
            assert rule["index"] and all(i.startswith("logs-") for i in rule["index"])
        else:  # an ES|QL query names its indices itself; Kibana refuses `index` beside it
            assert "index" not in rule and rule["query"].startswith("FROM ")
        doc = ruleset.by_id(rule["rule_id"])
        schedule = schedule_for(doc, ruleset)
        assert rule["interval"] == ("60m" if doc.absence else "15m")
        # Late data: the look-back covers the run's slot, the sources' lag and the window.
        lag = max(s.delivery_lag_minutes for s in ruleset.sources_of(doc))
        looked_back = int(rule["from"].removeprefix("now-").removesuffix("m"))
        assert looked_back >= schedule.interval_minutes + lag + window_seconds(doc, ruleset) // 60
        if rule["type"] == "esql":
            assert "timestamp_override" not in rule  # ES|QL reads @timestamp over that look-back
        else:
            assert rule["timestamp_override"] == "event.ingested"
            assert rule["timestamp_override_fallback_disabled"] is False
        if rule["type"] == "eql" and doc.is_correlation:
            assert rule["timestamp_field"] == "@timestamp"  # sequences order by event time
        if doc.is_correlation or doc.new_terms or doc.absence:
            suppression = rule["alert_suppression"]
            assert 1 <= len(suppression["group_by"]) <= 3
            assert suppression["duration"]["value"] * 60 >= schedule.suppress_seconds
        assert isinstance(rule["version"], int) and rule["version"] >= 1
        assert rule["max_signals"] >= 1
        assert f"Indicator: {doc.indicator}" in rule["tags"]


def test_the_contract_catches_what_kibana_would_drop_or_refuse(dist: Path) -> None:
    rule = kibana_rules(dist)[0]
    assert not kibana_contract_problems(rule)
    assert kibana_contract_problems({**rule, "timestamp_ovveride": "x"})
    assert kibana_contract_problems({**rule, "type": "esql", "language": "esql"})  # has index
    assert kibana_contract_problems({**rule, "severity": "urgent"})
    assert kibana_contract_problems({**rule, "related_integrations": [{"package": "o365"}]})
    assert kibana_contract_problems({**rule, "investigation_fields": {"field_names": []}})
    assert kibana_contract_problems({**rule, "required_fields": [{"name": "x"}]})


def test_every_eql_query_parses(dist: Path) -> None:
    for rule in (r for r in kibana_rules(dist) if r["language"] == "eql"):
        with eql.parser.elasticsearch_syntax:
            eql.parse_query(rule["query"])


def test_every_esql_query_parses_with_the_elasticsearch_grammar(dist: Path) -> None:
    queries = [r["query"] for r in kibana_rules(dist) if r["language"] == "esql"]
    assert queries
    for query in queries:
        parse_esql(query)


@pytest.mark.parametrize(
    "query",
    [
        "FROM logs-* | WHERE",  # a command without its expression
        "FROM logs-* | STATS n = COUNT(*) BY",
        'FROM logs-* | WHERE event.action == "x" AND',
        "FROM logs-* | EVAL x = TO_LOWER(`a`",  # unbalanced
        "FROM logs-* | STATS n = COUNT(*) BY a WHERE n > 1",  # a command without its pipe
        "logs-* | LIMIT 1",  # no source command
    ],
)
def test_a_broken_esql_query_is_rejected(query: str) -> None:
    with pytest.raises(EsqlSyntaxError):
        parse_esql(query)


def test_look_back_covers_correlation_window(dist: Path) -> None:

    ruleset = load_rules(ROOT / "sigma_rules")
    for rule in kibana_rules(dist):
        minutes = int(rule["from"].removeprefix("now-").removesuffix("m"))
        doc = ruleset.by_id(rule["rule_id"])
        # The rule's own window (inner windows included) plus the 15-minute interval.
        assert minutes >= window_seconds(doc, ruleset) / 60 + 15, doc.name
        if doc.is_correlation and rule["language"] == "eql":
            assert f"with maxspan={doc.document['correlation']['timespan']}" in rule["query"]


def test_threat_comes_from_attack_tags_offline(dist: Path) -> None:
    for rule in kibana_rules(dist):
        resource = [t for t in rule["threat"] if t["tactic"]["id"] == "TA0042"]
        assert resource, rule["name"]
        assert resource[0]["tactic"]["name"] == "Resource Development"
        technique = resource[0]["technique"][0]
        assert (technique["id"], technique["name"]) == ("T1585", "Establish Accounts")
        sub = technique["subtechnique"][0]
        assert (sub["id"], sub["name"]) == ("T1585.002", "Email Accounts")
        assert sub["reference"] == "https://attack.mitre.org/techniques/T1585/002/"


def test_kibana_notes_carry_the_playbook(dist: Path) -> None:
    playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
    for rule in kibana_rules(dist):
        note = rule["note"]
        assert playbook.escalation.summary in note
        for step in (*playbook.l1_steps, *playbook.t2_actions, *playbook.containment):
            assert step in note, (rule["name"], step)


def test_disposable_rules_need_the_enrichment(dist: Path) -> None:
    pipeline = json.loads((dist / "elastic" / "enrichment" / "ingest_pipeline.json").read_text())
    keys = {p["enrich"]["field"].rsplit(".", 1)[1] for p in pipeline["processors"] if "enrich" in p}
    for rule in kibana_rules(dist):
        used = {f["name"] for f in rule["required_fields"] if f["name"].startswith("dac.")}
        for name in used:
            assert name.rsplit(".", 1)[1] in keys
            assert name in rule["query"]
        assert bool(used) == ("disposable" in rule["query"]), rule["name"]
        if used:
            assert "dac-disposable-email" in rule["setup"]
