"""Google Workspace Gmail log events and login audit: the data sources, the rows and documents
of Reports API activities of the gmail and login applications (both reading paths agree), the
Elastic opt-outs, the alerts' containment, and the Gmail correlations' generated SPL stages in
the SPL simulator (tests/spl_sim.py) on every case of tests/cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from converters.alerts import commands_for
from converters.compile import Queries, compile_target
from converters.datasources.gws_gmail import GWS_GMAIL
from converters.datasources.gws_login import GWS_LOGIN
from converters.domains import DomainList
from converters.engine import detect_source, ecs_documents, load_records, sigma_rows
from converters.engine.formats import GWS
from converters.loading.rules import RuleSet
from converters.sources import SOURCES, find_source
from converters.targets.enrichment import make_enrichment

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events"
GMAIL = EVENTS / "gws_gmail"
NESTED = "gws_new_account_mail_burst"
SENDER = "message_info.source.address"
# Where each target keeps the Gmail fields (see converters/datasources/gws_gmail.py).
GMAIL_FIELDS = {
    "event_info.mail_event_type": (
        "event_info.mail_event_type",
        "google_workspace.gmail.event_info.mail_event_type",
    ),
    "email": ("email", "google_workspace.gmail.email"),
    SENDER: ("message_info.source.address", "email.from.address"),
    "message_info.destination.address": (
        "message_info.destination{}.address",
        "email.to.address",
    ),
    "message_info.subject": ("message_info.subject", "email.subject"),
    "message_info.rfc2822_message_id": (
        "message_info.rfc2822_message_id",
        "email.message_id",
    ),
    "message_info.connection_info.client_ip": (
        "message_info.connection_info.client_ip",
        "client.ip",
    ),
}


def _first(path: Path) -> dict[str, Any]:
    return load_records(path)[0]


def test_sources_serve_their_logsources_and_the_hunts_names() -> None:
    assert find_source("gcp", "google_workspace.gmail") is GWS_GMAIL
    assert find_source("gcp", "google_workspace.login") is GWS_LOGIN
    # converters.engine.formats names non-admin activities gws_<applicationName>.
    assert (GWS_GMAIL.name, GWS_LOGIN.name) == ("gws_gmail", "gws_login")
    assert {n: (GWS_GMAIL.splunk_map()[n], GWS_GMAIL.elastic_map()[n]) for n in GMAIL_FIELDS} == (
        GMAIL_FIELDS
    )
    assert set(GWS_GMAIL.field_names()) == set(GMAIL_FIELDS)
    assert GWS_GMAIL.splunk_macro_definition == 'sourcetype="gws:gmail"'
    assert GWS_GMAIL.elastic_dataset == "google_workspace.gmail"
    assert GWS_LOGIN.splunk_macro_definition == 'sourcetype="gws:reports:login"'
    assert GWS_LOGIN.elastic_map()["event.name"] == "event.action"
    assert GWS_LOGIN.elastic_map()["actor.email"] == "source.user.email"


def test_address_keys_are_unique_across_sources() -> None:
    keys = [f.address_key for s in SOURCES for f in s.fields if f.address_key]
    assert len(keys) == len(set(keys))
    assert {f.sigma: f.address_key for f in GWS_GMAIL.fields if f.address_key} == {
        SENDER: "gws_gmail_sender"
    }
    assert not any(f.address_key for f in GWS_LOGIN.fields)


@pytest.mark.parametrize(
    "path",
    [
        GMAIL / "new_account_burst.json",
        GMAIL / "announcement_to_55_colleagues.json",
        EVENTS / "gws_login" / "new_hire_first_sign_in.json",
    ],
    ids=lambda p: p.name,
)
def test_rule_tests_and_hunt_read_activities_alike(path: Path) -> None:
    """The rule tests' path (adapters.sigma_rows) and the hunt's (formats.GWS) give the same
    rows for every application, not only admin."""
    for record in load_records(path):
        assert sigma_rows(record) == GWS.rows(record)


def test_sent_message_rows_and_documents(domains: DomainList) -> None:
    record = _first(GMAIL / "announcement_to_55_colleagues.json")  # newest first: a receipt
    sent = next(
        r
        for r in load_records(GMAIL / "announcement_to_55_colleagues.json")
        if r["actor"]["email"] == "n.ortiz@example.com"
    )
    assert detect_source(sent) is GWS_GMAIL and detect_source(record) is GWS_GMAIL
    (row,) = sigma_rows(sent)
    assert row["dac_source"] == "gws_gmail" and row["event_name"] == "delivery"
    assert row["event_info.mail_event_type"] == "1"
    assert row[SENDER] == row["email"] == "n.ortiz@example.com"
    recipients = row["message_info.destination.address"]
    assert isinstance(recipients, list) and len(recipients) == 55  # one message, 55 recipients
    assert row["timestamp"] == "2026-11-20T10:15:00.250"
    (document,) = ecs_documents(sent, domains)
    assert document["event"]["dataset"] == "google_workspace.gmail"
    assert document["email"]["from"]["address"] == "n.ortiz@example.com"
    assert len(document["email"]["to"]["address"]) == 55
    gmail = document["google_workspace"]["gmail"]
    assert gmail["event_info"]["mail_event_type"] == "1"
    assert gmail["email"] == "n.ortiz@example.com"
    assert document["client"]["ip"] == "185.220.101.7"
    assert "dac" not in document


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("disposable_sender_many_recipients.json", "guerrillamail.com"),
        ("disposable_sender_slow_drip.json", "sharklasers.com"),
        ("lookalike_sender_many_recipients.json", None),
    ],
)
def test_sender_enrichment(name: str, listed: str | None, domains: DomainList) -> None:
    """The simulated ingest-time enrichment marks the sender's listed domain (mixed case too)
    and leaves the look-alike mailinator.com.corp.example alone."""
    for record in load_records(GMAIL / name):
        (document,) = ecs_documents(record, domains)
        found = document.get("dac", {}).get("disposable_email", {})
        assert found == ({"gws_gmail_sender": listed} if listed else {})


def test_login_rows_and_documents(domains: DomainList) -> None:
    records = load_records(EVENTS / "gws_login" / "new_hire_first_sign_in.json")
    success = next(r for r in records if r["events"][0]["name"] == "login_success")
    assert detect_source(success) is GWS_LOGIN
    (row,) = sigma_rows(success)
    assert row["actor.email"] == "t.nguyen@example.com" and row["ipAddress"] == "198.51.100.23"
    assert row["parameters.login_type"] == "google_password"
    assert row["parameters.is_suspicious"] == "false"
    assert row["parameters.login_challenge_method"] == ["password"]
    (document,) = ecs_documents(success, domains)
    assert document["event"] == {
        "dataset": "google_workspace.login",
        "action": "login_success",
        "provider": "login",
    }
    assert document["source"] == {"user": {"email": "t.nguyen@example.com"}, "ip": "198.51.100.23"}
    assert document["google_workspace"]["login"]["type"] == "google_password"


def test_elastic_opt_outs_say_why(ruleset: RuleSet, eql_queries: Queries) -> None:
    nested = ruleset.by_name(NESTED)
    assert "sequence" in eql_queries.skipped[nested.id]
    assert "order" in eql_queries.skipped[nested.id]
    for name in ("gws_gmail_mail_sent", "gws_gmail_mail_burst", "gws_login_success"):
        assert eql_queries.languages[ruleset.by_name(name).id] == "eql"
    burst = eql_queries.by_rule[ruleset.by_name("gws_gmail_mail_burst").id]
    assert burst.startswith("sequence by google_workspace.gmail.email with maxspan=1h")


def test_one_ecs_field_feeds_the_disposable_keys_of_both_mail_logs(
    ruleset: RuleSet, eql_queries: Queries, domains: DomainList
) -> None:
    """The Gmail sender shares email.from.address with the message trace sender: the
    enrichment keeps both keys for it, so both disposable-sender rules run in Kibana."""
    script = make_enrichment(domains).pipeline["processors"][0]["script"]
    pairs = {tuple(pair) for pair in script["params"]["fields"]}
    assert ("email.from.address", "mt_sender_address") in pairs
    assert ("email.from.address", "gws_gmail_sender") in pairs
    for name in ("gws_gmail_disposable_sender", "gws_gmail_disposable_sender_many_recipients"):
        rule = ruleset.by_name(name)
        assert rule.id not in eql_queries.skipped
        assert "dac.disposable_email.gws_gmail_sender" in eql_queries.by_rule[rule.id]


def test_alerts_carry_the_sender_for_containment(ruleset: RuleSet) -> None:
    def commands(name: str, target: str) -> list[str]:
        found = commands_for(ruleset, ruleset.by_name(name), target)
        return ["".join(p.text or f"{{{p.field}}}" for p in c.parts) for c in found]

    # The burst names its group (the sending mailbox) by the target's field.
    assert "gam update user {email} suspended on" in commands("gws_gmail_mail_burst", "splunk")
    assert "gam update user {google_workspace.gmail.email} suspended on" in commands(
        "gws_gmail_mail_burst", "elastic"
    )
    # The nested rule's group is an alias: its own name, in every target.
    nested = commands(NESTED, "splunk")
    assert "gam update user {email} suspended on" in nested
    assert not any("USER_EMAIL" in c or "actor.email" in c for c in nested)
    disposable = commands("gws_gmail_disposable_sender_many_recipients", "splunk")
    assert disposable == ['gam all users print messages query "from:{message_info.source.address}"']
    assert commands("gws_login_success", "elastic") == [
        "gam user {source.user.email} signout; gam update user {source.user.email} "
        "changepassword on"
    ]


@pytest.fixture(scope="module")
def splunk_queries(ruleset: RuleSet) -> Queries:
    return compile_target(ruleset, "splunk")
