"""Helpers shared by the backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigma.conditions import ConditionNOT, ParentChainMixin
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
)
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError

from converters.sources import DataSource, Field, source_by_name


def under_not(node: ParentChainMixin) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, ConditionNOT):
            return True
        parent = getattr(parent, "parent", None)
    return False


def state_source(processing_state: Mapping[str, Any]) -> DataSource:
    name = processing_state.get("dac_source")
    if not isinstance(name, str):
        raise SigmaFeatureNotSupportedByBackendError(
            "rule has no data source (its logsource matched no dac pipeline)"
        )
    return source_by_name(name)


def source_field(source: DataSource, sigma_field: str) -> Field:
    found = source.field(sigma_field)
    if found is None:
        raise SigmaFeatureNotSupportedByBackendError(
            f"field {sigma_field!r} is not defined for data source {source.name!r}"
        )
    return found


def minimum_count(rule: SigmaCorrelationRule, target: str) -> int:
    """The least number of events that satisfies an event_count condition."""
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise SigmaFeatureNotSupportedByBackendError(
            f"{target} cannot express an extended correlation condition"
        )
    op = condition.op
    count = int(condition.count)
    if op == SigmaCorrelationConditionOperator.GTE:
        return count
    if op == SigmaCorrelationConditionOperator.GT:
        return count + 1
    raise SigmaFeatureNotSupportedByBackendError(
        f"{target} cannot express the correlation condition {op.name.lower()} {count}: only "
        "gte and gt (a minimum number of events) are supported"
    )
