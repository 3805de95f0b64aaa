"""Correlations in SPL with Sigma's meaning: a sliding window of ``timespan`` per group.

pySigma's Splunk backend buckets time (``bin _time span=``), so a burst across a bucket edge
is missed. Here every event of a group anchors a window ending at it (``streamstats
time_window`` over events sorted by time), as the SQLite reference engine does. Group values
are lower-cased: the sources' identities (email addresses) are case-insensitive.
"""

from __future__ import annotations

from sigma.correlations import SigmaCorrelationType
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError

from converters.backends.correlation import Branch, Correlation

RULE_FIELD = "dac_rule"
VALUE_FIELD = "dac_value"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field(name: str) -> str:
    """A field reference inside eval/where: single quotes allow dots and braces."""
    return "'" + name.replace("'", "\\'") + "'"


def group_columns(corr: Correlation) -> list[str]:
    return [f"dac_g{i}" for i in range(len(corr.group_names))]


def _branch_evals(corr: Correlation, index: int, branch: Branch) -> list[str]:
    evals = [f"{RULE_FIELD}={_quote(branch.name)}"]
    for column, field in zip(group_columns(corr), branch.group_fields, strict=True):
        evals.append(f"{column}=lower({_field(field)})")
    if corr.value_field is not None:
        evals.append(f"{VALUE_FIELD}={_field(corr.value_field[index])}")
    return evals


def _events(corr: Correlation) -> list[str]:
    """The referenced rules' events, tagged with their rule and normalised group keys."""
    if len(corr.branches) == 1:
        branch = corr.branches[0]
        return [branch.query, "| eval " + ", ".join(_branch_evals(corr, 0, branch))]
    parts = ["| union"]
    for index, branch in enumerate(corr.branches):
        evals = ", ".join(_branch_evals(corr, index, branch))
        # No indentation: .conf continuation lines may not start with blanks.
        parts.append(f"[search {branch.query} | eval {evals}]")
    return parts


def _ordered(corr: Correlation, by: str, span: int) -> list[str]:
    """temporal_ordered: at each event of rule k, the latest possible start of a chain
    rule 1 < rule 2 < ... < rule k that ends here; it fires when that start lies in the window.
    Taking the latest start at every step is what keeps the chain inside the window."""
    lines: list[str] = []
    previous: str | None = None
    for step, branch in enumerate(corr.branches):
        chain = f"dac_chain_{step}"
        is_rule = f"{RULE_FIELD}={_quote(branch.name)}"
        if previous is None:
            lines.append(f"| eval {chain}=if({is_rule}, _time, null())")
        else:
            lines.append(f"| eval {chain}=if({is_rule} AND {previous} < _time, {previous}, null())")
        if step < len(corr.branches) - 1:
            best = f"dac_best_{step}"
            # current=f: the event itself is not its own predecessor.
            lines.append(f"| streamstats time_window={span}s current=f max({chain}) as {best}{by}")
            previous = best
    last = f"dac_chain_{len(corr.branches) - 1}"
    lines.append(f"| where isnotnull({last}) AND {last} >= _time - {span}")
    lines.append(f"| eval rule_count={len(corr.branches)}")
    return lines


def correlation_spl(corr: Correlation, filter_macro: str) -> str:
    span = corr.timespan_seconds
    columns = group_columns(corr)
    by = (" by " + " ".join(columns)) if columns else ""
    lines = _events(corr)
    if columns:
        # Events without a group value cannot belong to a group (as in the reference engine).
        lines.append("| where " + " AND ".join(f"isnotnull({c})" for c in columns))
    lines.append("| sort 0 _time")
    kind = corr.kind
    if corr.operator in ("<", "<="):
        # streamstats counts up from each group's first event: a running count is under any
        # limit there, so "fewer than N" would fire for almost every group.
        raise SigmaFeatureNotSupportedByBackendError(
            f"Splunk cannot express the correlation condition '{corr.operator} {corr.count}': "
            "a running count is below the limit at each group's first event, so the search "
            "would fire for almost every group; only a minimum (gte, gt) or eq is supported"
        )
    if kind == SigmaCorrelationType.EVENT_COUNT:
        metric = "event_count"
        lines.append(f"| streamstats time_window={span}s count as {metric}{by}")
    elif kind == SigmaCorrelationType.VALUE_COUNT:
        metric = "value_count"
        lines.append(f"| streamstats time_window={span}s dc({VALUE_FIELD}) as {metric}{by}")
    elif kind == SigmaCorrelationType.TEMPORAL:
        metric = "rule_count"
        lines.append(f"| streamstats time_window={span}s dc({RULE_FIELD}) as {metric}{by}")
    elif kind == SigmaCorrelationType.TEMPORAL_ORDERED:
        if corr.operator not in (">=", ">") or _minimum(corr) != len(corr.branches):
            raise SigmaFeatureNotSupportedByBackendError(
                "Splunk: temporal_ordered needs all referenced rules in order "
                f"(gte {len(corr.branches)})"
            )
        metric = "rule_count"
        lines += _ordered(corr, by, span)
    else:
        raise SigmaFeatureNotSupportedByBackendError(
            f"Splunk: correlation type {kind.name.lower()} is not supported"
        )
    operator = "=" if corr.operator == "==" else corr.operator
    if kind != SigmaCorrelationType.TEMPORAL_ORDERED:
        lines.append(f"| where {metric} {operator} {corr.count}")
    lines.append(f"| eval window_end=_time, window_start=_time - {span}")
    if columns:
        # The alert's group under the names the correlation uses (aliases included).
        pairs = zip(columns, corr.group_names, strict=True)
        lines.append("| rename " + ", ".join(f"{c} AS {_quote(n)}" for c, n in pairs))
    lines.append(f"| `{filter_macro}`")
    return "\n".join(lines)


def _minimum(corr: Correlation) -> int:
    return corr.count + 1 if corr.operator == ">" else corr.count
