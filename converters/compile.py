"""Stage 3: rules -> queries, per target, through the target's pipeline and backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sigma.collection import SigmaCollection
from sigma.conversion.base import TextQueryBackend
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError

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
        return 1 + max(depth(ruleset._ref(ref)) for ref in refs)

    return sorted(ruleset.docs, key=lambda d: (depth(d), str(d.path), d.name))


def compile_target(ruleset: RuleSet, target: str) -> Queries:
    """Compile every rule for ``target``; raise DacError naming each rule that fails."""
    problems: list[Problem] = []
    result: dict[str, str] = {}
    # Rules referenced by a correlation come out of pySigma unfinished, so single-event rules
    # are compiled from a collection of their own, and correlations from the full one.
    standalone = RuleSet(ruleset.root, tuple(d for d in ruleset.docs if not d.is_correlation))
    for docs, collection in (
        ([d for d in standalone.docs], standalone.fresh_collection()),
        ([d for d in dependency_order(ruleset) if d.is_correlation], ruleset.fresh_collection()),
    ):
        if not docs:
            continue
        backend = _BACKENDS[target](pipeline_for(target))
        by_id = {str(rule.id): rule for rule in collection}
        wanted = {doc.id for doc in docs}
        for doc in dependency_order(RuleSet(ruleset.root, tuple(docs_in(collection, ruleset)))):
            rule = by_id[doc.id]
            try:
                if isinstance(rule, SigmaCorrelationRule):
                    queries = backend.convert_correlation_rule(rule)
                else:
                    queries = backend.convert_rule(rule)
            except SigmaError as exc:
                if doc.id in wanted:
                    problems.append(_problem(doc, target, exc))
                continue
            if doc.id not in wanted:
                continue
            if len(queries) != 1 or not isinstance(queries[0], str):
                problems.append(
                    Problem(doc.path, f"{target}: expected one query, got {len(queries)}", rule=doc.id)
                )
                continue
            result[doc.id] = queries[0]
    if problems:
        raise DacError(problems)
    return Queries(target, result)


def docs_in(collection: SigmaCollection, ruleset: RuleSet) -> list[RuleDoc]:
    return [ruleset.by_id(str(rule.id)) for rule in collection]


def _problem(doc: RuleDoc, target: str, exc: SigmaError) -> Problem:
    reason = str(exc.args[0]) if exc.args else type(exc).__name__
    line = doc.line("detection") or doc.line("correlation")
    return Problem(doc.path, f"{target}: {reason}", rule=doc.id, line=line)
