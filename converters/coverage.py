"""Coverage: each playbook indicator and log source against the rules, data sources and
targets that cover it, with the reason where nothing does (playbooks/coverage.yml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from converters import attack
from converters.errors import DacError, Problem
from converters.loading.rules import RuleSet
from converters.loading.strict_yaml import duplicate_problems, load_document
from converters.playbook.model import Playbook
from converters.sources import SOURCES, DataSource

COVERAGE_FILE = Path("playbooks/coverage.yml")
TARGETS = ("splunk", "elastic")


@dataclass(frozen=True)
class IndicatorRow:
    indicator: str
    name: str
    source: str  # data source title, or "" for an uncovered indicator
    rules: tuple[str, ...]
    targets: dict[str, int]  # rules compiled per target
    note: str
    # Per target: whether the source's field names were all checked against a captured
    # record or the target's own pipeline (converters/datasources/<source>.py names them).
    verified: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleChange:
    """A rule retired, or restricted to the sources or shapes that carry what it needs."""

    rules: tuple[str, ...]
    change: str  # "retired" or "restricted"
    reason: str


@dataclass(frozen=True)
class LogSourceRow:
    playbook: str
    data_sources: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Coverage:
    indicators: tuple[IndicatorRow, ...]
    log_sources: tuple[LogSourceRow, ...]
    changes: tuple[RuleChange, ...] = ()


def _problem(path: Path, reason: str) -> Problem:
    return Problem(path, reason)


def _read(path: Path) -> dict[str, Any]:
    try:
        document = load_document(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DacError([_problem(path, f"cannot read the coverage plan: {exc}")]) from exc
    if document is not None and document.duplicates:
        raise DacError(duplicate_problems(path, document.duplicates))
    data = document.value if document is not None else None
    keys = {"log_sources", "indicators"}
    if not isinstance(data, dict) or not keys <= set(data) <= keys | {"retired", "restricted"}:
        raise DacError(
            [
                _problem(
                    path, "expected the keys log_sources and indicators (and retired, restricted)"
                )
            ]
        )
    return data


def make_coverage(
    path: Path, playbook: Playbook, ruleset: RuleSet, compiled: dict[str, set[str]]
) -> Coverage:
    """``compiled``: per target, the ids of the rules it carries."""
    data = _read(path)
    problems: list[Problem] = []
    source_names = {s.name: s.title for s in SOURCES}

    log_rows: list[LogSourceRow] = []
    entries = data["log_sources"] or []
    for text in playbook.log_sources:
        matches = [e for e in entries if text.startswith(str(e.get("playbook", "")))]
        if len(matches) != 1:
            problems.append(_problem(path, f"log source {text[:40]!r}... needs exactly one entry"))
            continue
        entry = matches[0]
        names = entry.get("data_sources") or []
        unknown = [n for n in names if n not in source_names]
        if unknown or not str(entry.get("note", "")).strip():
            problems.append(_problem(path, f"log source {text[:40]!r}: unknown data source "
                                     f"{unknown} or no note"))  # fmt: skip
            continue
        titles = tuple(source_names[n] for n in names)
        log_rows.append(LogSourceRow(text, titles, " ".join(str(entry["note"]).split())))

    notes = {
        str(e.get("indicator")): " ".join(str(e.get("note", "")).split())
        for e in data["indicators"] or []
    }
    rows: list[IndicatorRow] = []
    for indicator in playbook.indicators:
        note = notes.get(indicator.id, "")
        if not note:
            problems.append(
                _problem(path, f"indicator {indicator.id!r} needs an entry with a note")
            )
            continue
        docs = [d for d in ruleset.docs if d.indicator == indicator.id]
        by_source: dict[str, list[str]] = {}
        for doc in docs:
            for source in ruleset.sources_of(doc):
                by_source.setdefault(source.title, []).append(doc.id)
        if not by_source:
            rows.append(IndicatorRow(indicator.id, indicator.name, "", (), {}, note))
        for title, ids in sorted(by_source.items()):
            names = tuple(sorted(ruleset.by_id(i).name for i in ids))
            counts = {t: sum(1 for i in ids if i in compiled.get(t, set())) for t in TARGETS}
            source = next(s for s in SOURCES if s.title == title)
            verified = {t: _verified(source, t) for t in TARGETS}
            rows.append(
                IndicatorRow(indicator.id, indicator.name, title, names, counts, note, verified)
            )
    changes = _changes(path, data, ruleset, problems)
    if problems:
        raise DacError(problems)
    return Coverage(tuple(rows), tuple(log_rows), changes)


def _verified(source: DataSource, target: str) -> bool:
    evidence = source.splunk_evidence if target == "splunk" else source.elastic_evidence
    return evidence is not None and evidence.verified


def _changes(
    path: Path, data: dict[str, Any], ruleset: RuleSet, problems: list[Problem]
) -> tuple[RuleChange, ...]:
    """Retired rules must be gone from sigma_rules/, restricted ones there; each says why."""
    found: list[RuleChange] = []
    known = {d.name for d in ruleset.docs}
    for change in ("retired", "restricted"):
        for entry in data.get(change) or []:
            rules = tuple(str(r) for r in entry.get("rules") or [])
            reason = " ".join(str(entry.get("reason", "")).split())
            if not rules or not reason:
                problems.append(_problem(path, f"{change}: each entry needs rules and a reason"))
                continue
            wrong = [r for r in rules if (r in known) != (change == "restricted")]
            if wrong:
                state = "still in sigma_rules" if change == "retired" else "not a rule"
                problems.append(_problem(path, f"{change}: {', '.join(wrong)}: {state}"))
                continue
            found.append(RuleChange(rules, change, reason))
    return tuple(found)


def navigator_layer(ruleset: RuleSet) -> dict[str, Any]:
    """An ATT&CK Navigator layer (format 4.5): each technique the rules tag, scored by the
    number of rules, with the rules and their indicators as metadata."""
    known = attack.load()
    by_technique: dict[str, list[str]] = {}
    for doc in sorted(ruleset.docs, key=lambda d: d.name):
        for technique_id in attack.split_tags(doc.tags)[1]:
            by_technique.setdefault(technique_id, []).append(doc.name)
    techniques: list[dict[str, Any]] = []
    for technique_id, names in sorted(by_technique.items()):
        technique = known.techniques[technique_id]
        indicators = sorted({ruleset.by_name(n).indicator for n in names})
        for tactic in technique.tactics:
            techniques.append(
                {
                    "techniqueID": technique.id,
                    "tactic": tactic,
                    "score": len(names),
                    "comment": f"{technique.name}: {len(names)} rule(s)",
                    "enabled": True,
                    "metadata": [
                        {"name": "rules", "value": ", ".join(names)},
                        {"name": "indicators", "value": ", ".join(indicators)},
                    ],
                    "showSubtechniques": True,
                }
            )
    top = max((t["score"] for t in techniques), default=1)
    return {
        "name": "dac-t1585 coverage",
        "versions": {"attack": known.version.split(".")[0], "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": "Techniques covered by the dac-t1585 Sigma rules (score = rules).",
        "techniques": techniques,
        "gradient": {"colors": ["#ffe766", "#8ec843"], "minValue": 0, "maxValue": top},
        "legendItems": [],
        "showTacticRowBackground": False,
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
    }
