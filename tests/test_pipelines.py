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
    # The integration rewrites "Add user." (exactly so); Microsoft's "Add User." stays as is.
    query = convert(EqlBackend, "elastic", "Operation", "Add user.")
    assert 'event.action like~ ("added-user-account", "Add user.")' in query
    assert 'event.dataset:"o365.audit"' in query
    query = convert(EqlBackend, "elastic", "Parameters.ForwardingSmtpAddress", "x@example.com")
    assert "o365.audit.Parameters.ForwardingSmtpAddress" in query


def test_splunk_mapping_uses_the_add_on_fields() -> None:
    query = convert(SplunkBackend, "splunk", "UserId", "admin@example.com")
    assert 'UserId="admin@example.com"' in query
    # A parameter is tested on its own value, which this package's backend evaluates from the
    # add-on's multivalue field (see the GWS test below); sigma-cli gets the add-on's field.
    query = convert(SplunkBackend, "splunk", "Parameters.Identity", "bob")
    assert 'dac_parameters_identity="bob"' in query
    cli = SplunkBackend(source_pipeline(M365_AUDIT, "splunk", evaluated=False))
    rule = SigmaCollection.from_yaml(RULE.format(field="Parameters.Identity", value="bob"))
    assert '"Parameters{}.Value"="bob"' in cli.convert(rule)[0]


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


def test_gws_parameters_are_tested_on_their_own_value_in_splunk() -> None:
    """The add-on keeps a parameter's value in one of several multivalue fields (value,
    intValue, boolValue): the index search asks only that the parameter be there, the exact
    test runs after each parameter's own value is read from its JSON object; under NOT the
    superset would hide events, so the index search leaves it out."""
    from converters.backends.splunk import DacSplunkBackend

    def spl(condition: str) -> str:
        rule = f"""
title: t
id: 7d1b3a2e-0000-4000-8000-000000000001
status: test
logsource: {{product: gcp, service: google_workspace.admin}}
detection:
  sel: {{event.name: USERS_BULK_UPLOAD}}
  size: {{parameters.BULK_UPLOAD_TOTAL_USERS_NUMBER|gte: 20}}
  who: {{parameters.USER_EMAIL: x@example.com}}
  condition: {condition}
"""
        backend = DacSplunkBackend(pipeline_for("splunk"))
        return str(backend.convert(SigmaCollection.from_yaml(rule))[0])

    positive = spl("sel and size").splitlines()
    assert positive[0] == (
        '`dac_gws_admin` (event.name="USERS_BULK_UPLOAD" '
        '"event.parameters{}.name"="BULK_UPLOAD_TOTAL_USERS_NUMBER")'
    )
    assert positive[1] == "| spath output=dac_gws_parameters path=event.parameters{}"
    assert positive[2].startswith("| eval ") and '=="BULK_UPLOAD_TOTAL_USERS_NUMBER"' in positive[2]
    assert "dac_parameters_bulk_upload_total_users_number>=20" in positive[3]
    either = spl("sel and (size or who)").splitlines()
    assert '"event.parameters{}.name"="USER_EMAIL"' in either[0]
    # Under NOT the index search drops the condition (NOT of a field no event has), so it
    # keeps every event the rest admits; the exact search after the evaluation decides.
    negated = spl("sel and size and not who").splitlines()
    assert negated[0] == (
        '`dac_gws_admin` (event.name="USERS_BULK_UPLOAD" '
        '"event.parameters{}.name"="BULK_UPLOAD_TOTAL_USERS_NUMBER" NOT "dac_never"=*)'
    )
    assert 'NOT dac_parameters_user_email="x@example.com"' in negated[3]


def test_stages_pysigma_appends_come_after_the_scoped_search() -> None:
    """A regular expression or a field reference becomes a later stage (| regex, | where);
    inside the parentheses after the data-source macro it would be invalid SPL."""
    from converters.backends.splunk import DacSplunkBackend

    rule = """
title: t
id: 7d1b3a2e-0000-4000-8000-000000000009
name: t_deferred
status: test
logsource: {product: m365, service: audit}
detection:
  sel: {Operation: 'Add user.'}
  rx: {UserId|re: '^adm.*@x\\.com$'}
  ref: {ObjectId|fieldref: UserId}
  condition: sel and rx and not ref
"""
    backend = DacSplunkBackend(pipeline_for("splunk"))
    lines = str(backend.convert(SigmaCollection.from_yaml(rule))[0]).splitlines()
    assert lines[0] == '`dac_o365_management_activity` (Operation="Add user.")'
    assert lines[-3:] == [
        '| regex UserId="^adm.*@x\\\\.com$"',
        "| where NOT 'ObjectId'='UserId'",
        "| `t_deferred_filter`",
    ]
    assert all(not line.startswith("| regex") for line in lines[:-3])


@pytest.mark.parametrize("target", ["elastic", "sqlite"])
def test_combined_pipelines_refuse_a_logsource_no_source_takes(target: str) -> None:
    """SigmaHQ's m365 threat_management rules: no data source here reads that service, so the
    stock backends would write them unscoped and unmapped; the pipelines refuse them."""
    from sigma.backends.sqlite import sqliteBackend

    rule = RULE.replace("service: audit", "service: threat_management").format(
        field="Workload", value="SecurityComplianceCenter"
    )
    backend = EqlBackend if target == "elastic" else sqliteBackend
    with pytest.raises(SigmaTransformationError, match=r"threat_management.*no dac-t1585 data"):
        backend(pipeline_for(target)).convert(SigmaCollection.from_yaml(rule))
    # A rule of a known source still converts, scoped to it.
    known = RULE.format(field="Workload", value="Exchange")
    (query,) = backend(pipeline_for(target)).convert(SigmaCollection.from_yaml(known))
    scope = (
        'event.dataset:"o365.audit"' if target == "elastic" else "dac_source LIKE 'm365\\_audit'"
    )
    assert scope in str(query)


def test_sigma_cli_refuses_an_unknown_logsource(tmp_path: Path) -> None:
    rule = tmp_path / "tm.yml"
    rule.write_text(
        RULE.replace("service: audit", "service: threat_management").format(
            field="Workload", value="SecurityComplianceCenter"
        )
    )
    sigma = Path(sys.executable).parent / "sigma"
    result = subprocess.run(
        [str(sigma), "convert", "-t", "eql", "-p", "dac_elastic", str(rule)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "no dac-t1585 data source" in result.stdout + result.stderr
