"""`dac deploy elastic` / `dac verify elastic` against fake Kibana and Elasticsearch APIs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from converters.build import Project, build
from tests.deploy_servers.elasticsearch import FakeElasticsearch
from tests.deploy_servers.harness import ES_KEY, KIBANA_KEY, Run, dac, dist_args, environment
from tests.deploy_servers.kibana import FakeKibana

ROOT = Path(__file__).resolve().parent.parent
INDEX = "dac-disposable-email-domains"
PIPELINE = "dac-disposable-email"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(Project.at(ROOT), tmp_path_factory.mktemp("deploy-elastic") / "dist")


@pytest.fixture(scope="module")
def rules(dist: Path) -> list[dict[str, Any]]:
    lines = (dist / "elastic" / "rules.ndjson").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def kibana() -> Iterator[FakeKibana]:
    with FakeKibana(KIBANA_KEY, spaces=("default", "soc")) as server:
        yield server
        assert server.violations == [], server.violations


@pytest.fixture
def es() -> Iterator[FakeElasticsearch]:
    with FakeElasticsearch(ES_KEY) as server:
        yield server
        assert server.violations == [], server.violations


def deploy(dist: Path, kibana: FakeKibana, es: FakeElasticsearch | None, *options: str) -> Run:
    env = environment(kibana=kibana, es=es)
    return dac(["deploy", "elastic", *dist_args(dist, *options)], env)


def verify(dist: Path, kibana: FakeKibana, es: FakeElasticsearch | None = None) -> Run:
    env = environment(kibana=kibana, es=es)
    return dac(["verify", "elastic", *dist_args(dist, "--json")], env)


def test_dry_run_prints_the_plan_and_writes_nothing(
    dist: Path, kibana: FakeKibana, es: FakeElasticsearch, rules: list[dict[str, Any]]
) -> None:
    run = deploy(dist, kibana, es, "--dry-run")
    assert run.exit_code == 0, run.stdout
    assert "Plan (dry run: nothing written): elastic" in run.stdout
    for rule in rules:
        assert rule["rule_id"] in run.stdout
    for name in (INDEX, PIPELINE, "10181 documents"):
        assert name in run.stdout
    assert kibana.writes() == [] and es.writes() == []


def test_deploy_then_redeploy_changes_nothing(
    dist: Path, kibana: FakeKibana, es: FakeElasticsearch, rules: list[dict[str, Any]]
) -> None:
    first = deploy(dist, kibana, es, "--json")
    assert first.exit_code == 0, first.stdout
    assert first.summary()["applied"] == len(rules) + 3
    for rule in rules:
        stored = kibana.rule(rule["rule_id"])
        assert {k: stored[k] for k in rule if k != "required_fields"} == {
            k: v for k, v in rule.items() if k != "required_fields"
        }
    assert len(es.indices[INDEX]["docs"]) == 10181
    assert "mailinator.com" in es.enrich_indices[INDEX]
    pipeline = json.loads((dist / "elastic/enrichment/ingest_pipeline.json").read_text())
    assert es.pipelines[PIPELINE] == pipeline

    kibana.forget()
    es.forget()
    second = deploy(dist, kibana, es)
    assert second.exit_code == 0, second.stdout
    assert f"{len(rules) + 3} item(s): {len(rules) + 3} unchanged" in second.stdout
    assert kibana.writes() == [] and es.writes() == []
    assert verify(dist, kibana, es).exit_code == 0


def test_update_keeps_customer_tuning_and_prune_touches_only_our_rules(
    dist: Path, kibana: FakeKibana, rules: list[dict[str, Any]]
) -> None:
    ours = rules[0]
    exceptions = [
        {"id": "e1", "list_id": "soc-exc", "type": "detection", "namespace_type": "single"}
    ]
    actions = [
        {"action_type_id": ".slack", "id": "c1", "params": {"message": "x"}, "group": "default"}
    ]
    tuned = {**ours, "query": "any where true", "version": 1, "enabled": False}
    kibana.put({**tuned, "exceptions_list": exceptions, "actions": actions})
    meta = {"dac_indicator": "escalation", "dac_sigma_name": "old_rule"}
    old = {**ours, "rule_id": "old-dac-rule", "name": "Old", "meta": meta}
    customer = {**ours, "rule_id": "soc-own", "name": "SOC", "tags": ["SOC"], "meta": {}}
    tag_only = {**ours, "rule_id": "soc-tagged", "tags": ["dac-t1585"], "meta": {}}
    prebuilt = {**ours, "rule_id": "elastic-prebuilt", "meta": meta}
    for rule in (old, customer, tag_only, prebuilt):
        kibana.put(rule)
    kibana.rules["default"]["elastic-prebuilt"]["immutable"] = True
    kibana.put({**ours, "rule_id": "other-space", "meta": meta}, space="soc")

    run = deploy(dist, kibana, None, "--prune", "--json")
    assert run.exit_code == 0, run.stdout
    assert [i["name"] for i in run.items(action="delete", status="applied")] == ["old-dac-rule"]
    update = run.items(action="update")[0]
    assert update["name"] == ours["rule_id"] and "query" in update["detail"]
    assert update["status"] == "applied"
    stored = kibana.rule(ours["rule_id"])
    assert stored["query"] == ours["query"]
    assert stored["enabled"] is False  # the customer disabled it
    assert stored["exceptions_list"] == exceptions and stored["actions"] == actions
    assert set(kibana.rules["default"]) == {r["rule_id"] for r in rules} | {
        "soc-own",
        "soc-tagged",
        "elastic-prebuilt",
    }
    assert "other-space" in kibana.rules["soc"]
    assert verify(dist, kibana).exit_code == 0  # a disabled rule is not drift


def test_verify_catches_a_rule_changed_on_the_server(
    dist: Path, kibana: FakeKibana, es: FakeElasticsearch, rules: list[dict[str, Any]]
) -> None:
    deploy(dist, kibana, es)
    changed = rules[2]["rule_id"]
    kibana.rules["default"][changed]["query"] = "any where true"
    kibana.rules["default"][changed]["severity"] = "low"
    del es.pipelines[PIPELINE]
    kibana.forget()
    es.forget()
    run = verify(dist, kibana, es)
    assert run.exit_code == 1
    drift = {
        (i["kind"], i["name"], i["action"]) for i in run.json["items"] if i["action"] != "unchanged"
    }
    assert drift == {("rule", changed, "update"), ("ingest pipeline", PIPELINE, "create")}
    assert "query" in run.items(name=changed)[0]["detail"]
    assert "severity" in run.items(name=changed)[0]["detail"]
    human = dac(["verify", "elastic", *dist_args(dist)], environment(kibana=kibana, es=es))
    assert human.exit_code == 1 and "drift: 2 item(s) differ from dist" in human.stdout
    assert kibana.writes() == [] and es.writes() == []  # verify never writes


def test_space_option_deploys_into_that_space_only(dist: Path, kibana: FakeKibana) -> None:
    run = deploy(dist, kibana, None, "--space", "soc")
    assert run.exit_code == 0, run.stdout
    shipped = (dist / "elastic" / "rules.ndjson").read_text(encoding="utf-8").splitlines()
    assert kibana.rules["default"] == {} and len(kibana.rules["soc"]) == len(shipped)
    assert all(s.path.startswith("/s/soc/") for s in kibana.seen)


def test_retries_and_lost_answers_make_no_duplicates(
    dist: Path, kibana: FakeKibana, es: FakeElasticsearch, rules: list[dict[str, Any]]
) -> None:
    kibana.inject("GET", r"/_find$", "status", status=429, retry_after="0")
    kibana.inject("POST", r"/_import$", "status", status=503, times=2)
    kibana.inject("POST", r"/_import$", "drop_after")  # imported, the answer is lost
    kibana.inject("GET", r"/rules$", "slow", delay=1.3)
    es.inject("POST", r"/_bulk$", "status", status=500)
    es.inject("POST", r"/_execute$", "drop")
    es.inject("PUT", r"/_ingest/", "status", status=502)

    run = deploy(dist, kibana, es, "--json")
    assert run.exit_code == 0, run.stdout
    assert run.summary()["applied"] == len(rules) + 3
    assert all(f.times == 0 for f in [*kibana.faults, *es.faults])
    assert sorted(kibana.rules["default"]) == sorted(r["rule_id"] for r in rules)
    assert len(es.indices[INDEX]["docs"]) == 10181
    imports = [s for s in kibana.seen if s.path.endswith("/_import")]
    assert len(imports) == 4  # 2 x 503, one lost answer, one answered


def test_the_report_follows_what_the_target_holds_not_what_the_answers_said(
    dist: Path, kibana: FakeKibana, rules: list[dict[str, Any]]
) -> None:
    # Every answer to the import is lost, but the rules did land: reading back shows it.
    kibana.inject("POST", r"/_import$", "drop_after", times=100)
    run = deploy(dist, kibana, None, "--json")
    assert run.exit_code == 0, run.stdout
    for item in run.items(kind="rule"):
        assert item["status"] == "applied" and "the target confirms" in item["detail"]
        assert "no answer after 4 attempt(s)" in item["detail"]

    # The read-back itself fails: what was acknowledged is reported unconfirmed, exit 1.
    kibana.faults.clear()
    for rule_id in list(kibana.rules["default"])[:2]:
        del kibana.rules["default"][rule_id]
    kibana.inject("GET", r"/_find$", "status", status=500, times=100, after=1)
    run = deploy(dist, kibana, None, "--json")
    assert run.exit_code == 1
    assert [i["status"] for i in run.items(action="create")] == ["unconfirmed"] * 2
    assert "reading the target back after the writes" in run.json["errors"][0]
    assert len(rules) == len(kibana.rules["default"])


def test_partial_failure_reports_each_rule(
    dist: Path, kibana: FakeKibana, rules: list[dict[str, Any]]
) -> None:
    refused, lossy = rules[1]["rule_id"], rules[3]["rule_id"]
    kibana.reject[refused] = "invalid EQL: syntax error"
    run = deploy(dist, kibana, None, "--json")
    assert run.exit_code == 1
    failed = run.items(status="failed")
    assert [(i["name"], i["error"]) for i in failed] == [
        (refused, "import: HTTP 400: invalid EQL: syntax error")
    ]
    assert len(run.items(status="applied")) == len(rules) - 1
    assert refused not in kibana.rules["default"]

    # An import the server acknowledges but stores incompletely (Kibana drops unknown keys):
    # the read-back says so.
    del kibana.reject[refused]
    del kibana.rules["default"][lossy]
    kibana.drop_on_store = {"note"}
    run = deploy(dist, kibana, None, "--json")
    assert run.exit_code == 1
    outcome = {i["name"]: (i["status"], i["error"]) for i in run.items(action="create")}
    assert outcome[refused][0] == "failed" and outcome[lossy][0] == "failed"
    assert "reading back shows update needed" in outcome[lossy][1]
    assert "note" in outcome[lossy][1]
    human = deploy(dist, kibana, None)
    assert "deployment incomplete: 0 of 2 change(s) applied" in human.stdout


def test_enrichment_failure_chain_is_reported_and_rules_still_deploy(
    dist: Path, kibana: FakeKibana, es: FakeElasticsearch, rules: list[dict[str, Any]]
) -> None:
    es.inject("PUT", r"/_enrich/policy/", "status", status=403, times=100)
    run = deploy(dist, kibana, es, "--json")
    assert run.exit_code == 1
    status = {
        i["kind"]: (i["status"], i["error"]) for i in run.json["items"] if i["kind"] != "rule"
    }
    assert status["enrich policy"][0] == "failed" and "HTTP 403" in status["enrich policy"][1]
    assert status["enrich source index"][0] == "failed"
    assert "policy not executed" in status["enrich source index"][1]
    assert status["ingest pipeline"][0] == "not-attempted"
    assert len(run.items(kind="rule", status="applied")) == len(rules)
    assert PIPELINE not in es.pipelines

    es.faults.clear()
    again = deploy(dist, kibana, es, "--json")
    assert again.exit_code == 0, again.stdout
    assert {i["kind"] for i in again.items(status="applied")} == {
        "enrich source index",
        "enrich policy",
        "ingest pipeline",
    }


def test_enrichment_is_explicit(dist: Path, kibana: FakeKibana) -> None:
    rules_only = deploy(dist, kibana, None, "--json")
    assert rules_only.exit_code == 0
    assert {i["kind"] for i in rules_only.json["items"]} == {"rule"}
    needs_url = deploy(dist, kibana, None, "--enrichment")
    assert needs_url.exit_code == 2
    assert "DAC_ELASTICSEARCH_URL" in needs_url.stderr
