"""Stage 1: Sigma YAML files -> validated rule documents with their metadata.

Every problem names the file, the line where known and the rule; all problems of a run are
collected so the engineer fixes them in one pass.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from converters import attack
from converters.errors import DacError, Problem
from converters.loading.identity import rule_key, same_rule
from converters.loading.references import (
    canonical_references,
    check_references,
    check_unique,
)
from converters.loading.schema import INDICATORS, check_document
from converters.loading.strict_yaml import duplicate_problems, load_documents
from converters.loading.thresholds import (
    THRESHOLDS_FILE,
    Threshold,
    apply_threshold,
    load_thresholds,
    unused_entries,
)
from converters.sources import DataSource, find_source

RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class RuleDoc:
    """One Sigma rule as committed, with what the build needs to know about it."""

    path: Path
    document: dict[str, Any]
    lines: dict[str, int]  # top-level key -> line number (1-based)
    # The Sigma filters that tune this rule: part of what it detects, so part of its hash.
    tuning: tuple[dict[str, Any], ...] = ()
    # Its entry in the folder's thresholds file (already written into ``document``).
    threshold: Threshold | None = None

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def name(self) -> str:
        return str(self.document["name"])

    @property
    def title(self) -> str:
        return str(self.document["title"])

    @property
    def indicator(self) -> str:
        return str(self.document["indicator"])

    @property
    def level(self) -> str:
        return str(self.document["level"])

    @property
    def is_correlation(self) -> bool:
        return "correlation" in self.document

    @property
    def new_terms(self) -> dict[str, Any] | None:
        """A new-terms rule's ``fields`` and ``history`` (converters/backends/new_terms.py)."""
        value = self.document.get("new_terms")
        return value if isinstance(value, dict) else None

    @property
    def building_block(self) -> bool:
        """A rule whose own alerts stay out of the analyst's queue in every target (Kibana
        building block, Splunk search without notable, left out of ``dac hunt``): one marked
        ``building_block: true``, and every informational single-event rule, the one
        definition of "informational base rule" (converters.loading.schema refuses a marked
        rule above informational)."""
        if self.document.get("building_block") is True:
            return True
        return self.level == "informational" and not self.is_correlation

    @property
    def incident(self) -> dict[str, Any] | None:
        """A single-event rule's declared alert grouping: ``by`` (its fields) and ``period``
        (converters/incidents.py derives what is not declared)."""
        value = self.document.get("incident")
        return value if isinstance(value, dict) else None

    @property
    def absence(self) -> dict[str, Any] | None:
        """An absence rule's follow-up ``rule``, ``match`` and ``within``
        (converters/backends/absence.py)."""
        value = self.document.get("absence")
        return value if isinstance(value, dict) else None

    @property
    def is_filter(self) -> bool:
        return "filter" in self.document

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.document.get("tags", [])]

    @property
    def content_hash(self) -> str:
        content: Any = self.document
        if self.tuning:
            content = {"rule": self.document, "tuning": list(self.tuning)}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def tuned_by(self, filter_doc: RuleDoc) -> bool:
        return any(same_rule(r, self.name, self.id) for r in filter_doc.document["filter"]["rules"])

    def line(self, key: str) -> int | None:
        return self.lines.get(key)


@dataclass(frozen=True)
class RuleSet:
    """The loaded, validated rules. Conversions mutate pySigma objects, so every consumer asks
    for its own fresh collection."""

    root: Path
    docs: tuple[RuleDoc, ...]
    filters: tuple[RuleDoc, ...] = ()

    def by_name(self, name: str) -> RuleDoc:
        for doc in self.docs:
            if rule_key(doc.name) == rule_key(name):
                return doc
        raise KeyError(name)

    def by_id(self, rule_id: str) -> RuleDoc:
        for doc in self.docs:
            if rule_key(doc.id) == rule_key(rule_id):
                return doc
        raise KeyError(rule_id)

    def fresh_collection(self) -> SigmaCollection:
        rules: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = [
            _parse(doc) for doc in self.docs
        ]
        # One filter object per tuned rule: pySigma applies a filter by sharing its detection
        # items with the rule, so a filter of two rules would reach the second one with field
        # names the first rule's conversion had already mapped.
        rules += [
            SigmaFilter.from_dict(
                {**doc.document, "filter": {**doc.document["filter"], "rules": [ref]}}
            )
            for doc in self.filters
            for ref in doc.document["filter"]["rules"]
        ]
        # pySigma names a filter's merged detections with random letters; a fixed seed keeps
        # the converted queries (and the SQL plans hashed from them) the same on every build.
        state = random.getstate()
        random.seed(0)
        try:
            collection = SigmaCollection(rules)
        finally:
            random.setstate(state)
        collection.resolve_rule_references()
        return collection

    def sources_of(self, doc: RuleDoc) -> list[DataSource]:
        """The data sources a rule reads, following correlation references."""
        if not doc.is_correlation:
            ls = doc.document["logsource"]
            source = find_source(ls.get("product"), ls.get("service"), ls.get("category"))
            own = [source] if source else []
            if doc.absence:  # it reads its follow-up rule's source too
                later = self.sources_of(self.ref(doc.absence["rule"]))
                own += [s for s in later if s not in own]
            return own
        found: list[DataSource] = []
        for ref in doc.document["correlation"]["rules"]:
            for source in self.sources_of(self.ref(ref)):
                if source not in found:
                    found.append(source)
        return found

    def base_rules_of(self, doc: RuleDoc) -> list[RuleDoc]:
        """The single-event rules whose events the rule reads (an absence rule reads its
        follow-up rule's too)."""
        if doc.absence:
            return [doc, self.ref(str(doc.absence["rule"]))]
        if not doc.is_correlation:
            return [doc]
        result: list[RuleDoc] = []
        for ref in doc.document["correlation"]["rules"]:
            result.extend(self.base_rules_of(self.ref(ref)))
        return result

    def ref(self, ref: str) -> RuleDoc:
        """The first rule whose name or id ``ref`` is (identity.same_rule)."""
        try:
            return self._by_key[rule_key(ref)]
        except KeyError:
            raise KeyError(ref) from None

    @cached_property
    def _by_key(self) -> dict[str, RuleDoc]:
        # Correlations resolve references hundreds of times while the hunt starts.
        found: dict[str, RuleDoc] = {}
        for doc in self.docs:
            found.setdefault(rule_key(doc.name), doc)
            found.setdefault(rule_key(doc.id), doc)
        return found


