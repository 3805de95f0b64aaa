"""Checks across rules: unique ids and names, and that every reference (a correlation's rules,
a filter's rules, an absence rule's follow-up, a logsource's data source) names something
that exists and fits."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from converters.errors import Problem
from converters.loading.identity import canonical_id, rule_key, same_rule
from converters.sources import find_source

if TYPE_CHECKING:
    from converters.loading.rules import RuleDoc


def check_unique(docs: list[RuleDoc]) -> list[Problem]:
    problems: list[Problem] = []
    for key in ("id", "name"):
        seen: dict[str, RuleDoc] = {}
        for doc in docs:
            value = doc.document.get(key)
            if value is None:
                continue
            value = str(value)
            if rule_key(value) in seen:
                first = seen[rule_key(value)]
                other = str(first.document.get(key))
                also = f" as {other!r}" if other != value else ""
                problems.append(
                    Problem(
                        doc.path,
                        f"duplicate {key} {value!r}: also used by {first.path}{also} "
                        "(ids and names are compared without letter case)",
                        rule=value,
                        line=doc.line(key),
                    )
                )
            else:
                seen[rule_key(value)] = doc
    return problems


def check_references(docs: list[RuleDoc]) -> list[Problem]:
    problems: list[Problem] = []
    rules = [d for d in docs if not d.is_filter]
    names = {rule_key(doc.name) for doc in rules} | {rule_key(doc.id) for doc in rules}
    for doc in docs:
        if doc.is_filter:
            for ref in doc.document["filter"]["rules"]:
                target = next((r for r in rules if same_rule(ref, r.name, r.id)), None)
                if target is None or target.is_correlation:
                    problems.append(
                        Problem(
                            doc.path,
                            f"filter tunes {ref!r}, which is not a single-event rule",
                            rule=doc.id,
                            line=doc.line("filter"),
                        )
                    )
                elif target.document["logsource"] != doc.document["logsource"]:
                    problems.append(
                        Problem(
                            doc.path,
                            f"filter logsource differs from that of {ref!r}: it would not apply",
                            rule=doc.id,
                            line=doc.line("logsource"),
                        )
                    )
            continue
        absence = doc.document.get("absence")
        if isinstance(absence, dict):
            target = next((r for r in rules if same_rule(absence["rule"], r.name, r.id)), None)
            if target is None or target.is_correlation or target is doc:
                problems.append(
                    Problem(
                        doc.path,
                        f"absence follows up with {absence['rule']!r}, which is not another "
                        "single-event rule",
                        rule=doc.id,
                        line=doc.line("absence"),
                    )
                )
        if not doc.is_correlation:
            source = doc.document["logsource"]
            if (
                find_source(source.get("product"), source.get("service"), source.get("category"))
                is None
            ):
                problems.append(
                    Problem(
                        doc.path,
                        f"unknown logsource {source!r}: no data source in converters/sources.py "
                        "serves it",
                        rule=doc.id,
                        line=doc.line("logsource"),
                    )
                )
            continue
        for ref in doc.document["correlation"].get("rules", []):
            if rule_key(ref) not in names:
                problems.append(
                    Problem(
                        doc.path,
                        f"correlation refers to unknown rule {ref!r}",
                        rule=doc.id,
                        line=doc.line("correlation"),
                    )
                )
    return problems


def canonical_references(docs: list[RuleDoc]) -> list[RuleDoc]:
    """Each id in canonical form and each reference (correlation rules and aliases, filter
    rules, absence follow-up) spelt as the rule it names spells its name or id: references
    match without letter case, and pySigma resolves names exactly."""
    rules = [d for d in docs if not d.is_filter]

    def spelt(ref: Any) -> Any:
        for rule in rules:
            if rule_key(ref) == rule_key(rule.name):
                return rule.name
            if rule_key(ref) == rule_key(rule.id):
                return canonical_id(rule.id)
        return ref

    result = []
    for doc in docs:
        document = copy.deepcopy(doc.document)
        if "id" in document:
            document["id"] = canonical_id(document["id"])
        correlation = document.get("correlation")
        if isinstance(correlation, dict):
            correlation["rules"] = [spelt(r) for r in correlation.get("rules", [])]
            for alias, fields in (correlation.get("aliases") or {}).items():
                if isinstance(fields, dict):
                    correlation["aliases"][alias] = {spelt(k): v for k, v in fields.items()}
        if isinstance(document.get("filter"), dict):
            document["filter"]["rules"] = [spelt(r) for r in document["filter"]["rules"]]
        if isinstance(document.get("absence"), dict) and "rule" in document["absence"]:
            document["absence"]["rule"] = spelt(document["absence"]["rule"])
        result.append(doc if document == doc.document else replace(doc, document=document))
    return result
