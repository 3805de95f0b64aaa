"""Stage 3: rules -> queries, per target, through the target's pipeline and backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sigma.conversion.base import TextQueryBackend
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from converters.backends.eql import DacEqlBackend
from converters.backends.splunk import DacSplunkBackend
from converters.backends.sqlite import DacSqliteBackend
from converters.errors import DacError, Problem
from converters.loading.rules import RuleDoc, RuleSet
from converters.pipelines import pipeline_for

_BACKENDS: dict[str, Callable[..., TextQueryBackend]] = {
    "splunk": DacSplunkBackend,
    "elastic": DacEqlBackend,
    "sqlite": DacSqliteBackend,
}
TARGET_LANGUAGE = {"splunk": "SPL", "elastic": "EQL", "sqlite": "SQL"}


@dataclass(frozen=True)
class Queries:
    """Each rule's query, by rule id, for one target."""

    target: str
    by_rule: dict[str, str]


def dependency_order(ruleset: RuleSet) -> list[RuleDoc]:
    """Referenced rules before the correlations that use them."""

    def depth(doc: RuleDoc) -> int:
        if not doc.is_correlation:
            return 0
        refs = doc.document["correlation"]["rules"]
        return 1 + max(depth(ruleset.ref(ref)) for ref in refs)

    return sorted(ruleset.docs, key=lambda d: (depth(d), str(d.path), d.name))


def compile_target(ruleset: RuleSet, target: str) -> Queries:
    """Compile every rule for ``target``; raise DacError naming each rule that fails."""
    problems: list[Problem] = []
    # Rules referenced by a correlation come out of pySigma unfinished, so single-event rules
    # are compiled from a collection of their own, and correlations from the full one.
    events = RuleSet(ruleset.root, tuple(d for d in ruleset.docs if not d.is_correlation))
    result = _convert(events, {d.id for d in events.docs}, target, problems)
    correlations = {d.id for d in ruleset.docs if d.is_correlation}
    if correlations:
        result.update(_convert(ruleset, correlations, target, problems))
    if problems:
        raise DacError(problems)
    return Queries(target, result)


def _convert(
    ruleset: RuleSet, wanted: set[str], target: str, problems: list[Problem]
) -> dict[str, str]:
    backend = _BACKENDS[target](pipeline_for(target))
    by_id = {str(rule.id): rule for rule in ruleset.fresh_collection()}
    result: dict[str, str] = {}
    for doc in dependency_order(ruleset):
        rule = by_id[doc.id]
        try:
            if isinstance(rule, SigmaCorrelationRule):
                queries = backend.convert_correlation_rule(rule)
            else:
                queries = backend.convert_rule(cast(SigmaRule, rule))
        except SigmaError as exc:
            if doc.id in wanted:
                problems.append(_problem(doc, target, exc))
            continue
        if doc.id not in wanted:
            continue
        if len(queries) != 1 or not isinstance(queries[0], str):
            reason = f"{target}: expected one query, got {len(queries)}"
            problems.append(Problem(doc.path, reason, rule=doc.id))
            continue
        result[doc.id] = queries[0]
    return result


def _problem(doc: RuleDoc, target: str, exc: SigmaError) -> Problem:
    reason = str(exc.args[0]) if exc.args else type(exc).__name__
    line = doc.line("detection") or doc.line("correlation")
    return Problem(doc.path, f"{target}: {reason}", rule=doc.id, line=line)
