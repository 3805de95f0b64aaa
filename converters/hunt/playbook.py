"""The playbook for one hunted alert: the Kibana investigation guide the build renders
(``render_elastic(...).note``, the same templates), with the alert's entities filled in.

The renderer names each entity's field; a SIEM fills in the values (Splunk through tokens,
Kibana beside the alert). Here, each entity is rendered under a placeholder field, once per
rule, and the placeholder is replaced by the raw field and the alert's values, as a Splunk
token would be. The renderer and its templates are untouched.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from converters.alerts import alert_context, disposable_fields
from converters.engine.adapters import SigmaValue
from converters.engine.bulk import EvidenceRow
from converters.loading.rules import RuleDoc, RuleSet
from converters.playbook.model import AlertContext, Entity, Playbook
from converters.playbook.render import render_elastic
from converters.textsafe import visible

_PLACEHOLDER = "dac.hunt.entity.{}"
MAX_VALUES = 10  # distinct values shown per entity; the evidence lists every event


@dataclass(frozen=True)
class HuntEntity:
    label: str
    fields: tuple[str, ...]  # the Sigma fields holding it (one per aliased rule)
    # A field the rule tests against the disposable list: the alert's key value.
    key: bool = False
    # Not one of the source's entities (a key field added for the hunt): shown only when the
    # alert's events hold it (a rule tests several address fields, an event holds one).
    optional: bool = False


@dataclass(frozen=True)
class RuleGuide:
    context: AlertContext
    entities: tuple[HuntEntity, ...]
    note: str  # rendered, with placeholders for the entities

    @functools.cached_property
    def tokens(self) -> tuple[tuple[str, str], ...]:
        """Per entity: its placeholder as the note holds it, and the start of what replaces
        it (its fields); the same for every alert of the rule, so made once."""
        return tuple(
            (code(_PLACEHOLDER.format(n)), " / ".join(code(f) for f in e.fields) + " = ")
            for n, e in enumerate(self.entities)
        )


def hunt_entities(ruleset: RuleSet, doc: RuleDoc) -> tuple[HuntEntity, ...]:
    """The alert's entities in Sigma field names (converters.alerts.entities_for names them
    in a target's fields)."""
    sources = ruleset.sources_of(doc)
    if not sources:
        return ()
    if not doc.is_correlation:
        tested = list(dict.fromkeys(disposable_fields(doc)))
        named = [HuntEntity(lb, (name,), key=name in tested) for lb, name in sources[0].entities]
        known = {name for _label, name in sources[0].entities}
        label = "Address at a disposable email provider"
        added = [HuntEntity(label, (n,), True, True) for n in tested if n not in known]
        return (*added, *named)
    correlation = doc.document["correlation"]
    aliases = correlation.get("aliases") or {}
    labels = {name: label for source in sources for label, name in source.entities}
    entities = []
    for name in correlation.get("group-by", []):
        fields = tuple(dict.fromkeys(aliases[name].values())) if name in aliases else (name,)
        entities.append(HuntEntity(labels.get(fields[0], name), fields))
    return tuple(entities)


def rule_guide(ruleset: RuleSet, playbook: Playbook, doc: RuleDoc) -> RuleGuide:
    entities = hunt_entities(ruleset, doc)
    context = dataclasses.replace(
        alert_context(ruleset, doc, "elastic"),
        entities=tuple(Entity(e.label, _PLACEHOLDER.format(n)) for n, e in enumerate(entities)),
    )
    return RuleGuide(context, entities, render_elastic(playbook, context).note)


def alert_playbook(guide: RuleGuide, evidence: Sequence[EvidenceRow]) -> str:
    # The rule's note is rendered once (rule_guide); an alert only fills its placeholders,
    # one replace over the text per entity (a placeholder never spans lines).
    note = guide.note
    for entity, (token, fields) in zip(guide.entities, guide.tokens, strict=True):
        values = entity_values(entity, evidence)
        if entity.optional and not values:
            note = "\n".join(line for line in note.split("\n") if token not in line)
            continue
        note = note.replace(token, fields + _shown(values))
    return note


def entity_values(entity: HuntEntity, evidence: Sequence[EvidenceRow]) -> list[str]:
    """Distinct values of the entity over the evidence, in time order."""
    found: dict[str, None] = {}
    for row in evidence:
        for name in entity.fields:
            for value in _flat(row.values.get(name)):
                found.setdefault(value, None)
    return list(found)


def _shown(values: list[str]) -> str:
    if not values:
        return "(not in this alert's events)"
    shown = ", ".join(code(v) for v in values[:MAX_VALUES])
    more = len(values) - MAX_VALUES
    return shown + (f" and {more} more" if more > 0 else "")


def _flat(value: SigmaValue) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def code(value: str) -> str:
    """A markdown code span that holds any text: the fence is longer than any run of
    backticks inside, and control characters, line breaks included, are escaped (a code span
    shows them as they are: an ESC would reach the terminal that prints the playbook)."""
    text = visible(value) if value else " "
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
