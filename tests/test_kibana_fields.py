"""What a Kibana rule says about the data it reads: required fields typed from what the
integrations produce, related integrations with versions that hold the data streams, and the
alert's entities as investigation fields."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from converters.build import Project, build
from converters.errors import DacError
from converters.loading.rules import RuleDoc, RuleSet, load_rules
from converters.sources import DataSource
from converters.targets.kibana import investigation_fields
from converters.targets.kibana_fields import ALERT_RULE_ID, required_fields
from tests.dist_helpers import ROOT, built_dist, kibana_rules

# Kibana takes semver ranges; this package writes caret ranges, alternatives joined by ||.
_RANGE = re.compile(r"\^\d+\.\d+\.\d+( \|\| \^\d+\.\d+\.\d+)*")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_dist(tmp_path_factory)


@pytest.fixture(scope="module")
def rules(dist: Path) -> dict[str, dict[str, Any]]:
    return {r["meta"]["dac_sigma_name"]: r for r in kibana_rules(dist)}


def _satisfies(version: str, ranges: str) -> bool:
    """npm/semver caret ranges as Kibana reads them (major > 0 only)."""
    wanted = tuple(int(p) for p in version.split("."))
    for caret in ranges.split(" || "):
        low = tuple(int(p) for p in caret.removeprefix("^").split("."))
        if wanted[0] == low[0] and wanted >= low:
            return True
    return False


def _types(rule: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["type"] for f in rule["required_fields"]}


def test_required_fields_carry_the_integrations_mapping_types(
    rules: dict[str, dict[str, Any]],
) -> None:
    assert _types(rules["gws_users_bulk_upload"])["google_workspace.admin.bulk_upload.total"] == (
        "long"
    )
    assert _types(rules["gws_user_created_from_threat_intel_ip"])["source.ip"] == "ip"
    assert _types(rules["proxy_disposable_email_service"])["url.original"] == "wildcard"
    # An address list is a keyword array: the element type.
    sender = _types(rules["message_trace_disposable_sender"])
    assert sender["email.from.address"] == "keyword"
    assert sender["dac.disposable_email.mt_sender_address"] == "keyword"


def test_every_required_field_is_typed_as_its_integration_produces_it(
    rules: dict[str, dict[str, Any]],
) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    for name, rule in rules.items():
        sources = ruleset.sources_of(ruleset.by_name(name))
        assert rule["required_fields"], name
        for field in rule["required_fields"]:
            if field["name"].startswith("dac.disposable_email.") or field["name"] == ALERT_RULE_ID:
                assert field["type"] == "keyword"
                continue
            produced = {s.elastic_field(field["name"]) for s in sources} - {None}
            assert {p.type for p in produced if p} == {field["type"]}, (name, field)


def test_required_fields_include_every_field_the_query_reads(
    rules: dict[str, dict[str, Any]],
) -> None:
    # new_terms fields, the value_count field, both sides of an absence match, group-by.
    assert {"source.user.email", "source.ip"} <= set(_types(rules["gws_user_created_from_new_ip"]))
    assert "email.to.address" in _types(rules["message_trace_disposable_sender_many_recipients"])
    assert {"google_workspace.admin.user.email", "source.user.email"} <= set(
        _types(rules["gws_user_never_signed_in"])
    )
    assert "source.user.email" in _types(rules["gws_bulk_user_creation"])
    assert set(_types(rules["gws_escalation_bulk_and_disposable"])) == {
        ALERT_RULE_ID,
        "source.user.email",
    }
    ruleset = load_rules(ROOT / "sigma_rules")
    for name, rule in rules.items():
        if rule["type"] == "new_terms":  # its fields are in new_terms_fields and the query
            continue
        required = set(_types(rule))
        # An address field is read at ingest, by the enrichment whose result the query tests.
        enriched = {
            f.elastic
            for s in ruleset.sources_of(ruleset.by_name(name))
            for f in s.fields
            if f.address_key and f"dac.disposable_email.{f.address_key}" in required
        }
        for field in required - enriched:
            assert field in rule["query"], (name, field)


def _without(field: str) -> Any:
    real = RuleSet.sources_of

    def sources_of(self: RuleSet, doc: RuleDoc) -> list[DataSource]:
        return [
            replace(s, elastic_fields=tuple(f for f in s.elastic_fields if f.name != field))
            for s in real(self, doc)
        ]

    return sources_of


def test_a_field_the_integration_table_lacks_is_an_error_naming_the_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    doc = ruleset.by_name("gws_users_bulk_upload")
    monkeypatch.setattr(RuleSet, "sources_of", _without("google_workspace.admin.bulk_upload.total"))
    with pytest.raises(DacError) as caught:
        required_fields(ruleset, doc)
    (problem,) = caught.value.problems
    assert problem.rule == doc.id and problem.path == doc.path
    assert "google_workspace.admin.bulk_upload.total" in problem.reason
    assert "elastic_fields" in problem.reason


def test_the_build_fails_on_it_with_every_rule_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    monkeypatch.setattr(RuleSet, "sources_of", _without("source.ip"))
    with pytest.raises(DacError) as caught:
        build(Project.at(ROOT), tmp_path / "dist")
    named = {p.rule for p in caught.value.problems}
    for name in ("gws_user_created_from_threat_intel_ip", "mail_signup_burst_from_one_ip"):
        assert ruleset.by_name(name).id in named
    assert not (tmp_path / "dist").exists()


def test_related_integrations_name_the_package_versions_with_the_data_streams(
    rules: dict[str, dict[str, Any]],
) -> None:
    for name, rule in rules.items():
        for integration in rule["related_integrations"]:
            assert _RANGE.fullmatch(integration["version"]), (name, integration)
    (gmail,) = rules["gws_gmail_disposable_sender"]["related_integrations"]
    assert gmail["package"] == "google_workspace" and "integration" not in gmail
    # The gmail data stream (BigQuery input) came after 2.41.2.
    assert not _satisfies("2.41.2", gmail["version"]) and _satisfies("2.42.0", gmail["version"])
    (o365,) = rules["m365_user_added"]["related_integrations"]
    assert _satisfies("2.0.0", o365["version"]) and _satisfies("3.8.0", o365["version"])
    # azure has one integration per log family: Entra ID logs are its adlogs policy template.
    (azure,) = rules["entra_user_added"]["related_integrations"]
    assert azure == {"package": "azure", "version": "^1.0.0", "integration": "adlogs"}
    # Two data streams of one package are one related integration.
    assert len(rules["gws_user_never_signed_in"]["related_integrations"]) == 1
    # The sign-up log comes from an ingest setup of the customer's own, not a Fleet package.
    assert rules["mail_signup_success"]["related_integrations"] == []
    assert "no Fleet integration collects it" in rules["mail_signup_success"]["setup"]


def test_investigation_fields_are_the_alerts_entities(
    rules: dict[str, dict[str, Any]],
) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    for name, rule in rules.items():
        doc = ruleset.by_name(name)
        names = rule["investigation_fields"]["field_names"]
        assert names and len(names) == len(set(names)), name
        if rule["type"] != "esql":  # an ES|QL alert holds the query's own columns
            for field in names:
                assert any(s.elastic_field(field) for s in ruleset.sources_of(doc)), (name, field)
    assert rules["gws_bulk_user_creation"]["investigation_fields"] == {
        "field_names": ["source.user.email"]
    }
    assert rules["gws_user_never_signed_in"]["investigation_fields"] == {
        "field_names": ["dac_key", "dac_created"]
    }
    forwarding = rules["m365_forwarding_disposable_domain"]["investigation_fields"]
    assert forwarding["field_names"][:2] == ["user.id", "source.ip"]
    doc = ruleset.by_name("gws_user_created")
    assert investigation_fields(ruleset, doc) is not None
