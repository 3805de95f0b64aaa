"""What an alert says about itself, per target: the rule's logic in words and its entities in the
target's field names. Feeds the playbook renderer."""

from __future__ import annotations

import json
import re
from typing import Any

from converters.backends.absence import KEY as ABSENCE_KEY
from converters.backends.eql import ENRICHMENT_ROOT
from converters.backends.splunk import THREAT_INTEL_COLUMNS, disposable_output, lookup_output
from converters.loading.rules import RuleDoc, RuleSet
from converters.pipelines.placeholders import DISPOSABLE_PLACEHOLDER
from converters.playbook.model import AlertContext, Command, CommandPart, Entity
from converters.sources import DataSource

_OPERATORS = {
    "gte": "at least",
    "gt": "more than",
    "lte": "at most",
    "lt": "fewer than",
    "eq": "exactly",
}


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


def _describe_selection(selection: Any) -> str:
    if isinstance(selection, list):
        return " or ".join(f"({_describe_selection(item)})" for item in selection)
    if not isinstance(selection, dict):
        return f"keyword {selection!r}"
    parts = []
    for key, value in selection.items():
        values = value if isinstance(value, list) else [value]
        shown = " or ".join(shown_value(v) for v in values)
        if str(key).endswith("|expand") and value == f"%{DISPOSABLE_PLACEHOLDER}%":
            parts.append(f"{str(key).split('|')[0]} is an address at a disposable email domain")
        else:
            parts.append(f"{key} is {shown}")
    return ", ".join(parts)


def describe_detection(doc: RuleDoc) -> str:
    """The detection in words, for the analyst: each selection and the condition."""
    detection = doc.document["detection"]
    selections = [
        f"{name}: {_describe_selection(value)}"
        for name, value in detection.items()
        if name != "condition"
    ]
    condition = " ".join(str(detection["condition"]).split())
    return f"Fires on each event where {condition}; " + "; ".join(selections) + "."


def target_field(source: DataSource, sigma_field: str, target: str) -> str:
    field = source.field(sigma_field)
    if field is None:
        return sigma_field
    return field.splunk_result if target == "splunk" else field.elastic


def shown_value(value: object) -> str:
    """A rule value for the analyst, exactly: as written when it is plain text, else as a JSON
    string (a line break as \\n), so that no value is cut, joined or hidden in the alert
    text. In Sigma notation: ``\\*`` is a literal asterisk, ``*`` a wildcard."""
    text = str(value)
    plain = text.isprintable() and text == " ".join(text.split())
    if plain and '"' not in text and "\\" not in text:
        return text
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif not c.isprintable() and c != " ":
            out.append(json.dumps(c)[1:-1])  # \\uXXXX, a surrogate pair beyond the BMP
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def logic_text(ruleset: RuleSet, doc: RuleDoc) -> str:
    """The rule's logic in one line; the values in it exact (shown_value), the prose
    whitespace-normalised."""
    logic = _logic(ruleset, doc)
    if doc.threshold is not None:
        # The analyst judges a borderline alert by the reason for its threshold.
        logic += " Why this threshold: " + " ".join(doc.threshold.rationale.split())
    return logic


def _logic(ruleset: RuleSet, doc: RuleDoc) -> str:
    if not doc.is_correlation:
        return describe_detection(doc)
    corr = doc.document["correlation"]
    condition = dict(corr["condition"])
    field = condition.pop("field", None)
    ((op, count),) = condition.items()
    bound = f"{_OPERATORS.get(op, op)} {count}"
    titles = [f"'{' '.join(ruleset.ref(r).title.split())}'" for r in corr["rules"]]
    group = ", ".join(corr.get("group-by", [])) or "everything"
    span = corr["timespan"]
    kind = corr["type"]
    if kind == "event_count":
        return (
            f"Fires when {bound} events of {' or '.join(titles)} fall within {span}, per {group}."
        )
    if kind == "value_count":
        return (
            f"Fires when {bound} distinct values of {field} appear in events of "
            f"{' or '.join(titles)} within {span}, per {group}."
        )
    if kind == "temporal_ordered":
        return (
            f"Fires when {', then '.join(titles)} occur in this order within {span}, per {group}."
        )
    return f"Fires when {bound} of {', '.join(titles)} occur within {span}, per {group}."


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
    for label, name in source.entities:
        by_field.setdefault(target_field(source, name, target), []).append(label)
    return tuple(Entity(label=" / ".join(names), field=field) for field, names in by_field.items())


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def commands_for(ruleset: RuleSet, doc: RuleDoc, target: str) -> tuple[Command, ...]:
    """The sources' containment commands for the rule's indicator (every indicator, for an
    escalation), kept only where the alert carries every field the command needs."""
    aliases: set[str] = set()
    if doc.is_correlation:
        available = set(doc.document["correlation"].get("group-by", []))
        aliases = set(doc.document["correlation"].get("aliases") or {})
    else:
        available = {name for s in ruleset.sources_of(doc) for name in s.field_names()}
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
                    parts.append(CommandPart("", field))
                elif piece:
                    parts.append(CommandPart(piece))
            commands.append(Command(command.action, tuple(parts)))
    return tuple(commands)


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
            answers.append(Entity(f"Is the domain disposable? Listed domain in {name}", where))
        if target == "splunk":  # the CIDR lookup returns the feed entry's columns
            for name in dict.fromkeys(placeholder_fields(doc, "threat_intel_ips")):
                answers += [
                    Entity(
                        f"Did {name} match threat intelligence? Feed entry's {column}",
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
