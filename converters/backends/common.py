"""Helpers shared by the backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionNOT, ParentChainMixin
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError

from converters.backends.correlation import Correlation, describe
from converters.pipelines.placeholders import lookup_marked, marked_field
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


class DacBackend(TextQueryBackend):
    """What all our backends add to pySigma's: the disposable-domain test, each in its own
    form, and our own correlation conversion (the pipeline is applied here, as pySigma's
    base class would, before the subclass writes the query)."""

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        looked_up = lookup_marked(cond.field)
        if looked_up is not None:
            return self.lookup_test(looked_up[0], looked_up[1], cond, state)
        sigma_field = marked_field(cond.field)
        if sigma_field is None:
            return super().convert_condition_field_eq_val_str(cond, state)
        return self.disposable_test(sigma_field, cond, state)

    def lookup_test(
        self,
        list_name: str,
        sigma_field: str,
        cond: ConditionFieldEqualsValueExpression,
        state: ConversionState,
    ) -> str:
        # Only the Splunk pipeline marks list items for a lookup.
        raise SigmaFeatureNotSupportedByBackendError(
            f"{list_name}: this target expands the list into the query"
        )

    def disposable_test(
        self, sigma_field: str, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        raise NotImplementedError

    def disposable_field(self, sigma_field: str, state: ConversionState) -> Field:
        return source_field(state_source(state.processing_state), sigma_field)


class DacCorrelationBackend(DacBackend):
    """Our own correlation conversion (the SQLite reference keeps pySigma's): the pipeline is
    applied as pySigma's base class would, then the subclass writes the query from the
    target-independent description of the correlation."""

    target_label: ClassVar[str] = ""

    def convert_correlation_rule(
        self,
        rule: SigmaCorrelationRule,
        output_format: str | None = None,
        method: str | None = None,
        callback: Any = None,
    ) -> list[Any]:
        if getattr(self, "last_processing_pipeline", None) is None:
            self.init_processing_pipeline(output_format)
        self.last_processing_pipeline.apply(rule)
        query = self.correlation_query(rule, describe(rule, self.target_label))
        rule.set_conversion_result([query])
        return [query]

    def correlation_query(self, rule: SigmaCorrelationRule, corr: Correlation) -> str:
        raise NotImplementedError