def _parse(doc: RuleDoc) -> SigmaRule | SigmaCorrelationRule:
    if doc.is_correlation:
        return SigmaCorrelationRule.from_dict(doc.document)
    return SigmaRule.from_dict(doc.document)


def _line_map(node: yaml.Node) -> dict[str, int]:
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[str(key.value)] = key.start_mark.line + 1
    return lines


def _read_documents(path: Path) -> tuple[list[RuleDoc], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(path, f"cannot read the file: {exc}")]
    try:
        documents = load_documents(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [], [Problem(path, f"malformed YAML: {exc}", line=line)]
    docs: list[RuleDoc] = []
    problems: list[Problem] = []
    for document in documents:
        node, value = document.node, document.value
        if value is None:
            continue
        rule = str(value.get("id")) if isinstance(value, dict) and "id" in value else None
        problems.extend(duplicate_problems(path, document.duplicates, rule))
        if not isinstance(value, dict):
            line = node.start_mark.line + 1
            problems.append(Problem(path, "a rule must be a YAML mapping", line=line))
            continue
        docs.append(RuleDoc(path, value, _line_map(node)))
    return docs, problems


def rule_files(root: Path) -> list[Path]:
    thresholds = root / THRESHOLDS_FILE
    return sorted(
        p for p in root.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file() and p != thresholds
    )


def load_rules(root: Path) -> RuleSet:
    """Load and validate every rule under ``root``; raise DacError listing all problems."""
    if not root.is_dir():
        raise DacError([Problem(root, "the rules folder does not exist")])
    problems: list[Problem] = []
    docs: list[RuleDoc] = []
    for path in rule_files(root):
        file_docs, file_problems = _read_documents(path)
        problems.extend(file_problems)
        docs.extend(file_docs)
    if not docs and not problems:
        problems.append(Problem(root, "no Sigma rules (*.yml) found"))
    thresholds, threshold_problems = load_thresholds(root)
    problems.extend(threshold_problems)
    if thresholds is not None and not threshold_problems:
        applied: list[RuleDoc] = []
        for doc in docs:
            if doc.is_filter:
                applied.append(doc)
                continue
            entry = thresholds.entries.get(str(doc.document.get("name")))
            merged, found = apply_threshold(
                doc.document,
                entry,
                thresholds,
                doc.path,
                doc.line("correlation") or doc.line("new_terms") or doc.line("absence"),
            )
            problems.extend(found)
            applied.append(replace(doc, document=merged, threshold=entry))
        docs = applied
    if thresholds is not None:
        problems.extend(unused_entries(thresholds, {str(d.document.get("name")) for d in docs}))

    known = attack.load()
    for doc in docs:
        problems.extend(check_document(doc.path, doc.document, doc.lines, known))
    problems.extend(check_unique(docs))
    if not problems:
        problems.extend(check_references(docs))
    if not problems:
        # Ids and references in one spelling from here on (outputs, pySigma, the lock).
        docs = canonical_references(docs)
        problems.extend(_check_pysigma(docs))
    if problems:
        raise DacError(problems)
    filters = tuple(d for d in docs if d.is_filter)
    rules = tuple(
        replace(d, tuning=tuple(f.document for f in filters if d.tuned_by(f)))
        for d in docs
        if not d.is_filter
    )
    return RuleSet(root, rules, filters)


def _check_pysigma(docs: list[RuleDoc]) -> list[Problem]:
    """Let pySigma parse each rule (modifiers, condition syntax, correlation fields)."""
    problems: list[Problem] = []
    for doc in docs:
        try:
            if doc.is_filter:
                SigmaFilter.from_dict(doc.document)
                continue
            rule = _parse(doc)
            if isinstance(rule, SigmaRule):
                # Parsing the condition is lazy in pySigma; force it so errors surface here.
                for condition in rule.detection.parsed_condition:
                    _ = condition.parsed
        except SigmaError as exc:
            problems.append(
                Problem(doc.path, _sigma_reason(exc), rule=doc.id, line=_line_of(exc, doc))
            )
    return problems


def _sigma_reason(exc: SigmaError) -> str:
    # pySigma appends its own location; ours is already in the Problem.
    return str(exc.args[0]) if exc.args else type(exc).__name__


def _line_of(exc: SigmaError, doc: RuleDoc) -> int | None:
    text = str(exc).lower()
    for key in ("correlation", "detection", "logsource", "tags", "level", "status", "date"):
        if key in text:
            return doc.line(key)
    return doc.line("detection") or doc.line("correlation")


__all__ = ["INDICATORS", "RuleDoc", "RuleSet", "load_rules", "rule_files"]
