"""Correlations in SPL with Sigma's meaning: a sliding window of ``timespan`` per group.

pySigma's Splunk backend buckets time (``bin _time span=``), so a burst across a bucket edge
is missed. Here every event of a group anchors a window ending at it (``streamstats
time_window`` over events sorted by time), as the SQLite reference engine does. Group values
are lower-cased: the sources' identities (email addresses) are case-insensitive.

One pass, no subsearch: rules read together run side by side (``multisearch``, which has
no result cap, where a ``union`` of searches would stop at 50,000 results without a word), and
a correlation of correlations computes its inner windows in the same stream. Each window
also carries the newest index time of its records (``dac_newest``): a run keeps the windows
due in its slot, so a burst completed by a late record alerts when that record is indexed
(converters.timing).
"""

from __future__ import annotations

from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError

from converters.backends.correlation import Branch, Correlation, describe
from converters.timing import slot_condition

RULE_FIELD = "dac_rule"
VALUE_FIELD = "dac_value"
INDEXED = "dac_indexed"
NEWEST = "dac_newest"
OUTER = "dac_outer"
FRESH = "dac_fresh"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field(name: str) -> str:
    """A field reference inside eval/where: single quotes allow dots and braces."""
    return "'" + name.replace("'", "\\'") + "'"


def group_columns(corr: Correlation) -> list[str]:
    return [f"dac_g{i}" for i in range(len(corr.group_names))]


def _leaf_evals(
    columns: list[str], rule: str, group_fields: tuple[str, ...], value: str | None
) -> str:
    evals = [f"{RULE_FIELD}={_quote(rule)}"]
    evals += [f"{c}=lower({_field(f)})" for c, f in zip(columns, group_fields, strict=True)]
    if value is not None:
        evals.append(f"{VALUE_FIELD}={_field(value)}")
    evals.append(f"{INDEXED}=_indextime")
    return "| eval " + ", ".join(evals)


def _streaming(branch: Branch, query: str) -> str:
    if "eventstats" in query or query.startswith("| multisearch"):
        raise SigmaFeatureNotSupportedByBackendError(
            f"Splunk: rule {branch.name!r} (new terms or absence) is no streaming search, so a "
            "correlation cannot read it in one pass"
        )
    return query


def _events(
    columns: list[str], leaves: list[tuple[Branch, tuple[str, ...], str | None]]
) -> list[str]:
    """The leaf rules' events, tagged with their rule, group keys and index time; several
    rules side by side in one multisearch."""
    if len(leaves) == 1:
        branch, fields, value = leaves[0]
        return [_streaming(branch, branch.query), _leaf_evals(columns, branch.name, fields, value)]
    parts = ["| multisearch"]
    for branch, fields, value in leaves:
        # No indentation: .conf continuation lines may not start with blanks.
        evals = _leaf_evals(columns, branch.name, fields, value)
        parts.append(f"[search {_streaming(branch, branch.query)} {evals}]")
    return parts


def _window(span: int, aggregate: str, output: str, by: str) -> str:
    return f"| streamstats time_window={span}s {aggregate} as {output}{by}"


def _ordered(rule_field: str, names: list[str], by: str, span: int) -> list[str]:
    """temporal_ordered: at each event of rule k, the latest possible start of a chain
    rule 1 < rule 2 < ... < rule k that ends here; it fires when that start lies in the window.
    Taking the latest start at every step is what keeps the chain inside the window."""
    lines: list[str] = []
    previous: str | None = None
    for step, name in enumerate(names):
        chain = f"dac_chain_{step}"
        is_rule = f"{rule_field}={_quote(name)}"
        if previous is None:
            lines.append(f"| eval {chain}=if({is_rule}, _time, null())")
        else:
            lines.append(f"| eval {chain}=if({is_rule} AND {previous} < _time, {previous}, null())")
        if step < len(names) - 1:
            best = f"dac_best_{step}"
            # current=f: the event itself is not its own predecessor.
            lines.append(f"| streamstats time_window={span}s current=f max({chain}) as {best}{by}")
            previous = best
    last = f"dac_chain_{len(names) - 1}"
    lines.append(f"| where isnotnull({last}) AND {last} >= _time - {span}")
    lines.append(f"| eval rule_count={len(names)}")
    return lines


