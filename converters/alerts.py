"""What an alert says about itself, per target: the rule's logic in words and its entities in the
target's field names. Feeds the playbook renderer."""

from __future__ import annotations

import re
from typing import Any

from converters.backends.absence import KEY as ABSENCE_KEY
from converters.backends.eql import ENRICHMENT_ROOT
from converters.backends.splunk import THREAT_INTEL_COLUMNS, disposable_output, lookup_output
from converters.loading.rules import RuleDoc, RuleSet
from converters.pipelines.placeholders import DISPOSABLE_PLACEHOLDER
from converters.playbook import phrases
from converters.playbook.logic import field_phrase, logic_sentence
from converters.playbook.model import AlertContext, Command, CommandPart, Entity
from converters.sources import DataSource


def detection_fields(doc: RuleDoc) -> list[str]:
    """Sigma field names a single-event rule tests, in order of appearance."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                name = str(key).split("|", 1)[0]
                if name and name not in found:
                    found.append(name)
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, dict):
                    walk(item)

    for name, selection in doc.document.get("detection", {}).items():
        if name != "condition":
            walk(selection)
    return found


def disposable_fields(doc: RuleDoc) -> list[str]:
    """Sigma fields a rule tests against the disposable-domain placeholder."""
    return placeholder_fields(doc, DISPOSABLE_PLACEHOLDER)


def placeholder_fields(doc: RuleDoc, placeholder: str) -> list[str]:
    """Sigma fields a rule tests against ``%placeholder%``."""
    marker = f"%{placeholder}%"
    found: list[str] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            name, _, modifiers = str(key).partition("|")
            if isinstance(node, dict) and "expand" in modifiers.split("|") and value == marker:
                found.append(name)
            elif isinstance(value, dict | list):
                walk(value)

    walk({k: v for k, v in doc.document.get("detection", {}).items() if k != "condition"})
    return found


def target_field(source: DataSource, sigma_field: str, target: str) -> str:
    """The field's name in ``target`` ("splunk", "elastic"; "sigma" and "page": the rule's own)."""
    field = source.field(sigma_field)
    if field is None or target in ("sigma", "page"):
        return sigma_field
    return field.splunk_result if target == "splunk" else field.elastic


def logic_text(ruleset: RuleSet, doc: RuleDoc) -> str:
    """The rule's logic in one line; the values in it exact (shown_value), the prose
    whitespace-normalised."""
    logic = logic_sentence(ruleset, doc)
    if doc.threshold is not None:
        # The analyst judges a borderline alert by the reason for its threshold.
        logic += " Why this threshold: " + " ".join(doc.threshold.rationale.split())
    return logic


def _equalities(doc: RuleDoc) -> set[tuple[str, str]]:
    """The (field, value) equality tests of a single-event rule's detection."""
    found: set[tuple[str, str]] = set()
    for name, selection in doc.document.get("detection", {}).items():
        for item in selection if isinstance(selection, list) else [selection]:
            if name == "condition" or not isinstance(item, dict):
                continue
            for key, value in item.items():
                if "|" not in str(key):
                    values = value if isinstance(value, list) else [value]
                    found.update((str(key), str(v)) for v in values)
    return found


def held_fields(ruleset: RuleSet, doc: RuleDoc) -> set[str]:
    """Sigma fields the rule's events carry: a correlation's group and its base rules'
    fields; a single-event rule's source fields, less those only other events carry
    (phrases.CARRIED_BY: no bulk-upload count on an account creation)."""
    if doc.is_correlation:
        correlation = doc.document["correlation"]
        held = set(correlation.get("group-by", []))
        for base in ruleset.base_rules_of(doc):
            if base is not doc:
                held |= held_fields(ruleset, base)
        return held
    source = ruleset.sources_of(doc)[0]
    tested = set(detection_fields(doc)) | _equalities_fields(doc)
    events = _equalities(doc)
    return {
        name
        for name in source.field_names()
        if name in tested
        or not set(phrases.CARRIED_BY.get((source.name, name), ())).isdisjoint(events)
        or (source.name, name) not in phrases.CARRIED_BY
    }


def _equalities_fields(doc: RuleDoc) -> set[str]:
    extra: set[str] = set()
    if doc.new_terms:
        extra.update(str(f) for f in doc.new_terms.get("fields", []))
    if doc.absence:
        extra.update(str(f) for f in dict(doc.absence["match"]))
    return extra


def rule_entities(ruleset: RuleSet, doc: RuleDoc) -> list[tuple[str, str]]:
    """The source's entities (label, Sigma field) that a single-event rule's events hold."""
    source = ruleset.sources_of(doc)[0]
    held = held_fields(ruleset, doc)
    return [(label, name) for label, name in source.entities if name in held]


