"""Splunk SPL: pySigma's Splunk backend plus data-source macros, per-rule filter macros and the
disposable-domain lookup."""

from __future__ import annotations

import re
from typing import Any, ClassVar, cast

from sigma.backends.splunk.splunk import SplunkBackend
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.rule import SigmaRule
from sigma.types import SigmaString

from converters.backends.common import (
    DacCorrelationBackend,
    source_field,
    state_source,
    under_not,
)
from converters.backends.correlation import Correlation
from converters.backends.literals import splunk_refusal
from converters.backends.splunk_correlation import correlation_spl
from converters.domains import ADDRESS_DOMAIN_PATTERN
from converters.pipelines.placeholders import lookup_marked, marked_field
from converters.sources import Field

DISPOSABLE_LOOKUP = "dac_disposable_email_domains"
_MARKS = "dac_disposable_marks"
_LOOKUP_MARKS = "dac_lookup_marks"
# Conditions on a field whose exact value the search evaluates (converters.datasources.model
# Field.splunk_exact): the index search tests a superset, the search after the evaluation
# the condition itself.
_EXACT_MARKS = "dac_exact_marks"
# What the index search tests for such a condition under NOT: nothing (no event has this
# field), so that the NOT keeps every event and the index search stays a superset.
_NEVER = '"dac_never"=*'
# A value list tested through a CIDR lookup: transforms.conf name, and the columns it returns.
THREAT_INTEL_LOOKUP = "dac_threat_intel_ips"
THREAT_INTEL_COLUMNS = ("source", "confidence")
THREAT_INTEL_MACRO = "dac_threat_intel"


def lookup_output(list_name: str, sigma_field: str, column: str) -> str:
    """The result field holding a lookup column for an address of ``sigma_field``."""
    stem = re.sub(r"\W+", "_", sigma_field).lower()
    return f"dac_{list_name}_{column}_{stem}"


def filter_macro(rule_name: str) -> str:
    return f"{rule_name}_filter"


def _token(index: int) -> str:
    return f"__dac_disposable_{index}__"


def _named_domain_pattern(index: int) -> str:
    """The shared address pattern with its group named for rex, quoted for SPL."""
    pattern = ADDRESS_DOMAIN_PATTERN.replace("@(", f"@(?<dac_domain_{index}>", 1)
    return pattern.replace("\\", "\\\\").replace('"', '\\"')


def disposable_output(sigma_field: str) -> str:
    """The result field that holds the listed domain an address of ``sigma_field`` matched
    (named by the field, so the playbook text can point at it)."""
    return "dac_disposable_" + re.sub(r"\W+", "_", sigma_field).lower()


def _refuse(field: str | None, value: object) -> None:
    """A value no search term means exactly is an error naming it, never an approximation."""
    if not isinstance(value, SigmaString):
        return
    if field is not None and (lookup_marked(field) or marked_field(field)):
        return  # a list or disposable-domain test: the value is the placeholder
    reason = splunk_refusal(value)
    if reason is not None:
        where = f"{field} value" if field else "keyword"
        raise SigmaFeatureNotSupportedByBackendError(
            f"{where} {str(value)!r}: {reason}; change the value or set "
            "skip_targets: {splunk: <reason>}"
        )


def _negated(node: Any) -> bool:
    """Whether an odd number of NOTs is above the condition."""
    count = 0
    parent = node.parent
    while parent is not None:
        count += isinstance(parent, ConditionNOT)
        parent = getattr(parent, "parent", None)
    return count % 2 == 1