def _minimum(corr: Correlation) -> int:
    return corr.count + 1 if corr.operator == ">" else corr.count


def _refuse_maximum(corr: Correlation) -> None:
    if corr.operator in ("<", "<="):
        # streamstats counts up from each group's first event: a running count is under any
        # limit there, so "fewer than N" would fire for almost every group.
        raise SigmaFeatureNotSupportedByBackendError(
            f"Splunk cannot express the correlation condition '{corr.operator} {corr.count}': "
            "a running count is below the limit at each group's first event, so the search "
            "would fire for almost every group; only a minimum (gte, gt) or eq is supported"
        )


def _metric(corr: Correlation, rule_field: str, span: int, by: str) -> tuple[list[str], str]:
    kind = corr.kind
    if kind == SigmaCorrelationType.EVENT_COUNT:
        return [_window(span, "count", "event_count", by)], "event_count"
    if kind == SigmaCorrelationType.VALUE_COUNT:
        return [_window(span, f"dc({VALUE_FIELD})", "value_count", by)], "value_count"
    if kind == SigmaCorrelationType.TEMPORAL:
        return [_window(span, f"dc({rule_field})", "rule_count", by)], "rule_count"
    if kind == SigmaCorrelationType.TEMPORAL_ORDERED:
        if corr.operator not in (">=", ">") or _minimum(corr) != len(corr.branches):
            raise SigmaFeatureNotSupportedByBackendError(
                "Splunk: temporal_ordered needs all referenced rules in order "
                f"(gte {len(corr.branches)})"
            )
        return _ordered(rule_field, [b.name for b in corr.branches], by, span), "rule_count"
    raise SigmaFeatureNotSupportedByBackendError(
        f"Splunk: correlation type {kind.name.lower()} is not supported"
    )


def correlation_spl(corr: Correlation, filter_macro: str) -> str:
    _refuse_maximum(corr)
    span = corr.timespan_seconds
    columns = group_columns(corr)
    by = (" by " + " ".join(columns)) if columns else ""
    inner = [b for b in corr.branches if isinstance(b.rule, SigmaCorrelationRule)]
    if inner:
        lines, metric = _nested(corr, columns, by)
    else:
        values = corr.value_field or (None,) * len(corr.branches)
        leaves = [(b, b.group_fields, v) for b, v in zip(corr.branches, values, strict=True)]
        lines = _events(columns, leaves)
        lines += _prepare(columns)
        lines.append(_window(span, f"max({INDEXED})", NEWEST, by))
        metric_lines, metric = _metric(corr, RULE_FIELD, span, by)
        lines += metric_lines
    if corr.kind != SigmaCorrelationType.TEMPORAL_ORDERED:
        operator = "=" if corr.operator == "==" else corr.operator
        lines.append(f"| where {metric} {operator} {corr.count}")
    lines.append(slot_condition(NEWEST))
    lines.append(f"| eval window_end=_time, window_start=_time - {span}")
    if columns:
        # The alert's group under the names the correlation uses (aliases included).
        pairs = zip(columns, corr.group_names, strict=True)
        lines.append("| rename " + ", ".join(f"{c} AS {_quote(n)}" for c, n in pairs))
    lines.append(f"| `{filter_macro}`")
    return "\n".join(lines)


def _prepare(columns: list[str]) -> list[str]:
    lines = []
    if columns:
        # Events without a group value cannot belong to a group (as in the reference engine).
        lines.append("| where " + " AND ".join(f"isnotnull({c})" for c in columns))
    lines.append("| sort 0 _time")
    return lines


