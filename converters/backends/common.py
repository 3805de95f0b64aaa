"""Helpers shared by the backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigma.conditions import ConditionNOT, ParentChainMixin
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
