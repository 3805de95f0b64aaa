"""Elastic EQL: pySigma's EQL backend with event_count written out as a repeated sequence
(Elasticsearch and the ``eql`` library accept it; ``with runs=`` is refused by the library)
and the disposable-domain test read from the ingest-time enrichment."""

from __future__ import annotations

from typing import Any, ClassVar

from sigma.backends.elasticsearch.elasticsearch_eql import EqlBackend
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule

from converters.backends.common import minimum_count, source_field, state_source
from converters.pipelines.placeholders import marked_field

ENRICHMENT_ROOT = "dac.disposable_email"


class DacEqlBackend(EqlBackend):
    name: ClassVar[str] = "dac-t1585 EQL backend"

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        sigma_field = marked_field(cond.field)
        if sigma_field is None:
            return super().convert_condition_field_eq_val_str(cond, state)
        field = source_field(state_source(state.processing_state), sigma_field)
        return f"{ENRICHMENT_ROOT}.{field.address_key} != null"

    def convert_correlation_event_count_rule(
        self, rule: SigmaCorrelationRule, output_format: str | None = None, method: str = "sequence"
    ) -> list[str]:
        count = minimum_count(rule, "EQL")
        item = self.convert_correlation_search(rule)
        group = ", ".join(rule.group_by or [])
        by = f" by {group}" if group else ""
        timespan = self.convert_timespan(rule.timespan, output_format, method)
        items = "\n  ".join([item] * count)
        return [f"sequence{by} with maxspan={timespan}\n  {items}"]
