"""`dac hunt` end to end: the shipped examples give exactly the test suite's alerts; rule
selection; the JSONL schema; the report's grouping and escaping; exit codes."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from converters.cli import main
from converters.loading.rules import RuleSet
from tests.timelines import add_user, forward

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").iterdir())
EVENTS = REPO / "tests" / "events"
TEST_LISTS_TI = REPO / "tests" / "lists" / "threat_intel_ips.csv"
KEYS = [
    "rule_id", "rule_title", "indicator", "level", "technique", "group", "window_start",
    "window_end", "event_count", "hits", "first_event", "last_event", "distinct", "evidence",
    "playbook",
]  # fmt: skip


def hunt(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["hunt", "--root", str(REPO), *map(str, args)])
    return result.exit_code, result.output


def alerts_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def ids(relative: str) -> list[str]:
    data = json.loads((EVENTS / relative).read_text(encoding="utf-8"))
    records = data["items"] if isinstance(data, dict) else data
    # Reports API activities, UAL records (Id), Entra directoryAudits (id)
    return [
        str(r["id"]["uniqueQualifier"] if "kind" in r else r.get("Id", r.get("id")))
        for r in records
    ]


def expected_alerts() -> set[tuple[str, tuple[str, ...]]]:
    """What the test suite's cases say of the records the examples were made of, one alert
    per incident (converters/hunt/episodes.py): a burst is one alert per rule and actor,
    building blocks included (they run when named)."""
    gws_burst, m365_burst = ids("gws/bulk_5_in_40min.json"), ids("m365/bulk_5_in_40min.json")
    routing = ids("gws/mail_routing_guerrillamail_subdomain.json")
    forwarding = ids("m365/set_mailbox_forward_smtp_prefix.json")
    redirect = ids("m365/inbox_rule_redirect_disposable.json")
    # examples/entra_directory_audits.json holds tests/events/entra/bulk_5_in_40min_one_admin.json
    # and update_user.json.
    entra_burst = ids("entra/bulk_5_in_40min_one_admin.json")
    return {
        ("entra_bulk_user_creation_by_ip", tuple(sorted(entra_burst))),
        ("entra_user_added", tuple(sorted(entra_burst))),
        ("entra_user_without_hr_attributes", tuple(sorted(entra_burst))),
        ("gws_bulk_user_creation", tuple(sorted(gws_burst))),
        ("gws_user_created", tuple(sorted(gws_burst))),
        ("gws_mail_routing_disposable_domain", tuple(routing)),
        ("m365_bulk_user_creation", tuple(sorted(m365_burst))),
        ("m365_user_added", tuple(sorted(m365_burst))),
        ("m365_forwarding_disposable_domain", tuple(forwarding)),
        ("m365_forwarding_disposable_domain", tuple(redirect)),
        # The same admin's burst and disposable routing within two hours: the escalation
        # (tests/cases/gws_escalation_bulk_and_disposable.yml). The M365 forwarding comes too
        # late after its burst to escalate.
        ("gws_escalation_bulk_and_disposable", tuple(sorted([*gws_burst, *routing]))),
        # examples/zeek_dns.log: lookups of mailinator.com and www.guerrillamail.com (the
        # cases of tests/cases/zeek_dns_disposable_email_service.yml), not of the others: one
        # client within the hour, one alert.
        ("zeek_dns_disposable_email_service", ("C1200339d068739fa9", "C6050914a9d33a01c3")),
        # examples/squid_access.log: the CONNECT tunnel to www.guerrillamail.com and the GET
        # of mailinator.com (tests/cases/proxy_disposable_email_service.yml).
        (
            "proxy_disposable_email_service",
            ("1795175461.250:10.20.0.15", "1795175522.500:10.20.0.15"),
        ),
        # examples/m365_message_trace.csv: the new hires send 3 messages each, below the burst
        # threshold; every sent message is the building block message_trace_mail_sent, which
        # a hunt runs only when it is named.
    }


def keyed(alerts: list[dict[str, Any]], ruleset: RuleSet) -> set[tuple[str, tuple[str, ...]]]:
    return {
        (ruleset.by_id(a["rule_id"]).name, tuple(sorted(e["id"] for e in a["evidence"])))
        for a in alerts
    }


def test_examples_give_exactly_the_test_suites_alerts(tmp_path: Path, ruleset: RuleSet) -> None:
    out = tmp_path / "alerts.jsonl"
    code, output = hunt(*EXAMPLES, "--out", out)
    assert code == 0, output
    alerts = alerts_of(out)
    # Every planted attack alerts, the benign look-alikes beside them do not; building
    # blocks only when named.
    expected = {k for k in expected_alerts() if not ruleset.by_name(k[0]).building_block}
    assert keyed(alerts, ruleset) == expected
    assert len(alerts) == len(expected)
    # Every example file's source has rules now (Gmail and login: the burst and the absence
    # rules; Squid: the proxy rule).
    assert "no rule reads this source yet" not in output
    assert f"{len(expected)} alerts (" in output


def test_jsonl_schema_and_evidence_locations(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    assert hunt(*EXAMPLES, "--out", out)[0] == 0
    for alert in alerts_of(out):
        assert list(alert) == KEYS
        assert alert["technique"] == "T1585.002"
        assert alert["event_count"] == len(alert["evidence"]) >= 1
        assert alert["window_start"] <= alert["window_end"] and alert["window_end"].endswith("Z")
        for evidence in alert["evidence"]:
            assert set(evidence) == {"id", "file", "line"}
            path = Path(evidence["file"])
            # The Google Workspace login and Gmail sample is gzipped NDJSON.
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            lines = raw.decode("utf-8").splitlines()
            # A message-trace id is the trace id and the recipient: both are on the row.
            text = "\n".join(lines[evidence["line"] - 1 : evidence["line"] + 30])
            assert all(part in text for part in evidence["id"].split(":"))
        assert alert["playbook"].startswith("## Triage and analysis")
    bulk = [a for a in alerts_of(out) if a["group"]]
    assert {json.dumps(a["group"]) for a in bulk} == {
        '{"actor.email": "it-admin@example.com"}',
        '{"UserId": "admin@contoso.onmicrosoft.com"}',
        '{"initiatedBy.user.ipAddress": "198.51.100.17"}',
    }
    gws = next(a for a in bulk if "actor.email" in a["group"])
    assert "- Acting admin: `actor.email` = `it-admin@example.com`" in gws["playbook"]
    routing = next(a for a in alerts_of(out) if a["indicator"] == "disposable-email-domain")
    assert "`parameters.NEW_VALUE` = `x@mx.guerrillamail.com`" in routing["playbook"]


@pytest.mark.parametrize(
    ("selection", "rules"),
    [
        (["--rule", "gws_user_created"], {"gws_user_created"}),
        (["--rule", "fcdb0ff8-4fd2-4dc1-8154-f369b0506a4a"], {"m365_bulk_user_creation"}),
        (
            ["--indicator", "disposable-email-domain"],
            {"gws_mail_routing_disposable_domain", "m365_forwarding_disposable_domain"},
        ),
        (
            ["--rule", "m365_user_added", "--indicator", "disposable-email-domain"],
            {
                "m365_user_added",
                "gws_mail_routing_disposable_domain",
                "m365_forwarding_disposable_domain",
            },
        ),
    ],
)
def test_rule_selection(
    tmp_path: Path, ruleset: RuleSet, selection: list[str], rules: set[str]
) -> None:
    out = tmp_path / "alerts.jsonl"
    code, output = hunt(*EXAMPLES, "--out", out, *selection)
    assert code == 0, output
    found = keyed(alerts_of(out), ruleset)
    assert found == {key for key in expected_alerts() if key[0] in rules}


def test_unknown_rule_or_indicator_is_a_usage_error(tmp_path: Path) -> None:
    code, output = hunt(*EXAMPLES, "--rule", "no_such_rule")
    assert code == 2 and "no rule named 'no_such_rule'" in output and "gws_user_created" in output
    # Every indicator has a rule now: hunt with a rule set that lacks one.
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "sigma_rules", rules)
    # Retag its rules (removing them would orphan their thresholds and references).
    for path in rules.rglob("*.yml"):
        text = path.read_text(encoding="utf-8")
        retagged = text.replace("\nindicator: untraceable-account\n", "\nindicator: escalation\n")
        path.write_text(retagged, encoding="utf-8")
    code, output = hunt(*EXAMPLES, "--rules", rules, "--indicator", "untraceable-account")
    assert code == 2 and "no rule implements indicator" in output


ESCALATION_RULE = """
title: Account Added Then Mail Forwarded to a Disposable Domain
id: 5d2c8f0e-3b7a-4c1d-9e6f-2a4b8c0d1e3f
name: hunt_test_account_then_forwarding
status: experimental
description: An actor adds an account, then forwards mail to a disposable domain.
references:
  - https://attack.mitre.org/techniques/T1585/002/
