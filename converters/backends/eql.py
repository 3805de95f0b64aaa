"""Elastic EQL: pySigma's EQL backend with our own correlation conversion.

Sequences are written out item by item (Elasticsearch and the ``eql`` library accept that;
the library refuses ``with runs=``), per-item join keys carry field aliases, and the
disposable-domain test reads the ingest-time enrichment. What a sequence cannot mean (distinct
counts, unordered co-occurrence) raises NeedsEsql, and the compiler turns to ES|QL."""

from __future__ import annotations

from typing import Any, ClassVar

from sigma.backends.elasticsearch.elasticsearch_eql import EqlBackend
from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionOR
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.types import SigmaCasedString, SigmaString

from converters.backends.common import DacCorrelationBackend
from converters.backends.correlation import (
    Correlation,
    minimum_count,
    require_queries,
)
from converters.backends.literals import eql_exact, eql_needs_exact, eql_string
from converters.pipelines.placeholders import lookup_marked, marked_field

ENRICHMENT_ROOT = "dac.disposable_email"


class NeedsEsql(SigmaFeatureNotSupportedByBackendError):
    """The correlation has no EQL form; ES|QL expresses it."""


class DacEqlBackend(DacCorrelationBackend, EqlBackend):
    name: ClassVar[str] = "dac-t1585 EQL backend"
    target_label: ClassVar[str] = "EQL"

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        # EQL's own string escapes (pySigma would write a backslash before a line break).
        return eql_string(s)

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = cond.value
        if isinstance(value, SigmaString) and eql_needs_exact(value) and _plain_field(cond):
            field = self.escape_and_quote_field(cond.field)
            return eql_exact(field, value, isinstance(value, SigmaCasedString))
        return super().convert_condition_field_eq_val_str(cond, state)

    def decide_convert_condition_as_in_expression(
        self, cond: ConditionOR | ConditionAND, state: ConversionState
    ) -> bool:
        # A value `like~ (...)` would misread stays a test of its own (above).
        values = [getattr(arg, "value", None) for arg in cond.args]
        if any(isinstance(v, SigmaString) and eql_needs_exact(v) for v in values):
            return False
        return bool(super().decide_convert_condition_as_in_expression(cond, state))

    def disposable_test(
        self, sigma_field: str, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return f"{ENRICHMENT_ROOT}.{self.disposable_field(sigma_field, state).address_key} != null"

    def correlation_query(self, rule: SigmaCorrelationRule, corr: Correlation) -> str:
        nested = any(isinstance(b.rule, SigmaCorrelationRule) for b in corr.branches)
        if nested or corr.kind in (SigmaCorrelationType.VALUE_COUNT, SigmaCorrelationType.TEMPORAL):
            raise NeedsEsql(f"EQL cannot express this {corr.kind.name.lower()} correlation")
        require_queries(corr, "EQL")
        if corr.kind == SigmaCorrelationType.EVENT_COUNT:
            return _event_count(corr)
        if corr.kind == SigmaCorrelationType.TEMPORAL_ORDERED:
            return _temporal_ordered(corr)
        raise SigmaFeatureNotSupportedByBackendError(
            f"Elastic: correlation type {corr.kind.name.lower()} is not supported"
        )


def _plain_field(cond: ConditionFieldEqualsValueExpression) -> bool:
    """Not a field the pipelines marked for the disposable-domain or a list test."""
    return lookup_marked(cond.field) is None and marked_field(cond.field) is None


def _header(corr: Correlation, shared: bool) -> str:
    by = f" by {', '.join(corr.branches[0].group_fields)}" if shared and corr.group_names else ""
    return f"sequence{by} with maxspan={corr.timespan_text}"


def _shared_keys(corr: Correlation) -> bool:
    return len({b.group_fields for b in corr.branches}) == 1


def _item(query: str, corr: Correlation, fields: tuple[str, ...], shared: bool) -> str:
    by = f" by {', '.join(fields)}" if fields and not shared else ""
    return f"[any where {query}]{by}"


def _event_count(corr: Correlation) -> str:
    if not _shared_keys(corr):
        raise SigmaFeatureNotSupportedByBackendError(
            "Elastic: event_count over rules with different group fields (aliases) is not supported"
        )
    count = minimum_count(corr, "EQL")
    query = " or ".join(f"({b.query})" for b in corr.branches)
    if len(corr.branches) == 1:
        query = corr.branches[0].query
    item = _item(query, corr, corr.branches[0].group_fields, True)
    return _header(corr, True) + "\n  " + "\n  ".join([item] * count)


def _temporal_ordered(corr: Correlation) -> str:
    if minimum_count(corr, "EQL") != len(corr.branches):
        raise SigmaFeatureNotSupportedByBackendError(
            f"Elastic: temporal_ordered needs all {len(corr.branches)} referenced rules in order"
        )
    shared = _shared_keys(corr)
    items = [_item(b.query, corr, b.group_fields, shared) for b in corr.branches]
    return _header(corr, shared) + "\n  " + "\n  ".join(items)
