"""Microsoft 365 message trace: the data source, the rows and documents of a
``Get-MessageTrace | Export-Csv`` export, and the message trace rules in the targets the tests
can run besides tests/test_rule_behaviour.py: the generated SPL's correlation stages in the
SPL simulator (tests/spl_sim.py) on every case of tests/cases, the correlation of correlations
included (it opts out of Elastic, so no eql engine runs it)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from converters.alerts import commands_for
from converters.compile import Queries, compile_target
from converters.domains import DomainList
from converters.engine import detect_source, ecs_documents, sigma_rows
from converters.engine.formats import MESSAGE_TRACE
from converters.hunt.readers import read_csv, sniff
from converters.loading.rules import RuleSet
from converters.sources import M365_MESSAGE_TRACE, SOURCES
from converters.timing import schedule_for

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events"
TRACE = EVENTS / "message_trace"
NESTED = "m365_new_account_mail_burst"
# Where the microsoft_exchange_online_message_trace integration's ingest pipeline puts each
# column (elastic/integrations, data_stream/log/elasticsearch/ingest_pipeline/default.yml).
ELASTIC = {
    "Received": "email.delivery_timestamp",
    "SenderAddress": "email.from.address",
    "RecipientAddress": "email.to.address",
    "Subject": "email.subject",
    "Status": "microsoft.online_message_trace.Status",
    "FromIP": "source.ip",
    "ToIP": "destination.ip",
    "Size": "microsoft.online_message_trace.Size",
    "MessageId": "email.message_id",
    "MessageTraceId": "email.local_id",
}


def _export(name: str) -> list[dict[str, Any]]:
    """The rows of an export as `dac hunt` reads them."""
    records: list[dict[str, Any]] = []
    with (TRACE / name).open("rb") as stream:
        for line, item in read_csv(stream):
            assert not isinstance(item, str), f"{name}:{line}: {item}"
            records.append(dict(item))
    return records


def test_fields_are_the_export_columns_and_the_integration_fields() -> None:
    for path in (REPO / "examples" / "m365_message_trace.csv", TRACE / "busy_sender.csv"):
        with path.open(encoding="utf-8", newline="") as stream:
            header = next(csv.reader(stream))
        assert set(M365_MESSAGE_TRACE.field_names()) <= set(header), path
    assert M365_MESSAGE_TRACE.name == MESSAGE_TRACE  # the name the hunt's format gives rows
    assert (M365_MESSAGE_TRACE.product, M365_MESSAGE_TRACE.service) == ("m365", "message_trace")
    assert M365_MESSAGE_TRACE.elastic_map() == ELASTIC
    assert M365_MESSAGE_TRACE.splunk_map() == {name: name for name in ELASTIC}
    assert M365_MESSAGE_TRACE.splunk_macro == "dac_m365_message_trace"
    assert "ms:o365:reporting:messagetrace" in M365_MESSAGE_TRACE.splunk_macro_definition


def test_address_keys_are_unique_across_sources() -> None:
    keys = [f.address_key for s in SOURCES for f in s.fields if f.address_key]
    assert len(keys) == len(set(keys))
    mine = {f.sigma: f.address_key for f in M365_MESSAGE_TRACE.fields if f.address_key}
    assert mine == {
        "SenderAddress": "mt_sender_address",
        "RecipientAddress": "mt_recipient_address",
    }


def test_export_rows_and_documents(domains: DomainList) -> None:
    assert sniff(TRACE / "new_account_burst.csv").name == "message-trace"
    record = _export("new_account_burst.csv")[0]
    assert record["Received"] == "11/20/2026 11:28:10 AM" and record["Index"] == "0"
    assert detect_source(record) is M365_MESSAGE_TRACE
    (row,) = sigma_rows(record)
    # en-US export time, UTC as Get-MessageTrace writes it -> the rows' ISO timestamp.
    assert row["timestamp"] == "2026-11-20T11:28:10.000"
    assert row["dac_source"] == "m365_message_trace"
    # One row per recipient: the trace id with the recipient names this row alone.
    assert row["dac_event_id"] == f"{record['MessageTraceId']}:{record['RecipientAddress']}"
    assert row["SenderAddress"] == "r.hall@contoso.onmicrosoft.com"
    (document,) = ecs_documents(record, domains)
    assert document["event"]["dataset"] == "microsoft_exchange_online_message_trace.log"
    assert document["email"]["from"]["address"] == "r.hall@contoso.onmicrosoft.com"
    assert document["microsoft"]["online_message_trace"]["Status"] == "Delivered"
    assert document["destination"]["ip"] == "192.0.2.41"
    assert "dac" not in document  # no address of this row is at a disposable domain


@pytest.mark.parametrize(
    ("export", "listed"),
    [
        ("disposable_sender_many_recipients.csv", "guerrillamail.com"),
        ("disposable_sender_slow_drip.csv", "sharklasers.com"),
        ("lookalike_sender_many_recipients.csv", None),
    ],
)
def test_sender_enrichment(export: str, listed: str | None, domains: DomainList) -> None:
    """The simulated ingest-time enrichment marks the sender's listed domain (mixed case too)
    and leaves the look-alike mailinator.com.corp.example alone."""
    for record in _export(export):
        (document,) = ecs_documents(record, domains)
        found = document.get("dac", {}).get("disposable_email", {})
        assert found == ({"mt_sender_address": listed} if listed else {})


@pytest.fixture(scope="module")
def splunk_queries(ruleset: RuleSet) -> Queries:
    return compile_target(ruleset, "splunk")


def test_new_account_burst_in_each_target(
    ruleset: RuleSet, splunk_queries: Queries, eql_queries: Queries
) -> None:
    doc = ruleset.by_name(NESTED)
    reason = eql_queries.skipped[doc.id]
    assert doc.id not in eql_queries.by_rule and "sequence" in reason and "order" in reason
    spl = splunk_queries.by_rule[doc.id]
    assert spl.startswith("| multisearch") and "dac_g0=lower('ObjectId')" in spl
    assert "union" not in spl
    # The inner burst over the message-trace rows, then the ordered chain over the outer rules.
    assert 'streamstats time_window=3600s count(eval(dac_rule="message_trace_mail_sent"))' in spl
    assert "streamstats time_window=86400s current=f max(dac_chain_0)" in spl
    assert 'if(dac_outer="m365_user_added", _time, null())' in spl
    # Evidence may lie the 24h chain plus the 1h burst back, plus the run's slot and the lag
    # of the slower source (the Unified Audit Log, 180 minutes).
    assert schedule_for(doc, ruleset).lookback_minutes == 24 * 60 + 60 + 15 + 5 + 180


def test_alerts_carry_the_sender_for_containment(ruleset: RuleSet) -> None:
    def commands(name: str) -> list[str]:
        found = commands_for(ruleset, ruleset.by_name(name), "splunk")
        return ["".join(p.text or f"{{{p.field}}}" for p in c.parts) for c in found]

    nested = commands(NESTED)
    assert "Set-Mailbox -Identity '{SenderAddress}' -AccountDisabled $true" in nested
    # The audit source's commands need {ObjectId}/{UserId}: the alert carries only its group.
    assert not any("{ObjectId}" in c or "{UserId}" in c for c in nested)
    burst = commands("message_trace_mail_burst")
    assert any(c.startswith("Revoke-MgUserSignInSession") for c in burst)
    assert not any("TenantAllowBlockList" in c for c in burst)
    disposable = commands("message_trace_disposable_sender_many_recipients")
    assert any(
        "New-TenantAllowBlockListItems -ListType Sender -Block -Entries '{SenderAddress}'" in c
        for c in disposable
    )
    assert not any("AccountDisabled" in c for c in disposable)  # an outside address
