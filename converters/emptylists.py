"""Empty value lists emit nothing: no stand-in value ever reaches a query.

A list placeholder (``field|expand: '%name%'``) over an empty list is a selection that holds
for no event. Where it sits decides what follows:

- in a filter (``not (provisioning_account and corporate_network)``): the filter removes
  nothing, so it is left out of the rules it tunes;
- in a rule's own condition (``selection and threat_intel``): the rule can match nothing in a
  target that writes the list into its query; the target skips it, saying why (Splunk reads
  the threat-intelligence list through a lookup, Kibana through indicator-match rules, so
  they keep it).

The condition is evaluated over the three values "holds for no event", "holds for every
event" and "depends on the event"; a filter or rule whose result still depends on events while
an empty list sits in it is refused: it would need a stand-in value.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    SigmaCondition,
)
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from converters.errors import Problem
from converters.loading.rules import RuleDoc, RuleSet
from converters.valuelists import ValueList


class Truth(Enum):
    NEVER = 0
    ALWAYS = 1
    DEPENDS = 2


def _list_name(value: object) -> str | None:
    parts: tuple[object, ...] = tuple(getattr(value, "s", ()))
    if len(parts) == 1 and hasattr(parts[0], "name"):
        return str(parts[0].name)
    return None


def _evaluate(node: Any, empty: set[str]) -> Truth:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return Truth.NEVER if _list_name(node.value) in empty else Truth.DEPENDS
    if isinstance(node, ConditionNOT):
        inner = _evaluate(node.args[0], empty)
        return {Truth.NEVER: Truth.ALWAYS, Truth.ALWAYS: Truth.NEVER}.get(inner, Truth.DEPENDS)
    values = [_evaluate(arg, empty) for arg in getattr(node, "args", ())]
    if isinstance(node, ConditionAND):
        if Truth.NEVER in values:
            return Truth.NEVER
        return Truth.ALWAYS if all(v is Truth.ALWAYS for v in values) else Truth.DEPENDS
    if isinstance(node, ConditionOR):
        if Truth.ALWAYS in values:
            return Truth.ALWAYS
        return Truth.NEVER if all(v is Truth.NEVER for v in values) else Truth.DEPENDS
    return Truth.DEPENDS


def _uses(node: Any, empty: set[str]) -> set[str]:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        name = _list_name(node.value)
        return {name} if name in empty else set()
    found: set[str] = set()
    for arg in getattr(node, "args", ()):
        found |= _uses(arg, empty)
    return found


def condition_truth(conditions: list[SigmaCondition], empty: set[str]) -> tuple[Truth, set[str]]:
    """What the conditions (any of which fires) are when the ``empty`` lists hold nothing, and
    which of those lists they use."""
    trees = [c.parsed for c in conditions]
    used = set().union(*(_uses(t, empty) for t in trees)) if trees else set()
    results = [_evaluate(t, empty) for t in trees]
    if any(r is Truth.ALWAYS for r in results):
        return Truth.ALWAYS, used
    if results and all(r is Truth.NEVER for r in results):
        return Truth.NEVER, used
    return Truth.DEPENDS, used


def apply_empty_lists(
    ruleset: RuleSet, lists: Mapping[str, ValueList], expanded: frozenset[str] | None = None
) -> tuple[RuleSet, dict[str, str], list[Problem]]:
    """The rule set without the filters an empty list voids; the rules an empty list voids,
    with the reason the target skips them; problems for what cannot be left out.
    ``expanded``: the lists this target writes into its queries (None: all)."""
    empty = {
        name
        for name, values in lists.items()
        if not values.values and (expanded is None or name in expanded)
    }
    if not empty:
        return ruleset, {}, []
    problems: list[Problem] = []
    kept: list[RuleDoc] = []
    for doc in ruleset.filters:
        conditions = SigmaFilter.from_dict(doc.document).filter.parsed_condition
        truth, used = condition_truth(conditions, empty)
        if not used:
            kept.append(doc)
        elif truth is not Truth.ALWAYS:
            problems.append(
                Problem(doc.path, f"the empty list {', '.join(sorted(used))} leaves this "
                        "filter's condition to the events: give it values", rule=doc.id)
            )  # fmt: skip
    skipped: dict[str, str] = {}
    tuned = RuleSet(ruleset.root, ruleset.docs, tuple(kept))
    # The rules with the filters that still apply merged in, as the backends see them.
    for rule in tuned.fresh_collection():
        if not isinstance(rule, SigmaRule):
            continue
        doc = ruleset.by_id(str(rule.id))
        truth, used = condition_truth(rule.detection.parsed_condition, empty)
        if not used:
            continue
        if truth is Truth.NEVER:
            skipped[doc.id] = (
                f"the list {', '.join(sorted(used))} is empty: the rule can match nothing"
            )
        elif truth is Truth.DEPENDS:
            problems.append(
                Problem(doc.path, f"the empty list {', '.join(sorted(used))} leaves the "
                        "condition to the events: give it values", rule=doc.id)
            )  # fmt: skip
    return tuned, skipped, problems
