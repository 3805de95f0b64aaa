"""What every backend needs to know about a correlation rule, independent of the target:
its referenced rules, each one's group-by fields (aliases resolved), the threshold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationFieldAlias,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError, SigmaFeatureNotSupportedByBackendError
from sigma.rule import SigmaRule

OPERATORS = {
    SigmaCorrelationConditionOperator.GT: ">",
    SigmaCorrelationConditionOperator.GTE: ">=",
    SigmaCorrelationConditionOperator.LT: "<",
    SigmaCorrelationConditionOperator.LTE: "<=",
    SigmaCorrelationConditionOperator.EQ: "==",
}


@dataclass(frozen=True)
class Branch:
    """One referenced rule: its name, its query and its group-by fields, in group order."""

    name: str
    rule: SigmaRule | SigmaCorrelationRule
    query: str
    group_fields: tuple[str, ...]


@dataclass(frozen=True)
class Correlation:
    kind: SigmaCorrelationType
    name: str
    timespan_seconds: int
    timespan_text: str
    group_names: tuple[str, ...]  # the group-by names as the correlation states them (mapped)
    branches: tuple[Branch, ...]
    operator: str
    count: int
    value_field: tuple[str, ...] | None  # value_count: the field per branch


def describe(rule: SigmaCorrelationRule, target: str) -> Correlation:
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise SigmaFeatureNotSupportedByBackendError(
            f"{target}: extended (boolean) correlation conditions are not supported"
        )
    aliases = {alias.alias: alias for alias in rule.aliases}
    group_names = tuple(rule.group_by or [])
    branches = []
    for ref in rule.referenced_rules:
        referenced = ref.rule
        try:
            results = referenced.get_conversion_result()
        except SigmaError:  # a target may read a correlation's alerts instead of its query
            results = []
        query = results[0] if len(results) == 1 and isinstance(results[0], str) else ""
        fields = []
        for name in group_names:
            alias = aliases.get(name)
            if alias is None:
                fields.append(name)
                continue
            mapped = [f for r, f in alias.mapping.items() if _same(r.reference, referenced)]
            if not mapped:
                raise SigmaFeatureNotSupportedByBackendError(
                    f"{target}: alias {name!r} has no field for rule {ref.reference!r}"
                )
            fields.append(mapped[0])
        branches.append(
            Branch(str(referenced.name or referenced.id), referenced, query, tuple(fields))
        )
    value_field: tuple[str, ...] | None = None
    if rule.type == SigmaCorrelationType.VALUE_COUNT:
        fieldref = condition.fieldref
        if not isinstance(fieldref, str):
            raise SigmaFeatureNotSupportedByBackendError(
                f"{target}: value_count needs exactly one condition field"
            )
        value_field = tuple(_aliased(aliases, fieldref, b.rule) for b in branches)
    timespan = rule.timespan
    return Correlation(
        kind=rule.type,
        name=str(rule.name or rule.id),
        timespan_seconds=int(timespan.seconds),
        timespan_text=str(timespan.spec),
        group_names=group_names,
        branches=tuple(branches),
        operator=OPERATORS[condition.op],
        count=int(condition.count),
        value_field=value_field,
    )


def _same(reference: str, rule: SigmaRule | SigmaCorrelationRule) -> bool:
    return reference in (rule.name, str(rule.id))


def _aliased(
    aliases: Mapping[str, SigmaCorrelationFieldAlias],
    name: str,
    rule: SigmaRule | SigmaCorrelationRule,
) -> str:
    alias = aliases.get(name)
    if alias is None:
        return name
    for reference, field in alias.mapping.items():
        if _same(reference.reference, rule):
            return str(field)
    return name


def minimum_count(corr: Correlation, target: str) -> int:
    """The least number that satisfies a ">=" or ">" condition; other operators ask for a
    maximum, which sequence-based constructs cannot express."""
    if corr.operator == ">=":
        return corr.count
    if corr.operator == ">":
        return corr.count + 1
    raise SigmaFeatureNotSupportedByBackendError(
        f"{target} cannot express the correlation condition '{corr.operator} {corr.count}': "
        "only a minimum (gte, gt) is supported there"
    )


def require_queries(corr: Correlation, target: str) -> None:
    for branch in corr.branches:
        if not branch.query:
            raise SigmaFeatureNotSupportedByBackendError(
                f"{target}: referenced rule {branch.name!r} has no query for this target"
            )
