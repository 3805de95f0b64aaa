"""Pipelines: field mappings per data source and target, strictness, and sigma-cli discovery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sigma.backends.elasticsearch import EqlBackend
from sigma.backends.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaTransformationError
from sigma.plugins import InstalledSigmaPlugins

from converters.pipelines import pipeline_for, source_pipeline
from converters.sources import GWS_ADMIN, M365_AUDIT, SOURCES

ROOT = Path(__file__).resolve().parent.parent

RULE = """
title: t
id: 11111111-2222-4333-8444-555555555555
logsource: {{product: m365, service: audit}}
detection:
  sel:
    {field}: {value}
  condition: sel
"""


def convert(backend_class: type, target: str, field: str, value: str) -> str:
    rules = SigmaCollection.from_yaml(RULE.format(field=field, value=value))
    queries = backend_class(pipeline_for(target)).convert(rules)
    return str(queries[0])


def test_every_source_maps_every_field_for_every_target() -> None:
    for source in SOURCES:
        for field in source.fields:
            assert field.splunk and field.elastic, (source.name, field.sigma)
        assert len(set(source.field_names())) == len(source.fields)


def test_elastic_mapping_follows_the_o365_integration() -> None:
    query = convert(EqlBackend, "elastic", "Operation", "Add user.")
    assert 'event.action:"added-user-account"' in query
    assert 'event.dataset:"o365.audit"' in query
    query = convert(EqlBackend, "elastic", "Parameters.ForwardingSmtpAddress", "x@example.com")
    assert "o365.audit.Parameters.ForwardingSmtpAddress" in query


def test_splunk_mapping_uses_the_add_on_fields() -> None:
    query = convert(SplunkBackend, "splunk", "UserId", "admin@example.com")
    assert 'UserId="admin@example.com"' in query
    query = convert(SplunkBackend, "splunk", "Parameters.Identity", "bob")
    assert "Parameters{}.Value" in query


@pytest.mark.parametrize("target", ["splunk", "elastic", "sqlite"])
def test_unmapped_field_is_an_error_naming_it(target: str) -> None:
    backend = SplunkBackend if target == "splunk" else EqlBackend
    with pytest.raises(SigmaTransformationError, match=r"'Parameters\.NotAField'"):
        rules = SigmaCollection.from_yaml(RULE.format(field="Parameters.NotAField", value="x"))
        backend(source_pipeline(M365_AUDIT, target)).convert(rules)


def test_pipelines_apply_only_to_their_logsource() -> None:
    rule = (
        RULE.format(field="Operation", value="Add user.")
        .replace("m365", "gcp")
        .replace("audit", "google_workspace.admin")
    )
    with pytest.raises(SigmaTransformationError, match="'Operation'"):
        EqlBackend(source_pipeline(GWS_ADMIN, "elastic")).convert(SigmaCollection.from_yaml(rule))


def test_sigma_cli_discovers_the_pipelines() -> None:
    discovered = InstalledSigmaPlugins.autodiscover().pipelines
    for source in SOURCES:
        assert f"dac_splunk_{source.name}" in discovered
        assert f"dac_elastic_{source.name}" in discovered


def test_sigma_convert_with_our_pipeline() -> None:
    sigma = Path(sys.executable).parent / "sigma"
    rule = ROOT / "sigma_rules" / "google_workspace" / "gws_user_created.yml"
    result = subprocess.run(
        [str(sigma), "convert", "-t", "splunk", "-p", "dac_splunk_gws_admin", str(rule)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert '`dac_gws_admin` event.name="CREATE_USER"' in result.stdout
