"""Elastic ES|QL, for the correlations EQL cannot mean: distinct counts (value_count) and
unordered co-occurrence (temporal).

ES|QL has no sliding window: the Kibana rule aggregates over its look-back, which the build
sets to the timespan plus the schedule interval. Every window of ``timespan`` is therefore
inside some run (nothing is missed), but a run may also count events up to
``timespan + interval`` apart: an over-approximation, stated in the README's target matrix.
"""

from __future__ import annotations

from typing import ClassVar

from sigma.backends.elasticsearch.elasticsearch_esql import ESQLBackend
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.types import SigmaString

from converters.backends.common import DacCorrelationBackend
from converters.backends.correlation import Correlation, require_queries
from converters.backends.eql import ENRICHMENT_ROOT
from converters.backends.literals import esql_string
from converters.sources import source_by_name


def _quote_field(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DacEsqlBackend(DacCorrelationBackend, ESQLBackend):
    name: ClassVar[str] = "dac-t1585 ES|QL backend"
    target_label: ClassVar[str] = "ES|QL"

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        # ES|QL's string escapes, and LIKE's own escapes in a pattern (pySigma writes `\*`
        # and raw line breaks, which the ES|QL grammar refuses).
        return esql_string(s)

    def disposable_test(
        self, sigma_field: str, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        key = self.disposable_field(sigma_field, state).address_key
        return f"{_quote_field(f'{ENRICHMENT_ROOT}.{key}')} is not null"

    def correlation_query(self, rule: SigmaCorrelationRule, corr: Correlation) -> str:
        if any(isinstance(b.rule, SigmaCorrelationRule) for b in corr.branches):
            return esql_over_alerts(corr, [str(ref.rule.id) for ref in rule.referenced_rules])
        require_queries(corr, "ES|QL")
        return esql_correlation(corr, _indices(rule))


def _indices(rule: SigmaCorrelationRule) -> list[str]:
    found: list[str] = []
    for ref in rule.referenced_rules:
        for state in ref.rule.get_conversion_states():
            source = source_by_name(str(state.processing_state["dac_source"]))
            found += [i for i in source.elastic_indices if i not in found]
    return found


def esql_correlation(corr: Correlation, indices: list[str]) -> str:
    conditions = [f"({b.query})" for b in corr.branches]
    lines = [f"FROM {', '.join(indices)}", "| WHERE " + " OR ".join(conditions)]
    evals: list[str] = []
    if corr.kind == SigmaCorrelationType.TEMPORAL:
        cases = ", ".join(
            f"{c}, {_string(b.name)}" for c, b in zip(conditions, corr.branches, strict=True)
        )
        evals.append(f"dac_rule = CASE({cases})")
        metric, aggregate = "rule_count", "COUNT_DISTINCT(dac_rule)"
    elif corr.kind == SigmaCorrelationType.VALUE_COUNT:
        assert corr.value_field is not None
        evals.append("dac_value = " + _per_branch(conditions, corr.value_field))
        metric, aggregate = "value_count", "COUNT_DISTINCT(dac_value)"
    else:
        raise SigmaFeatureNotSupportedByBackendError(
            f"ES|QL: correlation type {corr.kind.name.lower()} is not supported"
        )
    return "\n".join(lines + _aggregate(corr, conditions, evals, metric, aggregate))


def _aggregate(
    corr: Correlation, conditions: list[str], evals: list[str], metric: str, aggregate: str
) -> list[str]:
    """Group keys, the metric per group over the look-back, the threshold, the group's names."""
    columns = [f"dac_g{i}" for i in range(len(corr.group_names))]
    for i, column in enumerate(columns):
        fields = tuple(b.group_fields[i] for b in corr.branches)
        # Group values are identities (email addresses): compared without case.
        evals = [*evals, f"{column} = TO_LOWER({_per_branch(conditions, fields)})"]
    lines = ["| EVAL " + ", ".join(evals)]
    if columns:
        lines.append("| WHERE " + " AND ".join(f"{c} IS NOT NULL" for c in columns))
    by = f" BY {', '.join(columns)}" if columns else ""
    lines.append(
        f"| STATS {metric} = {aggregate}, window_start = MIN(@timestamp), "
        f"window_end = MAX(@timestamp){by}"
    )
    lines.append(f"| WHERE {metric} {corr.operator} {corr.count}")
    if columns:
        renames = ", ".join(
            f"{c} AS {_quote_field(n)}" for c, n in zip(columns, corr.group_names, strict=True)
        )
        lines.append(f"| RENAME {renames}")
    return lines


# Kibana's alerts of every space; each alert keeps the fields of the events behind it.
ALERTS_INDEX = ".alerts-security.alerts-*"
_ALERT_RULE = "kibana.alert.rule.rule_id"


def esql_over_alerts(corr: Correlation, rule_ids: list[str]) -> str:
    """A correlation of correlations, read from the alerts the referenced rules wrote (their
    Kibana rule_id is their Sigma id): the distinct rules alerting per group over the look-back."""
    if corr.kind != SigmaCorrelationType.TEMPORAL:
        raise SigmaFeatureNotSupportedByBackendError(
            "Elastic: a correlation of correlations is supported for temporal only"
        )
    matches = [f"{_ALERT_RULE} == {_string(i)}" for i in rule_ids]
    lines = [
        f"FROM {ALERTS_INDEX}",
        f"| WHERE {_ALERT_RULE} IN ({', '.join(_string(i) for i in rule_ids)})",
    ]
    evals = [f"dac_rule = {_ALERT_RULE}"]
    tail = _aggregate(corr, matches, evals, "rule_count", "COUNT_DISTINCT(dac_rule)")
    return "\n".join(lines + tail)


def _per_branch(conditions: list[str], fields: tuple[str, ...]) -> str:
    """The field of whichever referenced rule the event matched (aliases differ by rule)."""
    if len(set(fields)) == 1:
        return _quote_field(fields[0])
    cases = ", ".join(f"{c}, {_quote_field(f)}" for c, f in zip(conditions, fields, strict=True))
    return f"CASE({cases})"
