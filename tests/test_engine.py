"""The embedded engine's parts: adapters, ECS mapping, enrichment, SQL functions, engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.backends.eql import ENRICHMENT_ROOT
from converters.backends.sqlite import DISPOSABLE_FUNCTION
from converters.domains import DomainList
from converters.engine import (
    Alert,
    EqlEngine,
    RecordFormatError,
    SqliteEngine,
    detect_source,
    ecs_documents,
    load_records,
    sigma_rows,
)
from converters.engine.ecs import get_path
from converters.engine.sqlite_engine import EngineError
from converters.sources import GWS_ADMIN, M365_AUDIT

EVENTS = Path(__file__).resolve().parent / "events"


def _activity(events: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "kind": "admin#reports#activity",
        "id": {
            "time": "2026-11-20T10:00:00.250Z",
            "uniqueQualifier": "-5071326513744923021",
            "applicationName": "admin",
            "customerId": "C03az79cb",
        },
        "actor": {
            "callerType": "USER",
            "email": "it-admin@example.com",
            "profileId": "105250506097979753968",
        },
        "ipAddress": "203.0.113.24",
        "events": events,
    }
    activity.update(overrides)
    return activity


def _ual(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "CreationTime": "2026-11-20T10:00:00",
        "Id": "8f1a7c9e-2b3d-4e5f-9a0b-1c2d3e4f5a6b",
        "Operation": "Add user.",
        "OrganizationId": "4b2a0c1e-7f3d-4c8a-9e61-0d5b3a2f1c47",
        "RecordType": 8,
        "ResultStatus": "Success",
        "UserKey": "10032001A2B3C4D5@contoso.onmicrosoft.com",
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ClientIP": "198.51.100.17",
        "ObjectId": "new.hire@contoso.onmicrosoft.com",
        "UserId": "admin@contoso.onmicrosoft.com",
    }
    record.update(overrides)
    return record


def _set_mailbox(
    forwarding: str, identity: str = "j.doe@contoso.onmicrosoft.com"
) -> dict[str, Any]:
    return _ual(
        Operation="Set-Mailbox",
        RecordType=1,
        Workload="Exchange",
        ResultStatus="True",
        ObjectId="j.doe",
        Parameters=[
            {"Name": "Identity", "Value": identity},
            {"Name": "ForwardingSmtpAddress", "Value": forwarding},
        ],
    )


def _routing(new_value: str) -> dict[str, Any]:
    return _activity(
        [
            {
                "type": "USER_SETTINGS",
                "name": "MAIL_ROUTING_DESTINATION_ADDED",
                "parameters": [
                    {"name": "USER_EMAIL", "value": "cfo@example.com"},
                    {"name": "NEW_VALUE", "value": new_value},
                ],
            }
        ]
    )


# --- adapters ------------------------------------------------------------------------------


def test_one_row_per_reports_api_event() -> None:
    activity = _activity(
        [
            {
                "type": "USER_SETTINGS",
                "name": "CHANGE_PASSWORD",
                "parameters": [{"name": "USER_EMAIL", "value": "j.martin@example.com"}],
            },
            {
                "type": "USER_SETTINGS",
                "name": "CHANGE_PASSWORD_ON_NEXT_LOGIN",
                "parameters": [{"name": "NEW_VALUE", "value": "true"}],
            },
        ]
    )
    rows = sigma_rows(activity)
    assert [r["event.name"] for r in rows] == ["CHANGE_PASSWORD", "CHANGE_PASSWORD_ON_NEXT_LOGIN"]
    assert [r["dac_event_id"] for r in rows] == ["-5071326513744923021#0", "-5071326513744923021#1"]
    for row in rows:
        assert row["actor.email"] == "it-admin@example.com"
        assert row["ipAddress"] == "203.0.113.24"
        assert row["id.applicationName"] == "admin"
        assert row["timestamp"] == "2026-11-20T10:00:00.250"
        assert row["dac_source"] == "gws_admin"
        # Every field of the source is a key, even where the event lacks it.
        assert set(GWS_ADMIN.field_names()) <= set(row)
    assert rows[0]["parameters.USER_EMAIL"] == "j.martin@example.com"
    assert rows[1]["parameters.USER_EMAIL"] is None
    assert rows[1]["parameters.NEW_VALUE"] == "true"


def test_single_event_activity_keeps_the_unique_qualifier() -> None:
    rows = sigma_rows(_routing("relay@partner.example.org"))
    assert [r["dac_event_id"] for r in rows] == ["-5071326513744923021"]


def test_reports_api_parameter_kinds_are_flattened() -> None:
    activity = _activity(
        [
            {
                "type": "USER_SETTINGS",
                "name": "USERS_BULK_UPLOAD",
                "parameters": [
                    {"name": "BULK_UPLOAD_TOTAL_USERS_NUMBER", "intValue": "25"},
                    {"name": "IS_ENABLED", "boolValue": True},
                    {"name": "GROUP_EMAILS", "multiValue": ["a@example.com", "b@example.com"]},
                ],
            }
        ]
    )
    (row,) = sigma_rows(activity)
    assert row["parameters.BULK_UPLOAD_TOTAL_USERS_NUMBER"] == "25"
    assert row["parameters.IS_ENABLED"] == "true"
    assert row["parameters.GROUP_EMAILS"] == ["a@example.com", "b@example.com"]


def test_ual_record_is_one_row_with_parameters() -> None:
    (row,) = sigma_rows(_set_mailbox("smtp:drop@mailinator.com"))
    assert row["Operation"] == "Set-Mailbox"
    assert row["Workload"] == "Exchange"
    assert row["UserId"] == "admin@contoso.onmicrosoft.com"
    assert row["Parameters.Identity"] == "j.doe@contoso.onmicrosoft.com"
    assert row["Parameters.ForwardingSmtpAddress"] == "smtp:drop@mailinator.com"
    assert row["Parameters.ForwardTo"] is None
    assert row["dac_event_id"] == "8f1a7c9e-2b3d-4e5f-9a0b-1c2d3e4f5a6b"
    assert row["dac_source"] == "m365_audit"
    assert row["timestamp"] == "2026-11-20T10:00:00.000"


def test_formats_are_detected() -> None:
    assert detect_source(_activity([])) is GWS_ADMIN
    assert detect_source(_ual()) is M365_AUDIT


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"time": "2026-11-20T10:00:00Z", "message": "hello"}, "unknown record format"),
        (["not", "an", "object"], "must be a JSON object"),
        (
            # An application with no data source here (login and gmail have one).
            _activity([], id={"time": "2026-11-20T10:00:00Z", "applicationName": "drive"}),
            "activities record: no data source 'gws_drive'",
        ),
        ({"kind": "admin#reports#activity", "events": []}, "without an 'id' object"),
    ],
)
def test_unknown_format_is_a_clear_error(record: object, message: str) -> None:
    with pytest.raises(RecordFormatError, match=message):
        detect_source(record)
    if isinstance(record, dict):
        with pytest.raises(RecordFormatError):
            sigma_rows(record)


def test_bad_timestamp_is_a_clear_error() -> None:
    with pytest.raises(RecordFormatError, match="not an ISO-8601 timestamp"):
        sigma_rows(_ual(CreationTime="20/11/2026 10:00"))


def test_load_records_reads_pages_and_arrays(tmp_path: Path) -> None:
    page = load_records(EVENTS / "gws" / "bulk_5_in_40min.json")
    assert len(page) == 5 and all(r["kind"] == "admin#reports#activity" for r in page)
    blob = load_records(EVENTS / "m365" / "bulk_5_in_40min.json")
    assert len(blob) == 5 and all(r["Operation"] == "Add user." for r in blob)
    empty = tmp_path / "empty.json"
    empty.write_text('{"kind": "admin#reports#activities", "etag": "\\"x\\""}')
    assert load_records(empty) == []


# --- ECS mapping and enrichment ------------------------------------------------------------


def test_add_user_is_renamed_as_the_o365_integration_does(domains: DomainList) -> None:
    (document,) = ecs_documents(_ual(), domains)
    assert get_path(document, "event.action") == "added-user-account"
    assert get_path(document, "event.dataset") == "o365.audit"
    assert get_path(document, "event.provider") == "AzureActiveDirectory"
    assert get_path(document, "event.code") == "AzureActiveDirectory"
    assert get_path(document, "user.id") == "admin@contoso.onmicrosoft.com"
    assert get_path(document, "o365.audit.ObjectId") == "new.hire@contoso.onmicrosoft.com"
    assert get_path(document, "o365.audit.ResultStatus") == "Success"
    assert get_path(document, "source.ip") == "198.51.100.17"
    assert document["@timestamp"] == "2026-11-20T10:00:00.000Z"
    assert document["_id"] == "8f1a7c9e-2b3d-4e5f-9a0b-1c2d3e4f5a6b"


def test_exchange_cmdlets_keep_their_name_and_parameters_become_an_object(
    domains: DomainList,
) -> None:
    (document,) = ecs_documents(_set_mailbox("smtp:drop@mailinator.com"), domains)
    assert get_path(document, "event.action") == "Set-Mailbox"
    assert get_path(document, "event.code") == "ExchangeAdmin"
    assert get_path(document, "o365.audit.Parameters") == {
        "Identity": "j.doe@contoso.onmicrosoft.com",
        "ForwardingSmtpAddress": "smtp:drop@mailinator.com",
    }


def test_gws_fields_land_where_sources_say(domains: DomainList) -> None:
    activity = _routing("x@mx.guerrillamail.com")
    (row,) = sigma_rows(activity)
    (document,) = ecs_documents(activity, domains)
    for field in GWS_ADMIN.fields:
        assert get_path(document, field.elastic) == row[field.sigma], field.sigma
    assert get_path(document, "event.action") == "MAIL_ROUTING_DESTINATION_ADDED"
    assert get_path(document, "event.provider") == "admin"
    assert get_path(document, "source.user.email") == "it-admin@example.com"
    assert get_path(document, "google_workspace.admin.new_value") == "x@mx.guerrillamail.com"


@pytest.mark.parametrize(
    ("forwarding", "identity", "expected"),
    [
        ("smtp:drop@mailinator.com", "j.doe@contoso.onmicrosoft.com", "mailinator.com"),
        ("smtp:User@MAILINATOR.com", "j.doe@contoso.onmicrosoft.com", "mailinator.com"),
        ("x@mx.guerrillamail.com", "j.doe@contoso.onmicrosoft.com", "guerrillamail.com"),
        ("user@mailinator.com.corp.example", "j.doe@contoso.onmicrosoft.com", None),
        ("relay@partner.example.org", "j.doe@contoso.onmicrosoft.com", None),
        # A disposable address outside the address fields is not enriched.
        ("relay@partner.example.org", "drop@mailinator.com", None),
    ],
)
def test_enrichment(
    forwarding: str, identity: str, expected: str | None, domains: DomainList
) -> None:
    (document,) = ecs_documents(_set_mailbox(forwarding, identity), domains)
    enriched = get_path(document, ENRICHMENT_ROOT)
    if expected is None:
        assert enriched is None
    else:
        assert enriched == {"ual_forwarding_smtp_address": expected}


def test_gws_enrichment_key(domains: DomainList) -> None:
    (document,) = ecs_documents(_routing("User@MAILINATOR.com"), domains)
    assert get_path(document, f"{ENRICHMENT_ROOT}.gws_new_value") == "mailinator.com"


# --- SQLite engine -------------------------------------------------------------------------


def _sql_function(engine: SqliteEngine, value: str | None) -> object:
    return engine.connection.execute(f"SELECT {DISPOSABLE_FUNCTION}(?)", (value,)).fetchone()[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("drop@mailinator.com", "mailinator.com"),
        ("x@a.b.mx.guerrillamail.com", "guerrillamail.com"),
        ("User@MAILINATOR.COM", "mailinator.com"),
        ("smtp:drop@mailinator.com", "mailinator.com"),
        ("billing@partner.example.org;drop.box@mailinator.com", "mailinator.com"),
        ('["billing@partner.example.org", "drop.box@yopmail.com"]', "yopmail.com"),
        ("user@mailinator.com.corp.example", None),
        ("mailinator.com", None),
        ("relay@partner.example.org", None),
        (None, None),
    ],
)
def test_disposable_sql_function(
    value: str | None, expected: str | None, domains: DomainList
) -> None:
    assert _sql_function(SqliteEngine(domains), value) == expected


def test_disposable_sql_function_honours_the_allowlist() -> None:
    listed = DomainList(frozenset({"mailinator.com"}), frozenset({"partner.mailinator.com"}), "0")
    engine = SqliteEngine(listed)
    assert _sql_function(engine, "a@x.partner.mailinator.com") is None
    assert _sql_function(engine, "a@x.other.mailinator.com") == "mailinator.com"


@given(
    domain=st.sampled_from(["mailinator.com", "mx.guerrillamail.com", "yopmail.com"]),
    upper=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_case_never_matters(domain: str, upper: list[bool], domains: DomainList) -> None:
    # ``domains`` is session-scoped, so hypothesis may reuse it across examples.
    mixed = "".join(c.upper() if up else c for c, up in zip(domain, upper, strict=False))
    address = f"Drop.Box@{mixed}{domain[len(upper) :]}"
    expected = domains.match_domain(domain)
    assert expected is not None
    assert _sql_function(SqliteEngine(domains), address) == expected
    (document,) = ecs_documents(_routing(address), domains)
    assert get_path(document, f"{ENRICHMENT_ROOT}.gws_new_value") == expected


def test_regexp_function(domains: DomainList) -> None:
    engine = SqliteEngine(domains)
    assert engine.connection.execute("SELECT 'New-InboxRule' REGEXP '^New-'").fetchone() == (1,)
    assert engine.connection.execute("SELECT 'Set-Mailbox' REGEXP '^New-'").fetchone() == (0,)
    assert engine.connection.execute("SELECT NULL REGEXP '^New-'").fetchone() == (None,)


def test_columns_are_case_insensitive_text(domains: DomainList) -> None:
    engine = SqliteEngine(domains)
    engine.load(sigma_rows(_ual()))
    found = engine.connection.execute(
        "SELECT COUNT(*) FROM logs "
        "WHERE Operation = 'ADD USER.' AND Workload = 'azureactivedirectory'"
    ).fetchone()
    assert found == (1,)


def test_single_event_query_returns_one_alert_per_row(domains: DomainList) -> None:
    engine = SqliteEngine(domains)
    engine.load(row for i in range(3) for row in sigma_rows(_ual(Id=f"id-{i}")))
    alerts = engine.run("SELECT * FROM logs WHERE Operation = 'Add user.'")
    assert alerts == [
        Alert({}, "2026-11-20T10:00:00.000", "2026-11-20T10:00:00.000", (f"id-{i}",))
        for i in range(3)
    ]
    assert engine.event("id-1")["ObjectId"] == "new.hire@contoso.onmicrosoft.com"


def test_multivalue_parameters_are_json_in_sqlite(domains: DomainList) -> None:
    engine = SqliteEngine(domains)
    activity = _activity(
        [
            {
                "type": "USER_SETTINGS",
                "name": "MAIL_ROUTING_DESTINATION_ADDED",
                "parameters": [
                    {"name": "NEW_VALUE", "multiValue": ["a@example.org", "b@sharklasers.com"]}
                ],
            }
        ]
    )
    engine.load(sigma_rows(activity))
    stored, matched = engine.connection.execute(
        'SELECT "parameters.NEW_VALUE", dac_disposable_domain("parameters.NEW_VALUE") FROM logs'
    ).fetchone()
    assert json.loads(stored) == ["a@example.org", "b@sharklasers.com"]
    assert matched == "sharklasers.com"


def test_correlation_evidence_maps_to_native_ids_in_time_order(
    domains: DomainList, sqlite_queries: Any, ruleset: Any
) -> None:
    engine = SqliteEngine(domains)
    # Reports API pages list the newest activity first.
    records = load_records(EVENTS / "gws" / "bulk_5_in_40min.json")
    engine.load(row for record in records for row in sigma_rows(record))
    query = sqlite_queries.by_rule[ruleset.by_name("gws_bulk_user_creation").id]
    (alert,) = engine.run(query)
    chronological = sorted(records, key=lambda r: r["id"]["time"])
    assert alert.event_ids == tuple(r["id"]["uniqueQualifier"] for r in chronological)
    assert alert.group == {"actor.email": "it-admin@example.com"}
    assert alert.window_end == "2026-11-20T10:45:00.685"
    assert alert.window_start == "2026-11-20T09:45:00.685"


def test_bad_query_is_an_engine_error(domains: DomainList) -> None:
    with pytest.raises(EngineError, match="no such column"):
        SqliteEngine(domains).run("SELECT * FROM logs WHERE nope = 1")


# --- EQL engine ----------------------------------------------------------------------------


def test_eql_sequence_reports_group_window_and_evidence(
    domains: DomainList, eql_queries: Any, ruleset: Any
) -> None:
    engine = EqlEngine(domains)
    records = load_records(EVENTS / "m365" / "bulk_5_in_40min.json")
    engine.load_records(reversed(records))  # loaded out of order: the engine sorts by time
    (alert,) = engine.run(eql_queries.by_rule[ruleset.by_name("m365_bulk_user_creation").id])
    assert alert.group == {"UserId": "admin@contoso.onmicrosoft.com"}
    assert alert.event_ids == tuple(r["Id"] for r in records)
    assert alert.window_start == "2026-11-20T10:05:00.000"
    assert alert.window_end == "2026-11-20T10:44:28.000"


def test_eql_maxspan_is_inclusive_and_in_milliseconds(domains: DomainList) -> None:
    query = (
        'sequence by user.id with maxspan=1h [any where event.action : "added-user-account"] '
        '[any where event.action : "added-user-account"]'
    )
    for gap, expected in (("11:00:00", 1), ("11:00:01", 0)):
        engine = EqlEngine(domains)
        engine.load_records([_ual(Id="a"), _ual(Id="b", CreationTime=f"2026-11-20T{gap}")])
        assert len(engine.run(query)) == expected, gap


def test_eql_with_runs_is_refused_clearly(domains: DomainList) -> None:
    query = 'sequence by user.id with maxspan=1h [any where event.action : "x"] with runs=5'
    with pytest.raises(EngineError, match="refuses"):
        EqlEngine(domains).run(query)
