"""Microsoft Entra ID audit log (directoryAudits): the data source against the records the
engine really builds, what the rules do where the case files cannot say it, and the shipped
example through `dac hunt`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.compile import Queries, compile_target
from converters.domains import DomainList
from converters.engine import SqliteEngine, load_records, sigma_rows
from converters.engine.ecs import ecs_documents, get_path
from converters.engine.records import detect_source
from converters.loading.rules import RuleSet
from converters.sources import ENTRA_AUDIT, find_source

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events" / "entra"
EXAMPLE = REPO / "examples" / "entra_directory_audits.json"


def _records() -> list[dict[str, Any]]:
    return [record for path in sorted(EVENTS.glob("*.json")) for record in load_records(path)]


def test_logsource_is_sigmahq_s() -> None:
    assert find_source("azure", "auditlogs") is ENTRA_AUDIT
    assert ENTRA_AUDIT.name == "entra_audit"


def test_records_are_recognised_and_flattened() -> None:
    (record,) = load_records(EVENTS / "invite_guest_disposable.json")
    assert detect_source(record) is ENTRA_AUDIT
    (row,) = sigma_rows(record)
    assert row["dac_source"] == "entra_audit"
    assert row["dac_event_id"] == record["id"]
    assert row["activityDisplayName"] == "Invite external user"
    assert row["initiatedBy.user.ipAddress"] == "203.0.113.50"
    # Lists of objects: one multivalue field per key, in the record's order.
    assert row["additionalDetails.key"] == [d["key"] for d in record["additionalDetails"]]
    values = row["additionalDetails.value"]
    assert isinstance(values, list) and values[-1] == "drop.box@mailinator.com"
    (added,) = sigma_rows(load_records(EVENTS / "add_user_member_with_hr.json")[0])
    names = added["targetResources.modifiedProperties.displayName"]
    assert isinstance(names, list) and {"EmployeeId", "Manager"} <= set(names)


def test_every_field_of_the_source_is_in_the_flattened_records() -> None:
    """A Sigma name that _entra_rows never produces would be a rule that never matches."""
    rows = [row for record in _records() for row in sigma_rows(record)]
    missing = [
        name for name in ENTRA_AUDIT.field_names() if all(row.get(name) is None for row in rows)
    ]
    assert not missing


def test_address_keys_are_unique_across_sources() -> None:
    from converters.sources import address_fields

    keys = [f.address_key for _, f in address_fields()]
    assert len(keys) == len(set(keys))
    assert all(f.address_key.startswith("entra_") for f in ENTRA_AUDIT.fields if f.address_key)


def test_invited_address_reaches_the_elastic_enrichment(domains: DomainList) -> None:
    # Simulated enrichment (converters.engine.ecs). The shipped painless script must also walk
    # the integration's list of additional_details objects: see the data source's notes.
    (record,) = load_records(EVENTS / "invite_guest_disposable.json")
    (document,) = ecs_documents(record, domains)
    assert get_path(document, "dac.disposable_email.entra_additional_details_value") == (
        "mailinator.com"
    )
    assert get_path(document, "azure.auditlogs.operation_name") == "Invite external user"
    assert get_path(document, "event.outcome") == "success"


def _app_additions(count: int, minutes_apart: int) -> list[dict[str, Any]]:
    """Additions by an application (provisioning service): no initiatedBy.user, no IP."""
    (template,) = load_records(EVENTS / "add_user_member_with_hr.json")
    start = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    records = []
    for index in range(count):
        record = json.loads(json.dumps(template))
        record["id"] = f"Directory_app_{index}"
        record["activityDateTime"] = (start + timedelta(minutes=minutes_apart * index)).isoformat()
        record["initiatedBy"] = {
            "app": {"displayName": "Microsoft.Azure.SyncFabric", "servicePrincipalId": "sp-1"},
            "user": None,
        }
        records.append(record)
    return records


def test_application_additions_form_no_ip_group(
    ruleset: RuleSet, sqlite_queries: Queries, domains: DomainList
) -> None:
    """Eight additions in 28 minutes by an application carry no user IP: no group, no alert.
    Splunk drops events without the group key (``where isnotnull``) and Elasticsearch 8 joins
    sequences on non-null keys only (elastic/elasticsearch#79677); the ``eql`` test library
    still joins missing keys, which is why this timeline is not a case file."""
    doc = ruleset.by_name("entra_bulk_user_creation_by_ip")
    engine = SqliteEngine(domains)
    records = _app_additions(8, 4)
    engine.load(row for record in records for row in sigma_rows(record))
    assert engine.run(sqlite_queries.by_rule[doc.id]) == []
    base = ruleset.by_name("entra_user_added")
    assert len(engine.run(sqlite_queries.by_rule[base.id])) == 8
    spl = compile_target(ruleset, "splunk").by_rule[doc.id]
    assert "| where isnotnull(dac_g0)" in spl


def test_hr_rule_says_why_elastic_cannot_run_it(ruleset: RuleSet, eql_queries: Queries) -> None:
    doc = ruleset.by_name("entra_user_without_hr_attributes")
    assert doc.id not in eql_queries.by_rule
    assert "by position" in eql_queries.skipped[doc.id]


def test_hr_rule_negates_each_property_name_over_every_value(ruleset: RuleSet) -> None:
    """Multivalue fields: SPL ``NOT field="*x*"`` holds when no value contains x (or the field
    is absent); SQLite tests the JSON text of the list, ``NOT COALESCE(... LIKE '%x%', 0)``."""
    doc = ruleset.by_name("entra_user_without_hr_attributes")
    spl = compile_target(ruleset, "splunk").by_rule[doc.id]
    sql = compile_target(ruleset, "sqlite").by_rule[doc.id]
    for name in ("EmployeeId", "Manager"):
        field = "targetResources.modifiedProperties.displayName"
        assert (
            f'NOT "properties.targetResources{{}}.modifiedProperties{{}}.displayName"="*{name}*"'
            in spl
        )
        assert f"(NOT COALESCE((`{field}` LIKE '%{name}%'" in sql


@pytest.mark.parametrize(
    ("rule", "count"),
    [
        # One alert per incident: the five additions are one admin's within the hour.
        ("entra_user_added", 1),
        ("entra_bulk_user_creation_by_ip", 1),
        ("entra_user_without_hr_attributes", 1),
        ("entra_guest_invite_disposable", 0),
    ],
)
def test_hunt_reads_the_example_graph_page(tmp_path: Path, rule: str, count: int) -> None:
    out = tmp_path / "alerts.jsonl"
    result = CliRunner().invoke(
        main, ["hunt", "--root", str(REPO), str(EXAMPLE), "--out", str(out), "--rule", rule]
    )
    assert result.exit_code == 0, result.output
    alerts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(alerts) == count
    if rule == "entra_bulk_user_creation_by_ip":
        (alert,) = alerts
        assert alert["group"] == {"initiatedBy.user.ipAddress": "198.51.100.17"}
        assert alert["event_count"] == 5