def entities_for(ruleset: RuleSet, doc: RuleDoc, target: str) -> tuple[Entity, ...]:
    sources = ruleset.sources_of(doc)
    if doc.is_correlation:
        labels = {name: label for label, name in sources[0].entities}
        entities = [
            Entity(label=labels.get(name, name), field=target_field(sources[0], name, target))
            for name in doc.document["correlation"].get("group-by", [])
        ]
        if target == "splunk":  # the stats output; EQL sequence alerts carry no such count
            entities.append(Entity(label="Events in the window", field="event_count"))
        return tuple(entities)
    source = sources[0]
    if doc.absence and target == "elastic":
        # The ES|QL rule's rows: the account, when it was created, its last sign-in (none).
        return (
            Entity("Account never signed in to", ABSENCE_KEY),
            Entity("Created", "dac_created"),
        )
    # Several rule fields can share one target field (event parameters are one multivalue
    # field in the Splunk add-ons): show that field once, under all its labels.
    by_field: dict[str, list[str]] = {}
    for label, name in rule_entities(ruleset, doc):
        by_field.setdefault(target_field(source, name, target), []).append(label)
    return tuple(Entity(label=" / ".join(names), field=field) for field, names in by_field.items())


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def commands_for(
    ruleset: RuleSet, doc: RuleDoc, target: str, available: set[str] | None = None
) -> tuple[Command, ...]:
    """The sources' containment commands for the rule's indicator (every indicator, for an
    escalation), kept only where the alert carries every field the command needs: a
    correlation's group in a SIEM; ``available`` where the caller holds more (the hunt holds
    every field of the evidence: held_fields)."""
    aliases: set[str] = set()
    if available is not None:
        pass
    elif doc.is_correlation:
        available = set(doc.document["correlation"].get("group-by", []))
        aliases = set(doc.document["correlation"].get("aliases") or {})
    else:
        available = held_fields(ruleset, doc)
    sources = ruleset.sources_of(doc)
    absent_match = None
    if doc.absence:
        # The alert is the creation event; the follow-up source's commands would name its
        # actor (the admin). In Elastic only the matched account (absence.KEY) is in the row.
        sources = sources[:1]
        ((absent_match, _),) = dict(doc.absence["match"]).items()
        if target == "elastic":
            available = {str(absent_match)}
    commands: list[Command] = []
    for source in sources:
        for command in source.containment:
            if doc.indicator != "escalation" and doc.indicator not in command.indicators:
                continue
            names = _TEMPLATE_FIELD.findall(command.template)
            if not set(names) <= available:
                continue
            parts: list[CommandPart] = []
            for index, piece in enumerate(_TEMPLATE_FIELD.split(command.template)):
                if index % 2:
                    # A correlation's alert names its group as entities_for does: a source
                    # field under the target's name (pipelines map group-by fields), an
                    # alias under its own name.
                    keep = doc.is_correlation and piece in aliases
                    field = piece if keep else target_field(source, piece, target)
                    if target == "elastic" and piece == absent_match:
                        field = ABSENCE_KEY
                    parts.append(CommandPart("", field, field_phrase(source, piece)))
                elif piece:
                    parts.append(CommandPart(piece))
            commands.append(Command(command.action, tuple(parts)))
    return tuple(dict.fromkeys(commands))


_METRIC = {"event_count": "event_count", "value_count": "value_count"}


def answers_for(ruleset: RuleSet, doc: RuleDoc, target: str) -> tuple[Entity, ...]:
    """Where the alert itself answers a playbook question, the field that holds the answer."""
    answers: list[Entity] = []
    if not doc.is_correlation:
        source = ruleset.sources_of(doc)[0]
        for name in dict.fromkeys(disposable_fields(doc)):
            field = source.field(name)
            if field is None or field.address_key is None:
                continue
            where = (
                disposable_output(name)
                if target == "splunk"
                else f"{ENRICHMENT_ROOT}.{field.address_key}"
            )
            said = field_phrase(source, name).removeprefix("the ").removeprefix("its ")
            answers.append(
                Entity(f"Is the domain disposable? The listed domain of the {said}:", where)
            )
        if target == "splunk":  # the CIDR lookup returns the feed entry's columns
            for name in dict.fromkeys(placeholder_fields(doc, "threat_intel_ips")):
                answers += [
                    Entity(
                        f"Did {field_phrase(source, name)} match threat intelligence? "
                        f"The feed entry's {column}:",
                        lookup_output("threat_intel_ips", name, column),
                    )
                    for column in THREAT_INTEL_COLUMNS
                ]
        return tuple(answers)
    kind = doc.document["correlation"]["type"]
    metric = _METRIC.get(kind, "rule_count")
    if target == "splunk" or (target == "elastic" and kind in ("value_count", "temporal")):
        label = {
            "event_count": "How many events in the window?",
            "value_count": "How many distinct values in the window?",
        }.get(kind, "How many of the combined rules alerted?")
        answers.append(Entity(label, metric))
        if kind == "temporal_ordered" and doc.indicator == "new-account-mail-burst":
            # The ordered window opens with the creation and closes with the burst's end.
            answers.append(Entity("When was the account created?", "window_start"))
            answers.append(
                Entity(
                    "How soon after creation did the sending peak? The burst ended", "window_end"
                )
            )
        else:
            answers.append(Entity("When did the window start?", "window_start"))
            answers.append(Entity("When did it end?", "window_end"))
    return tuple(answers)


def alert_context(ruleset: RuleSet, doc: RuleDoc, target: str) -> AlertContext:
    return AlertContext(
        rule_id=doc.id,
        rule_name=doc.name,
        title=doc.title,
        description=str(doc.document["description"]).strip(),
        level=doc.level,
        indicator=doc.indicator,
        logic=logic_text(ruleset, doc),
        data_sources=tuple(s.title for s in ruleset.sources_of(doc)),
        falsepositives=tuple(str(f) for f in doc.document["falsepositives"]),
        references=tuple(str(r) for r in doc.document["references"]),
        entities=entities_for(ruleset, doc, target),
        commands=commands_for(ruleset, doc, target),
        answers=answers_for(ruleset, doc, target),
    )
