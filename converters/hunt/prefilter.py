"""Which records the hunt loads: those that can satisfy a selected rule, nothing else.

A rule's detection usually pins a field to a few values (``event.name: CREATE_USER``,
``Operation: Set-Mailbox``). From pySigma's parsed condition we take such a necessary
condition ("the row matches only if ``field`` is one of these values") and load a record only
when one of its rows meets it; the rule's own SQL then decides as before. A record that no
rule's necessary condition admits cannot change any alert, so alerts are those of the full
table, at a fraction of the cost. Where no necessary condition can be read (a regex, a NOT,
a keyword), every record of the rule's data source is loaded. Correlations that look at
events outside their rules' matches (an observed-scope CTE for negated conditions) load
everything. The engine observes the newest and the oldest time read (BulkEngine.observe),
which windowed and history queries measure.

An absence rule (converters.backends.absence) reads its follow-up rule's events only where
they hold a value its own events hold ("a sign-in to a created account"). Where no other
selected rule reads them, the follow-up's records are held back as rows (a ``Join``) and
loaded at the end only when their value is one the rule's own source gave: most sign-ins
belong to accounts nobody created in the logs read, and never reach the table.

A rule whose events only event counts read (``gws_gmail_mail_sent``, read by the 50-messages-
an-hour bursts) is held back too (a ``Burst``): at the end, only the rows in a window whose
count reaches the threshold are loaded (converters.hunt.burstcount); most sent mail belongs
to no burst.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionOR,
)
from sigma.rule import SigmaRule
from sigma.types import SigmaString

from converters.backends.absence import absence_of
from converters.engine.access import cell_matcher, field_matcher, reads_records
from converters.engine.eventcount import EventCount, count_of
from converters.loading.rules import RuleDoc, RuleSet

# A clause: the row can match only if one of its fields holds one of its (lower-case) values.
Clause = dict[str, set[str]]
# A rule's necessary condition: every clause holds. None: nothing we can read.
Conjunction = list[Clause]
# Of a record (a mapping), or of a row's cells (a tuple) for a rowwise source.
Test = Callable[[Any], bool]
# The SQLite backend's name for a CTE of context events (extended correlation conditions).
_CONTEXT_CTE = "_context AS"


@dataclass(frozen=True)
class Join:
    """Rows needed only where their ``column`` holds a value (compared without case, as the
    absence query's ``IS`` on the NOCASE table does) that a row of ``key_source`` holds in
    ``key_column``; a NULL matches a NULL, as ``IS`` does."""

    column: str
    key_source: str
    key_column: str


@dataclass(frozen=True)
class Burst:
    """Rows needed only in a window where ``count`` reaches its threshold."""

    count: EventCount


Hold = Join | Burst


@dataclass(frozen=True)
class LoadPlan:
    """Per data source read by a selected rule: the necessary conditions of its rules (a
    record is loaded when one holds; None: load every record). ``everything``: load every
    record of every source. ``holds``: per data source, conditions whose records are held
    back for a ``Join`` or a ``Burst`` (none of ``sources``' conditions admitting them)."""

    sources: dict[str, list[Conjunction] | None]
    everything: bool = False
    holds: dict[str, list[tuple[Conjunction, Hold]]] = dataclasses.field(default_factory=dict)

    def rowwise(self) -> frozenset[str]:
        """The sources whose tests read their rows, not their records: those without a cheap
        reader of one field (converters.engine.access) whose records are not all loaded.
        Their rows are built, then each is loaded, held back or dropped."""
        if self.everything:
            return frozenset()
        names = {*self.sources, *self.holds}
        return frozenset(
            n for n in names if self.sources.get(n, []) is not None and not reads_records(n)
        )

    def tests(self, columns_of: Callable[[str], tuple[str, ...]]) -> dict[str, Test]:
        """Per data source, "may this record match?"; for a ``rowwise`` source, "may this
        row match?" of its cells (BulkEngine.cells) in the columns ``columns_of`` it."""
        return {
            name: _test(name, rules, self._cells(name, columns_of))
            for name, rules in self.sources.items()
        }

    def _cells(
        self, source: str, columns_of: Callable[[str], tuple[str, ...]]
    ) -> dict[str, int] | None:
        """A rowwise source's column positions by lower-case name (SQLite's are caseless)."""
        if source not in self.rowwise():
            return None
        return {c.lower(): n for n, c in enumerate(columns_of(source))}

    def hold_tests(
        self, columns_of: Callable[[str], tuple[str, ...]]
    ) -> dict[str, list[tuple[Test, Hold]]]:
        """Per data source, each held-back condition's test and its hold; none when every
        record is loaded."""
        if self.everything:
            return {}
        return {
            name: [(_test(name, [c], self._cells(name, columns_of)), hold) for c, hold in holds]
            for name, holds in self.holds.items()
            if self.sources.get(name, []) is not None
        }

    def filtered_fields(self) -> list[str]:
        fields: set[str] = set()
        for rules in self.sources.values():
            for conjunction in rules or []:
                for clause in conjunction:
                    fields.update(clause)
        return sorted(fields)


def plan_loading(ruleset: RuleSet, selected: list[RuleDoc], queries: Mapping[str, str]) -> LoadPlan:
    everything = any(_CONTEXT_CTE in queries[doc.id] for doc in selected)
    by_source: dict[str, list[Conjunction] | None] = {}
    holds: dict[str, list[tuple[Conjunction, Hold]]] = {}
    parsed = {str(rule.id): rule for rule in ruleset.fresh_collection()}
    counted = {} if everything else _counted_only(ruleset, selected, queries)
    bursts: set[str] = set()  # the base rules whose bursts are planned
    # Base rules some selected rule reads whole, not as an absence rule's follow-up.
    whole = {base.id for doc in selected for base in ruleset.base_rules_of(doc)[:1]}
    whole |= {b.id for doc in selected if not doc.absence for b in ruleset.base_rules_of(doc)}
    for doc in selected:
        sql = queries[doc.id].lower()
        for base in ruleset.base_rules_of(doc):
            found = None if everything else rule_necessary(cast(SigmaRule, parsed[base.id]))
            # Keep what the compiled query also says: a pipeline that renamed a field or
            # rewrote a value would make that clause wrong.
            kept = [c for c in found or [] if _in_query(sql, c)]
            # A base rule's own source comes first (an absence rule also lists its
            # follow-up rule's, whose records its condition must not filter).
            for source in ruleset.sources_of(base)[:1]:
                if base.id in counted and kept:
                    if base.id not in bursts:
                        bursts.add(base.id)
                        held = holds.setdefault(source.name, [])
                        held += [(kept, Burst(count)) for count in counted[base.id]]
                    continue
                join = _join(ruleset, doc, base) if base.id not in whole and kept else None
                if join is not None:
                    holds.setdefault(source.name, []).append((kept, join))
                    continue
                rules = by_source.setdefault(source.name, [])
                if rules is not None and kept:
                    rules.append(kept)
                else:
                    by_source[source.name] = None
    merged = {name: _merge(rules) for name, rules in by_source.items()}
    return LoadPlan(merged, everything, holds)


def _counted_only(
    ruleset: RuleSet, selected: list[RuleDoc], queries: Mapping[str, str]
) -> dict[str, list[EventCount]]:
    """The base rules that only event counts of theirs read (no selected rule reads their
    events otherwise): each with those counts."""
    readers: dict[str, dict[str, RuleDoc]] = {}
    for doc in selected:
        for reader, base in _readers(ruleset, doc):
            readers.setdefault(base.id, {})[reader.id] = reader
    counted: dict[str, list[EventCount]] = {}
    for base_id, docs in readers.items():
        counts = [_count(ruleset, doc, base_id, queries) for doc in docs.values()]
        if all(counts):
            counted[base_id] = [c for c in counts if c is not None]
    return counted


def _readers(ruleset: RuleSet, doc: RuleDoc) -> list[tuple[RuleDoc, RuleDoc]]:
    """(the rule that reads a base rule's events itself, the base rule): a correlation of
    correlations reads its children's alerts, not their events."""
    if not doc.is_correlation:
        return [(doc, base) for base in ruleset.base_rules_of(doc)]
    found = []
    for ref in doc.document["correlation"]["rules"]:
        child = ruleset.ref(ref)
        if child.is_correlation:
            found += _readers(ruleset, child)
            continue
        # The child's events; and an absence child reads its follow-up rule's itself.
        found.append((doc, child))
        found += [(child, base) for base in ruleset.base_rules_of(child) if base.id != child.id]
    return found


def _count(
    ruleset: RuleSet, doc: RuleDoc, base: str, queries: Mapping[str, str]
) -> EventCount | None:
    """The event count ``doc`` is over the one rule ``base``, or None."""
    correlation = doc.document.get("correlation") or {}
    if correlation.get("type") != "event_count" or correlation.get("aliases"):
        return None
    if [ruleset.ref(r).id for r in correlation.get("rules", [])] != [base]:
        return None
    return count_of(queries.get(doc.id, ""))


def _join(ruleset: RuleSet, doc: RuleDoc, followup: RuleDoc) -> Join | None:
    """The join by which an absence rule reads its follow-up rule's events."""
    absence = absence_of(doc.document)
    own = ruleset.sources_of(doc)[:1]
    if absence is None or not own or ruleset.ref(absence.rule).id != followup.id:
        return None
    return Join(absence.followup_field, own[0].name, absence.field)


def rule_necessary(rule: SigmaRule) -> Conjunction | None:
    """The rule's necessary condition, or None when it has none we can read."""
    # Several conditions in one rule: any of them fires.
    return _or([_necessary(condition.parsed) for condition in rule.detection.parsed_condition])


def _necessary(node: object) -> Conjunction | None:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        value = node.value
        plain = (
            isinstance(value, SigmaString)
            and not value.contains_special()
            and not value.contains_placeholder()
        )
        if plain and node.field:
            return [{node.field: {cast(SigmaString, value).to_plain().lower()}}]
        return None
    if isinstance(node, ConditionOR):
        return _or([_necessary(arg) for arg in node.args])
    if isinstance(node, ConditionAND):
        # Every operand is necessary; those we cannot read impose nothing we can test.
        clauses = [c for arg in node.args for c in _necessary(arg) or []]
        return clauses or None
    # NOT, keywords and anything newer: no necessary condition.
    return None


def _or(options: list[Conjunction | None]) -> Conjunction | None:
    """One clause implied by each option: the union of each option's narrowest clause."""
    if not options or any(o is None for o in options):
        return None
    if len(options) == 1:
        return options[0]
    clause: Clause = {}
    for option in options:
        assert option is not None
        narrowest = min(option, key=lambda c: sum(map(len, c.values())))
        for field, values in narrowest.items():
            clause.setdefault(field, set()).update(values)
    return [clause]


def _merge(rules: list[Conjunction] | None) -> list[Conjunction] | None:
    """Rules of one clause merge into one clause (one pass over the record for all)."""
    if rules is None:
        return None
    singles = [r[0] for r in rules if len(r) == 1]
    merged: Clause = {}
    for clause in singles:
        for field, values in clause.items():
            merged.setdefault(field, set()).update(values)
    unique: dict[str, Conjunction] = {}
    for rule in rules:
        if len(rule) > 1:  # a rule and a correlation on it bring the same condition twice
            key = repr([sorted((f, sorted(v)) for f, v in clause.items()) for clause in rule])
            unique.setdefault(key, rule)
    return ([[merged]] if merged else []) + list(unique.values())


def _in_query(sql: str, clause: Clause) -> bool:
    """Every field and value of the clause appears in the compiled SQL (as an ``=`` or an
    escaped LIKE literal)."""
    for field, values in clause.items():
        if field.lower() not in sql:
            return False
        for value in values:
            plain = "'" + value.replace("'", "''") + "'"
            like = "'" + value.replace("'", "''").replace("_", "\\_").replace("%", "\\%") + "'"
            if plain not in sql and like not in sql:
                return False
    return True


def _test(source: str, rules: list[Conjunction] | None, cells: dict[str, int] | None) -> Test:
    """One function answering "may this record match?" (with ``cells``, the positions of the
    columns: "may this row match?" of its cells), composed without generators: it runs on
    every record read."""
    if rules is None:
        return _always
    conjunctions = []
    for conjunction in rules:
        clauses = []
        for clause in conjunction:
            matchers = [
                cell_matcher(cells.get(f.lower()), frozenset(v))
                if cells is not None
                else field_matcher(source, f, frozenset(v))
                for f, v in clause.items()
            ]
            if any(m is None for m in matchers):
                return _always  # no fast reader for this source: load all of it
            clauses.append(_any(cast(list[Test], matchers)))
        conjunctions.append(_all(clauses))
    return _any(conjunctions)


def _any(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def any_of(record: Mapping[str, Any]) -> bool:
        # A loop, not any(): a generator costs more than the test on every record.
        for test in tests:  # noqa: SIM110
            if test(record):
                return True
        return False

    return any_of


def _all(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def all_of(record: Mapping[str, Any]) -> bool:
        for test in tests:  # noqa: SIM110
            if not test(record):
                return False
        return True

    return all_of


def _always(record: Mapping[str, Any]) -> bool:
    return True
