"""Checks across rules: unique ids and names, and that every reference (a correlation's rules,
a filter's rules, an absence rule's follow-up, a logsource's data source) names something
that exists and fits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from converters.errors import Problem
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
            if value in seen:
                first = seen[value]
                problems.append(
                    Problem(
                        doc.path,
                        f"duplicate {key} {value!r}: also used by {first.path}",
                        rule=value,
                        line=doc.line(key),
                    )
                )
            else:
                seen[value] = doc
    return problems


def check_references(docs: list[RuleDoc]) -> list[Problem]:
    problems: list[Problem] = []
    rules = [d for d in docs if not d.is_filter]
    names = {doc.name for doc in rules} | {doc.id for doc in rules}
    for doc in docs:
        if doc.is_filter:
            for ref in doc.document["filter"]["rules"]:
                target = next((r for r in rules if ref in (r.name, r.id)), None)
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
            target = next((r for r in rules if absence["rule"] in (r.name, r.id)), None)
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
            if ref not in names:
                problems.append(
                    Problem(
                        doc.path,
                        f"correlation refers to unknown rule {ref!r}",
                        rule=doc.id,
                        line=doc.line("correlation"),
                    )
                )
    return problems
