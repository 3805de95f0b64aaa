"""Stage 3: rules -> queries, per target, through the target's pipeline and backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sigma.conversion.base import TextQueryBackend
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from converters.backends.absence import absence_of, esql_condition
from converters.backends.absence import esql_query as absence_esql
from converters.backends.absence import splunk_query as absence_spl
from converters.backends.absence import sqlite_query as absence_sql
from converters.backends.eql import DacEqlBackend, NeedsEsql
from converters.backends.esql import DacEsqlBackend
from converters.backends.lucene import DacLuceneBackend
from converters.backends.new_terms import new_terms_of, unknown_fields
from converters.backends.new_terms import splunk_query as new_terms_spl
from converters.backends.new_terms import sqlite_query as new_terms_sql
from converters.backends.splunk import DacSplunkBackend
from converters.backends.sqlite import DacSqliteBackend
from converters.emptylists import apply_empty_lists
from converters.errors import DacError, Problem
from converters.loading.rules import RuleDoc, RuleSet
from converters.pipelines import pipeline_for
from converters.pipelines.build import expanded_lists
from converters.valuelists import ValueList, load_value_lists

_Backend = Callable[..., TextQueryBackend]
# Per target: the main backend and its language, then the fallback for rules it cannot mean.
_BACKENDS: dict[str, tuple[tuple[_Backend, str], ...]] = {
    "splunk": ((DacSplunkBackend, "spl"),),
    "elastic": ((DacEqlBackend, "eql"), (DacEsqlBackend, "esql")),
    "sqlite": ((DacSqliteBackend, "sql"),),
}
SKIP_KEY = "skip_targets"


@dataclass(frozen=True)
class Queries:
    """Each rule's query and language, by rule id, for one target; and the rules that opted
    out of the target, with their reason."""

    target: str
    by_rule: dict[str, str]
    languages: dict[str, str]
    skipped: dict[str, str] = field(default_factory=dict)


def _skip_readers(ruleset: RuleSet, skipped: dict[str, str]) -> None:
    """A correlation that reads a rule the target skips is skipped too, saying which."""
    for doc in dependency_order(ruleset):
        if doc.id in skipped or not doc.is_correlation:
            continue
        for ref in doc.document["correlation"]["rules"]:
            inner = ruleset.ref(ref)
            if inner.id in skipped:
                skipped[doc.id] = f"it reads {inner.name}, which this target skips"
                break


def _reads_indicators(doc: RuleDoc) -> bool:
    """A rule whose condition tests the threat-intelligence list (Kibana: indicator match)."""
    return not doc.is_correlation and "%threat_intel_ips%" in str(doc.document.get("detection"))


def _indicator_match(
    ruleset: RuleSet,
    wanted: set[str],
    lists: dict[str, ValueList],
    result: dict[str, str],
    languages: dict[str, str],
    problems: list[Problem],
) -> None:
    """Kibana indicator-match rules: the query (Lucene) selects the rule's events whose
    address field holds a value; the rule joins it with the threat-intelligence indices."""
    if not wanted:
        return
    events = RuleSet(
        ruleset.root, tuple(d for d in ruleset.docs if d.id in wanted), ruleset.filters
    )
    backend = DacLuceneBackend(pipeline_for("elastic", lists, indicators=True))
    lucene, _ = _convert(events, wanted, "elastic", backend, problems)
    result.update(lucene)
    languages.update(dict.fromkeys(lucene, "lucene"))


def dependency_order(ruleset: RuleSet) -> list[RuleDoc]:
    """Referenced rules before the correlations that use them."""

    def depth(doc: RuleDoc) -> int:
        if not doc.is_correlation:
            return 0
        refs = doc.document["correlation"]["rules"]
        return 1 + max(depth(ruleset.ref(ref)) for ref in refs)

    return sorted(ruleset.docs, key=lambda d: (depth(d), str(d.path), d.name))


def skipped_targets(doc: RuleDoc) -> dict[str, str]:
    value = doc.document.get(SKIP_KEY) or {}
    return {str(k): str(v) for k, v in value.items()}


def compile_target(
    ruleset: RuleSet, target: str, lists: dict[str, ValueList] | None = None
) -> Queries:
    """Compile every rule for ``target``; raise DacError naming each rule that fails. The
    value lists default to those of the repository holding the rules folder."""
    if lists is None:
        lists = load_value_lists(ruleset.root.parent)
    skipped = {d.id: r for d in ruleset.docs if (r := skipped_targets(d).get(target))}
    # An empty list emits nothing: the filters it voids are left out, the rules skipped.
    ruleset, voided, problems = apply_empty_lists(
        ruleset, lists, expanded_lists(target, frozenset(lists))
    )
    for rule_id, reason in voided.items():
        skipped.setdefault(rule_id, reason)
    _skip_readers(ruleset, skipped)
    wanted = {d.id for d in ruleset.docs} - set(skipped)
    indicator = {d.id for d in ruleset.docs if target == "elastic" and _reads_indicators(d)}
    wanted -= indicator
    result: dict[str, str] = {}
    languages: dict[str, str] = {}
    _indicator_match(ruleset, indicator, lists, result, languages, problems)
    for backend, language in _BACKENDS[target]:
        converted, retry = _compile_with(ruleset, wanted, target, backend, lists, problems)
        result.update(converted)
        languages.update(dict.fromkeys(converted, language))
        wanted = retry
        if not wanted:
            break
    _new_terms(ruleset, target, lists, result, languages, problems)
    _absence(ruleset, target, lists, result, languages, problems)
    for rule_id in sorted(wanted):  # no backend of the target could mean them
        doc = ruleset.by_id(rule_id)
        problems.append(
            Problem(doc.path, f"{target}: no construct expresses this correlation", rule=doc.id)
        )
    if problems:
        raise DacError(problems)
    return Queries(target, result, languages, skipped)


def _new_terms(
    ruleset: RuleSet,
    target: str,
    lists: dict[str, ValueList],
    result: dict[str, str],
    languages: dict[str, str],
    problems: list[Problem],
) -> None:
    """Turn each new-terms rule's event query into its target's new-terms form."""
    docs = [d for d in ruleset.docs if d.new_terms and d.id in result]
    if not docs:
        return
    lucene: dict[str, str] = {}
    if target == "elastic":
        events = RuleSet(ruleset.root, tuple(docs), ruleset.filters)
        lucene, _ = _convert(
            events, {d.id for d in docs}, target, DacLuceneBackend(pipeline_for(target, lists)),
            problems,
        )  # fmt: skip
    for doc in docs:
        terms = new_terms_of(doc.document)
        source = ruleset.sources_of(doc)[0]
        if terms is None:
            continue
        missing = unknown_fields(terms, source)
        if missing:
            reason = f"new_terms field(s) {', '.join(missing)} not known for {source.name}"
            problems.append(Problem(doc.path, reason, rule=doc.id, line=doc.line("new_terms")))
            continue
        if target == "sqlite":
            result[doc.id] = new_terms_sql(result[doc.id], terms)
        elif target == "splunk":
            result[doc.id] = new_terms_spl(result[doc.id], terms, source)
        elif doc.id in lucene:
            result[doc.id] = lucene[doc.id]
            languages[doc.id] = "lucene"


def _absence(
    ruleset: RuleSet,
    target: str,
    lists: dict[str, ValueList],
    result: dict[str, str],
    languages: dict[str, str],
    problems: list[Problem],
) -> None:
    """Turn each absence rule's event query into its target's absence form, with the query
    of the follow-up rule it waits for."""
    docs = [d for d in ruleset.docs if d.absence and d.id in result]
    if not docs:
        return
    pairs = [(d, ruleset.ref(str(d.absence["rule"]))) for d in docs if d.absence]
    queries = result
    if target == "elastic":  # EQL has no absence: both rules' conditions go into ES|QL
        wanted = {d.id for pair in pairs for d in pair}
        events = RuleSet(
            ruleset.root, tuple(d for d in ruleset.docs if d.id in wanted), ruleset.filters
        )
        queries, _ = _convert(
            events, wanted, target, DacEsqlBackend(pipeline_for(target, lists)), problems
        )
    for doc, followup in pairs:
        absence = absence_of(doc.document)
        if absence is None or doc.id not in queries or followup.id not in queries:
            continue
        source = ruleset.sources_of(doc)[0]
        followup_source = ruleset.sources_of(followup)[0]
        missing = [
            f"{name} ({src.name})"
            for name, src in ((absence.field, source), (absence.followup_field, followup_source))
            if src.field(name) is None
        ]
        if missing:
            reason = f"absence match field(s) not known: {', '.join(missing)}"
            problems.append(Problem(doc.path, reason, rule=doc.id, line=doc.line("absence")))
            continue
        base, later = queries[doc.id], queries[followup.id]
        # Decided once a follow-up delivered late could have arrived (converters.timing).
        lag = max(source.delivery_lag_minutes, followup_source.delivery_lag_minutes)
        if target == "sqlite":
            result[doc.id] = absence_sql(base, later, absence)
        elif target == "splunk":
            result[doc.id] = absence_spl(base, later, absence, source, followup_source, lag)
        else:
            result[doc.id] = absence_esql(
                esql_condition(base), esql_condition(later), absence, source, followup_source, lag
            )
            languages[doc.id] = "esql"


def _compile_with(
    ruleset: RuleSet,
    wanted: set[str],
    target: str,
    backend: _Backend,
    lists: dict[str, ValueList],
    problems: list[Problem],
) -> tuple[dict[str, str], set[str]]:
    # Rules referenced by a correlation come out of pySigma unfinished, so single-event rules
    # are compiled from a collection of their own, and correlations from the full one.
    events = RuleSet(
        ruleset.root, tuple(d for d in ruleset.docs if not d.is_correlation), ruleset.filters
    )
    pipeline = pipeline_for(target, lists)
    result, retry = _convert(events, wanted, target, backend(pipeline), problems)
    correlations = {d.id for d in ruleset.docs if d.is_correlation} & wanted
    if correlations:
        pipeline = pipeline_for(target, lists)
        more, more_retry = _convert(ruleset, correlations, target, backend(pipeline), problems)
        result.update(more)
        retry |= more_retry
    return result, retry


def _convert(
    ruleset: RuleSet,
    wanted: set[str],
    target: str,
    backend: TextQueryBackend,
    problems: list[Problem],
) -> tuple[dict[str, str], set[str]]:
    by_id = {str(rule.id): rule for rule in ruleset.fresh_collection()}
    result: dict[str, str] = {}
    retry: set[str] = set()
    for doc in dependency_order(ruleset):
        rule = by_id[doc.id]
        try:
            if isinstance(rule, SigmaCorrelationRule):
                queries = backend.convert_correlation_rule(rule)
            else:
                queries = backend.convert_rule(cast(SigmaRule, rule))
        except NeedsEsql:
            if doc.id in wanted:
                retry.add(doc.id)
            continue
        except SigmaError as exc:
            if doc.id in wanted:
                problems.append(_problem(doc, target, exc))
            continue
        if doc.id not in wanted:
            continue
        if not queries:  # a correlation that another one reads keeps its query on the rule
            queries = rule.get_conversion_result()
        if len(queries) != 1 or not isinstance(queries[0], str):
            reason = f"{target}: expected one query, got {len(queries)}"
            problems.append(Problem(doc.path, reason, rule=doc.id))
            continue
        result[doc.id] = queries[0]
    return result, retry


def _problem(doc: RuleDoc, target: str, exc: SigmaError) -> Problem:
    reason = str(exc.args[0]) if exc.args else type(exc).__name__
    line = doc.line("detection") or doc.line("correlation")
    return Problem(doc.path, f"{target}: {reason}", rule=doc.id, line=line)
