"""Elastic EQL: pySigma's EQL backend with our own correlation conversion.

Sequences are written out item by item (Elasticsearch and the ``eql`` library accept that;
the library refuses ``with runs=``), per-item join keys carry field aliases, and the
disposable-domain test reads the ingest-time enrichment. What a sequence cannot mean (distinct
counts, unordered co-occurrence) raises NeedsEsql, and the compiler turns to ES|QL."""

from __future__ import annotations

from typing import ClassVar

from sigma.backends.elasticsearch.elasticsearch_eql import EqlBackend
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError

from converters.backends.common import DacCorrelationBackend
from converters.backends.correlation import (
    Correlation,
    minimum_count,
    require_queries,
)

ENRICHMENT_ROOT = "dac.disposable_email"


class NeedsEsql(SigmaFeatureNotSupportedByBackendError):
    """The correlation has no EQL form; ES|QL expresses it."""


class DacEqlBackend(DacCorrelationBackend, EqlBackend):
    name: ClassVar[str] = "dac-t1585 EQL backend"
    target_label: ClassVar[str] = "EQL"

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