def _nested(corr: Correlation, columns: list[str], by: str) -> tuple[list[str], str]:
    """A correlation of correlations in one pass: every leaf rule's events, each inner
    window computed over its own rule's rows, then the outer correlation over the rows where
    an inner window fires and the outer's own rules' rows."""
    if corr.kind not in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED):
        raise SigmaFeatureNotSupportedByBackendError(
            "Splunk: a correlation of correlations must be temporal or temporal_ordered"
        )
    leaves: list[tuple[Branch, tuple[str, ...], str | None]] = []
    windows: list[str] = []
    outer_cases: list[str] = []
    fresh_cases: list[str] = []
    for branch in corr.branches:
        if not isinstance(branch.rule, SigmaCorrelationRule):
            leaves.append((branch, branch.group_fields, None))
            is_rule = f"{RULE_FIELD}={_quote(branch.name)}"
            outer_cases.append(f"{is_rule}, {_quote(branch.name)}")
            fresh_cases.append(f"{is_rule}, {INDEXED}")
            continue
        inner = describe(branch.rule, "Splunk")
        leaf, fields, value = _inner_leaf(corr, branch, inner)
        leaves.append((leaf, fields, value))
        _refuse_maximum(inner)
        is_leaf = f"{RULE_FIELD}={_quote(leaf.name)}"
        metric_name = f"dac_m_{len(windows)}"
        newest_name = f"dac_n_{len(windows)}"
        span = inner.timespan_seconds
        if inner.kind == SigmaCorrelationType.EVENT_COUNT:
            aggregate = f"count(eval({is_leaf}))"
        else:
            aggregate = f"dc(eval(if({is_leaf}, {VALUE_FIELD}, null())))"
        windows.append(_window(span, aggregate, metric_name, by))
        windows.append(
            _window(span, f"max(eval(if({is_leaf}, {INDEXED}, null())))", newest_name, by)
        )
        operator = "=" if inner.operator == "==" else inner.operator
        fires = f"{is_leaf} AND {metric_name} {operator} {inner.count}"
        outer_cases.append(f"{fires}, {_quote(branch.name)}")
        fresh_cases.append(f"{fires}, {newest_name}")
    lines = _events(columns, leaves)
    lines += _prepare(columns)
    lines += windows
    lines.append(
        f"| eval {OUTER}=case({', '.join(outer_cases)}), {FRESH}=case({', '.join(fresh_cases)})"
    )
    lines.append(f"| where isnotnull({OUTER})")
    span = corr.timespan_seconds
    lines.append(_window(span, f"max({FRESH})", NEWEST, by))
    metric_lines, metric = _metric(corr, OUTER, span, by)
    return lines + metric_lines, metric


def _inner_leaf(
    corr: Correlation, branch: Branch, inner: Correlation
) -> tuple[Branch, tuple[str, ...], str | None]:
    """The one rule an inner correlation counts, with its group fields in the outer's order."""
    if len(inner.branches) != 1 or inner.kind not in (
        SigmaCorrelationType.EVENT_COUNT,
        SigmaCorrelationType.VALUE_COUNT,
    ):
        raise SigmaFeatureNotSupportedByBackendError(
            f"Splunk: inner correlation {inner.name!r} must count the events or values of one "
            "rule to be read in one pass"
        )
    if sorted(branch.group_fields) != sorted(inner.group_names):
        raise SigmaFeatureNotSupportedByBackendError(
            f"Splunk: inner correlation {inner.name!r} groups by {list(inner.group_names)}, "
            f"the outer reads it by {list(branch.group_fields)}: they must be the same"
        )
    leaf = inner.branches[0]
    fields = tuple(leaf.group_fields[inner.group_names.index(f)] for f in branch.group_fields)
    value = inner.value_field[0] if inner.value_field else None
    return leaf, fields, value