author: dac-t1585 tests
date: 2026-11-24
tags:
  - attack.resource-development
  - attack.t1585.002
falsepositives:
  - Test rule.
indicator: escalation
correlation:
  type: temporal_ordered
  rules:
    - m365_user_added
    - m365_forwarding_disposable_domain
  group-by:
    - UserId
level: high
"""
ESCALATION_THRESHOLD = """
hunt_test_account_then_forwarding:
  timespan: 1h
  condition: {gte: 2}
  rationale: A test rule; the window is part of the test.
"""


def test_report_groups_alerts_by_escalation_decision(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "sigma_rules", rules)
    (rules / "escalation.yml").write_text(ESCALATION_RULE)
    with (rules / "thresholds.yml").open("a", encoding="utf-8") as thresholds:
        thresholds.write(ESCALATION_THRESHOLD)
    log = tmp_path / "ual.json"
    actor = "admin@contoso.onmicrosoft.com"
    log.write_text(json.dumps([add_user(0, actor), forward(20, actor)]))
    for suffix in (".html", ".md"):
        report = tmp_path / f"report{suffix}"
        named = ("m365_user_added", "m365_forwarding_disposable_domain")
        chosen = [a for n in (*named, "hunt_test_account_then_forwarding") for a in ("--rule", n)]
        code, output = hunt(log, "--rules", rules, "--report", report, *chosen)
        assert code == 0, output
        text = report.read_text()
        escalate = text.index("Escalate to Tier 2 (1)")
        triage = text.index("Triage (L1), then apply the decision for escalation (1)")
        context = text.index("Context: informational building blocks (1)")
        assert escalate < triage < context
        # The escalation rule's alert is in its group, and its playbook leads with Tier 2 work.
        title = "Account Added Then Mail Forwarded to a Disposable Domain"
        assert escalate < text.index(title) < triage
        assert "This alert meets the decision for escalation" in text


def test_report_escapes_what_the_logs_say(tmp_path: Path) -> None:
    evil = 'drop@mailinator.com <script>alert("x")</script>'
    log = tmp_path / "ual.ndjson"
    record = forward(0, "<img src=x onerror=alert(1)>", evil)
    record["Parameters"][0]["Value"] = "`<b>bold</b>`"
    log.write_text(json.dumps(record) + "\n")
    html, md = tmp_path / "report.html", tmp_path / "report.md"
    assert hunt(log, "--report", html)[0] == 0
    assert hunt(log, "--report", md)[0] == 0
    text = html.read_text()
    assert "<script>" not in text and "<img" not in text and "<b>bold" not in text
    assert "&lt;script&gt;" in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    # A markdown viewer that renders raw HTML finds none: values are escaped or code spans.
    shown = MarkdownIt("commonmark").render(md.read_text())
    assert "<script>" not in shown and "<img" not in shown and "&lt;script&gt;" in shown


def test_exit_codes(tmp_path: Path) -> None:
    assert hunt(*EXAMPLES, "--fail-on-alert", "critical")[0] == 1
    m365_only = REPO / "examples" / "m365_management_activity.json"
    assert hunt(m365_only, "--fail-on-alert", "high")[0] == 1
    assert hunt(m365_only, "--fail-on-alert", "critical")[0] == 0
    quiet = EVENTS / "m365" / "set_mailbox_forward_partner.json"
    assert hunt(quiet, "--fail-on-alert", "informational")[0] == 0
    assert hunt(*EXAMPLES, "--report", tmp_path / "report.txt")[0] == 2
    assert hunt(tmp_path / "missing.json")[0] == 2
    notes = tmp_path / "notes.txt"
    notes.write_text("nothing to see\n")
    code, output = hunt(notes, *EXAMPLES)
    assert code == 2 and "notes.txt: unknown format" in output and "zeek-dns" in output
    broken = tmp_path / "cut.json.gz"
    broken.write_bytes(gzip.compress((EVENTS / "m365" / "bulk_5_in_40min.json").read_bytes())[:300])
    code, output = hunt(broken)
    assert code == 2 and "cut.json.gz" in output


def test_malformed_records_are_counted_and_the_run_goes_on(tmp_path: Path) -> None:
    good = [add_user(m, "admin@contoso.onmicrosoft.com") for m in (0, 5, 10, 15, 20)]
    log = tmp_path / "ual.ndjson"
    lines = [json.dumps(r) for r in good]
    lines[1:1] = ["{oops", json.dumps({**good[0], "CreationTime": "yesterday"}), "[1]"]
    log.write_text("\n".join(lines) + "\n")
    out, report = tmp_path / "alerts.jsonl", tmp_path / "report.md"
    code, output = hunt(log, "--format", "ual", "--out", out, "--report", report)
    assert code == 0, output
    assert f"skipped {log}:2: malformed JSON" in output.replace("\n", "")
    assert f"skipped {log}:3: not an ISO-8601 timestamp: 'yesterday'" in output.replace("\n", "")
    assert f"skipped {log}:4: a record must be a JSON object" in output.replace("\n", "")
    assert f"| {log} | ual | 8 | 5 | 3 | 5 |" in report.read_text().replace("\\", "")
    # The user additions are a building block, left out unless named.
    assert {a["rule_title"] for a in alerts_of(out)} == {
        "Microsoft 365 Accounts Added in Bulk by One Actor",
    }


def test_threat_intel_is_the_customers_file(tmp_path: Path, ruleset: RuleSet) -> None:
    """The shipped list is empty: the threat-intelligence rules say they did not run. With
    --threat-intel FILE they run on that list; a malformed file is an input error naming its
    line."""
    log = EVENTS / "m365" / "add_user_from_threat_intel_ip.json"
    rule = "m365_user_added_from_threat_intel_ip"
    title = "Microsoft 365 Account Added From a Threat-Intelligence IP"
    out = tmp_path / "alerts.jsonl"

    code, output = hunt(log, "--rule", rule, "--out", out)
    assert code == 0, output
    assert f"not run: {title}: the list threat_intel_ips is empty" in output
    assert alerts_of(out) == []

    code, output = hunt(log, "--rule", rule, "--out", out, "--threat-intel", TEST_LISTS_TI)
    assert code == 0, output
    assert "not run:" not in output
    assert [a["rule_id"] for a in alerts_of(out)] == [ruleset.by_name(rule).id]

    plain = tmp_path / "ips.txt"
    plain.write_text("# one per line\n192.0.2.0/24\n", encoding="utf-8")
    code, output = hunt(log, "--rule", rule, "--out", out, "--threat-intel", plain)
    assert code == 0 and len(alerts_of(out)) == 1, output

    broken = tmp_path / "ti.csv"
    broken.write_text("network,source,confidence\nnot-an-address,x,low\n", encoding="utf-8")
    code, output = hunt(log, "--rule", rule, "--threat-intel", broken)
    assert code == 2, output
    assert f"{broken}:2" in output and "not an IP network" in output


def test_unknown_files_in_a_folder_are_passed_over_unless_strict(tmp_path: Path) -> None:
    """A folder of exports often holds a README or a script: passed over with a warning
    naming it; --strict makes it an error. A file named on the command line must be read."""
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "zeek_dns.log", folder / "dns.log")
    (folder / "notes.txt").write_text("exported on Monday\n", encoding="utf-8")

    code, output = hunt(folder)
    assert code == 0, output
    assert f"warning: {folder / 'notes.txt'}: unknown format" in output
    assert "passed over" in output and "dns.log" in output

    code, output = hunt(folder, "--strict")
    assert code == 2 and f"error: {folder / 'notes.txt'}: unknown format" in output

    code, output = hunt(folder / "notes.txt")
    assert code == 2 and "error:" in output and "unknown format" in output


def test_a_corrupt_gzip_file_is_named_as_such(tmp_path: Path) -> None:
    whole = gzip.compress((REPO / "examples" / "zeek_dns.log").read_bytes())
    truncated = tmp_path / "dns.log.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    code, output = hunt(truncated)
    assert code == 2, output
    assert f"{truncated}" in output and "corrupt or truncated gzip file" in output
    assert "Traceback" not in output


def test_json_is_one_document_for_ci(tmp_path: Path, ruleset: RuleSet) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "m365_management_activity.json", folder / "ual.json")
    (folder / "notes.txt").write_text("exported on Monday\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["hunt", "--root", str(REPO), "--json", str(folder)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["errors"] == []
    (read,) = document["files"]
    assert read["file"] == str(folder / "ual.json") and read["format"] == "ual"
    assert read["parsed"] == read["records"] > 0 and read["error"] is None
    assert [p.startswith(str(folder / "notes.txt")) for p in document["passed_over"]] == [True]
    not_run = {r["rule_id"] for r in document["not_run"]}
    assert ruleset.by_name("m365_user_added_from_threat_intel_ip").id in not_run
    assert document["alerts"] and set(document["alerts"][0]) == set(KEYS)

    bad = CliRunner().invoke(
        main, ["hunt", "--root", str(REPO), "--json", str(folder / "notes.txt")]
    )
    assert bad.exit_code == 2
    failed = json.loads(bad.stdout)
    assert failed["ok"] is False and "unknown format" in failed["errors"][0]