class DacSplunkBackend(DacCorrelationBackend, SplunkBackend):
    name: ClassVar[str] = "dac-t1585 Splunk backend"
    target_label: ClassVar[str] = "Splunk"

    @staticmethod
    def _exact_field(name: str | None, state: ConversionState) -> Field | None:
        if name is None:
            return None
        source = state_source(state.processing_state)
        for field in source.fields:
            if field.splunk_exact and field.splunk_result == name:
                return field
        return None

    def convert_condition_field_eq_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        converted = super().convert_condition_field_eq_val(cond, state)
        field = self._exact_field(cond.field, state)
        if field is None or not isinstance(converted, str) or converted.startswith("__dac_"):
            return converted  # a plain field, or a disposable-domain or lookup test
        processing_state = cast(dict[str, Any], state.processing_state)
        marks: list[tuple[Field, str, bool]] = processing_state.setdefault(_EXACT_MARKS, [])
        marks.append((field, converted, _negated(cond)))
        return f"__dac_exact_{len(marks) - 1}__"

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        _refuse(cond.field, cond.value)
        return super().convert_condition_field_eq_val_str(cond, state)

    def convert_condition_val_str(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> Any:
        _refuse(None, cond.value)
        return super().convert_condition_val_str(cond, state)

    def decide_convert_condition_as_in_expression(
        self, cond: ConditionOR | ConditionAND, state: ConversionState
    ) -> bool:
        # Each value of an exact field goes through its own mark (above).
        fields = {getattr(arg, "field", None) for arg in cond.args}
        if any(self._exact_field(f, state) for f in fields):
            return False
        return bool(super().decide_convert_condition_as_in_expression(cond, state))

    def disposable_test(
        self, sigma_field: str, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        if under_not(cond):
            # The search prefilters on "field is present"; under NOT that would drop matches.
            raise SigmaFeatureNotSupportedByBackendError(
                "Splunk: a disposable-domain test under 'not' is not supported; "
                "write the rule without negating it"
            )
        # The state is a plain dict per condition; pySigma types it read-only.
        processing_state = cast(dict[str, Any], state.processing_state)
        marks: list[str] = processing_state.setdefault(_MARKS, [])
        marks.append(sigma_field)
        return _token(len(marks) - 1)

    def lookup_test(
        self,
        list_name: str,
        sigma_field: str,
        cond: ConditionFieldEqualsValueExpression,
        state: ConversionState,
    ) -> str:
        if under_not(cond):
            raise SigmaFeatureNotSupportedByBackendError(
                f"Splunk: a '%{list_name}%' test under 'not' is not supported"
            )
        processing_state = cast(dict[str, Any], state.processing_state)
        marks: list[tuple[str, str]] = processing_state.setdefault(_LOOKUP_MARKS, [])
        marks.append((list_name, sigma_field))
        return f"__dac_lookup_{len(marks) - 1}__"

    def finish_query(self, rule: Any, query: Any, state: ConversionState) -> Any:
        query = super().finish_query(rule, query, state)
        if not isinstance(rule, SigmaRule) or not isinstance(query, str):
            return query
        source = state_source(state.processing_state)
        marks: list[str] = state.processing_state.get(_MARKS, [])
        exact_marks: list[tuple[Field, str, bool]] = state.processing_state.get(_EXACT_MARKS, [])
        # pySigma appends what a search expression cannot say (|re, field references) as
        # stages after it: they belong after the scoped search and the evaluations.
        query, _, deferred = query.partition("\n| ")
        prefilter = postfilter = query
        for index, (field, condition, negated) in enumerate(exact_marks):
            # The index search asks only that the field be there (the add-ons keep event
            # parameters as lists of names and values, a parameter's value not always among
            # the values); the search after the evaluation applies the condition itself.
            superset = _NEVER if negated else field.splunk_present
            prefilter = prefilter.replace(f"__dac_exact_{index}__", superset)
            postfilter = postfilter.replace(f"__dac_exact_{index}__", condition)
        lookups: list[str] = []
        listed: list[tuple[str, str]] = state.processing_state.get(_LOOKUP_MARKS, [])
        for index, (list_name, sigma_field) in enumerate(listed):
            field = source_field(source, sigma_field)
            token = f"__dac_lookup_{index}__"
            prefilter = prefilter.replace(token, field.splunk_present)
            first = lookup_output(list_name, sigma_field, THREAT_INTEL_COLUMNS[0])
            postfilter = postfilter.replace(token, f"{first}=*")
            if (list_name, sigma_field) in listed[:index]:
                continue
            outputs = ",".join(
                lookup_output(list_name, sigma_field, c) for c in THREAT_INTEL_COLUMNS
            )
            # The threat-intelligence match is a macro: the package's CIDR lookup by default,
            # Enterprise Security's ip_intel where ES is installed (converters.targets.splunk).
            lookups.append(f"| `{THREAT_INTEL_MACRO}({field.splunk_result},{outputs})`")
        for index, sigma_field in enumerate(marks):
            field = source_field(source, sigma_field)
            prefilter = prefilter.replace(_token(index), field.splunk_present)
            postfilter = postfilter.replace(_token(index), f"{disposable_output(sigma_field)}=*")
            if sigma_field in marks[:index]:
                continue  # the same field tested again: its lookup already ran
            # The field's exact value is evaluated above (splunk_result).
            lookups += [
                f"| eval dac_address_{index}='{field.splunk_result}'",
                f'| rex field=dac_address_{index} max_match=0 "{_named_domain_pattern(index)}"',
                f"| lookup {DISPOSABLE_LOOKUP} domain AS dac_domain_{index} "
                f"OUTPUT disposable_domain AS {disposable_output(sigma_field)}",
            ]
        lines = [f"`{source.splunk_macro}` ({prefilter})"]
        if source.splunk_prelude:
            lines.append(source.splunk_prelude)
        # Event parameters are lists in the add-ons, an address may carry a port: give the
        # lookups, the search, the alert's tokens and its analyst each field's exact value.
        values = [f"{f.splunk_result}={f.splunk_exact}" for f in source.fields if f.splunk_exact]
        if values:
            lines.append("| eval " + ", ".join(values))
        lines += lookups
        if marks or exact_marks or listed:
            lines.append(f"| search ({postfilter})")
        if deferred:
            lines.append("| " + deferred)
        lines.append(f"| `{filter_macro(str(rule.name))}`")
        return "\n".join(lines)

    def finalize_query_default(
        self, rule: Any, query: str, index: int, state: ConversionState
    ) -> str:
        # pySigma appends "| table <fields>", which would drop the fields the notable's tokens
        # and drilldowns use; the full event stays.
        return query

    def correlation_query(self, rule: SigmaCorrelationRule, corr: Correlation) -> str:
        return correlation_spl(corr, filter_macro(str(rule.name)))
