"""The rule schema: which keys a rule may carry, which are required, what values are allowed.

Strict on purpose (unknown keys are errors): a misspelt key would otherwise vanish from every
output without a word.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from converters.attack import Attack, split_tags
from converters.errors import Problem

# The playbook's key indicators; every output carries the rule's one.
INDICATORS: tuple[str, ...] = (
    "bulk-account-creation",
    "disposable-email-domain",
    "suspicious-source-ip",
    "untraceable-account",
    "new-account-mail-burst",
    "disposable-email-service-traffic",
    "escalation",
)

LEVELS = ("informational", "low", "medium", "high", "critical")
STATUSES = ("stable", "test", "experimental", "deprecated", "unsupported")
REQUIRED_TECHNIQUE = "T1585.002"
REQUIRED_TACTIC = "resource-development"

_COMMON_REQUIRED = (
    "title", "id", "name", "status", "description", "references", "author", "date",
    "tags", "indicator", "falsepositives", "level",
)  # fmt: skip
# logic (ours): the rule's own "Fires when ..." sentence, where the one derived from its
# detection (converters/playbook/logic.py) reads poorly.
_COMMON_OPTIONAL = (
    "modified", "license", "related", "taxonomy", "scope", "skip_targets", "logic",
)  # fmt: skip
SKIPPABLE_TARGETS = ("splunk", "elastic")
# new_terms (our extension): alert when the event's values of these fields did not occur in
# the preceding history (set in thresholds.yml); Kibana's new_terms rule type.
# building_block (ours): a high-volume event other rules build on (every sign-in, every sent
# message); shipped, but its own alerts stay out of the analyst's queue.
# absence (ours too): alert on the event when no event of another rule follows it (rule; match:
# this rule's field -> the other rule's field; within, in thresholds.yml).
# incident (ours): a single-event rule's alert grouping, one alert per entity (by: one to three
# of its fields) within period (converters/incidents.py).
_RULE_KEYS = (
    *_COMMON_REQUIRED, *_COMMON_OPTIONAL, "logsource", "detection", "fields", "new_terms",
    "absence", "building_block", "incident",
)  # fmt: skip
_PERIOD_RE = re.compile(r"^\d+[mhd]$")
_CORRELATION_KEYS = (*_COMMON_REQUIRED, *_COMMON_OPTIONAL, "correlation", "generate")
# Sigma filters (tuning as code): they carry no detection of their own, no indicator, no tags.
_FILTER_REQUIRED = ("title", "id", "name", "description", "author", "date", "logsource", "filter")
_FILTER_KEYS = (*_FILTER_REQUIRED, "status", "modified", "references", "license", "related")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{2,62}$")


def check_document(
    path: Path, doc: dict[str, Any], lines: dict[str, int], known: Attack
) -> list[Problem]:
    rule = str(doc.get("id") or doc.get("name") or doc.get("title") or "?")
    problems: list[Problem] = []

    def problem(reason: str, key: str | None = None) -> None:
        problems.append(Problem(path, reason, rule=rule, line=lines.get(key) if key else None))

    if "filter" in doc:
        _check_filter(doc, problem)
        return problems

    is_correlation = "correlation" in doc
    allowed = _CORRELATION_KEYS if is_correlation else _RULE_KEYS
    for key in doc:
        if key not in allowed:
            kind = "correlation rule" if is_correlation else "rule"
            problem(f"unknown key {key!r} for a {kind}", key)
    required = (*_COMMON_REQUIRED, "correlation") if is_correlation else (
        *_COMMON_REQUIRED, "logsource", "detection",
    )  # fmt: skip
    missing = [key for key in required if key not in doc]
    for key in missing:
        problem(f"missing required key {key!r}")
    if missing:
        return problems

    try:
        uuid.UUID(str(doc["id"]))
    except ValueError:
        problem(f"id {doc['id']!r} is not a UUID", "id")
    if not _NAME_RE.match(str(doc["name"])):
        problem(
            "name must be lower_snake_case, 3 to 63 characters (it names Splunk macros)", "name"
        )
    if doc["indicator"] not in INDICATORS:
        problem(
            f"indicator {doc['indicator']!r} is not a playbook indicator; use one of "
            + ", ".join(INDICATORS),
            "indicator",
        )
    if doc["level"] not in LEVELS:
        problem(f"level {doc['level']!r} is not one of {', '.join(LEVELS)}", "level")
    if doc["status"] not in STATUSES:
        problem(f"status {doc['status']!r} is not one of {', '.join(STATUSES)}", "status")
    for key in ("references", "falsepositives", "tags"):
        value = doc[key]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            problem(f"{key} must be a non-empty list of strings", key)
    if not isinstance(doc["description"], str) or not doc["description"].strip():
        problem("description must be a non-empty string", "description")
    if not isinstance(doc["tags"], list) or not all(isinstance(t, str) for t in doc["tags"]):
        return problems

    tactics, techniques = split_tags(doc["tags"])
    for tactic in tactics:
        if tactic not in known.tactics:
            problem(f"tag attack.{tactic} is not an ATT&CK tactic known to this build", "tags")
    for technique in techniques:
        if technique not in known.techniques:
            problem(f"tag attack.{technique.lower()} is not an ATT&CK technique known to this "
                    "build (converters/data/attack-subset.json)", "tags")  # fmt: skip
    if REQUIRED_TECHNIQUE not in techniques or REQUIRED_TACTIC not in tactics:
        problem(
            f"tags must include attack.{REQUIRED_TACTIC} and attack.{REQUIRED_TECHNIQUE.lower()}",
            "tags",
        )
    logic = doc.get("logic")
    if logic is not None and not (
        isinstance(logic, str)
        and logic.strip().startswith("Fires when")
        and logic.strip()[-1:] in ".!?"
    ):
        problem("logic is one sentence that starts 'Fires when' and ends with a full stop", "logic")
    skips = doc.get("skip_targets")
    if skips is not None and (
        not isinstance(skips, dict)
        or not all(
            k in SKIPPABLE_TARGETS and isinstance(v, str) and v.strip() for k, v in skips.items()
        )
    ):
        problem(
            "skip_targets maps a target (" + ", ".join(SKIPPABLE_TARGETS) + ") to the reason "
            "it cannot express the rule",
            "skip_targets",
        )
    new_terms = doc.get("new_terms")
    if new_terms is not None and (
        not isinstance(new_terms, dict)
        or set(new_terms) - {"fields", "history"}
        or not isinstance(new_terms.get("fields"), list)
        or not 1 <= len(new_terms["fields"]) <= 3
        or not all(isinstance(f, str) for f in new_terms["fields"])
    ):
        problem(
            "new_terms takes fields: a list of one to three rule fields whose combination "
            "must be new (its history is set in thresholds.yml)",
            "new_terms",
        )
    absence = doc.get("absence")
    if absence is not None and (
        not isinstance(absence, dict)
        or set(absence) - {"rule", "match", "within"}
        or not isinstance(absence.get("rule"), str)
        or not isinstance(absence.get("match"), dict)
        or len(absence["match"]) != 1
    ):
        problem(
            "absence takes rule (the follow-up rule) and match (one field of this rule: the "
            "follow-up rule's field with the same value); within is set in thresholds.yml",
            "absence",
        )
    if "building_block" in doc and not isinstance(doc["building_block"], bool):
        problem("building_block is true or false", "building_block")
    if doc.get("building_block") is True and doc["level"] != "informational":
        # One definition of a quiet base rule: the level says it (RuleDoc.building_block).
        problem("a building block is level informational", "building_block")
    incident = doc.get("incident")
    if incident is not None and (
        not isinstance(incident, dict)
        or set(incident) - {"by", "period"}
        or not isinstance(incident.get("by", []), list)
        or not 1 <= len(incident.get("by", [None])) <= 3
        or not all(isinstance(f, str) for f in incident.get("by", []))
        or not _PERIOD_RE.match(str(incident.get("period", "1h")))
    ):
        problem(
            "incident takes by (one to three of the rule's fields: one alert per their values)"
            " and period (e.g. 1h, 24h: how long one alert holds the entity's next events)",
            "incident",
        )
    if new_terms is not None and absence is not None:
        problem("a rule is a new-terms rule or an absence rule, not both", "absence")
    if not is_correlation and "fields" in doc:
        fields = doc["fields"]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            problem("fields must be a list of field names", "fields")
    return problems


def _check_filter(doc: dict[str, Any], problem: Callable[[str, str | None], None]) -> None:
    """A Sigma filter: known keys only, the required ones present, rules named explicitly."""
    for key in doc:
        if key not in _FILTER_KEYS:
            problem(f"unknown key {key!r} for a filter", key)
    for key in _FILTER_REQUIRED:
        if key not in doc:
            problem(f"missing required key {key!r}", None)
    body = doc.get("filter")
    if isinstance(body, dict):
        rules = body.get("rules")
        if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
            # "any" would silently tune rules written later; name them.
            problem("filter.rules must list the rules it tunes by name or id", "filter")
    elif "filter" in doc:
        problem("filter must be a mapping with rules, selections and a condition", "filter")
    if "id" in doc:
        try:
            uuid.UUID(str(doc["id"]))
        except ValueError:
            problem(f"id {doc['id']!r} is not a UUID", "id")
