"""Thresholds and windows: one file per rules folder, one entry per rule, each with its reason.

``<rules>/thresholds.yml`` maps a rule name to the numbers that decide when it fires: a
correlation's ``timespan`` and ``condition``, or ``detection`` items that compare a value
(the size of a bulk upload). When the file exists it is the only place for them: a rule that
sets one of them itself is an error, so a tuner reads and changes every threshold in one file
and the rule keeps what it detects. The loader writes the values into the rule document,
so they are part of the rule's content hash (a new threshold is a new rule version).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from converters.errors import Problem
from converters.loading.strict_yaml import duplicate_problems, load_document

THRESHOLDS_FILE = "thresholds.yml"
_CORRELATION_KEYS = ("timespan", "condition")
# The comparisons of a correlation condition; its ``field`` (what a value_count counts) is
# part of what the rule detects and stays in the rule.
_COMPARISONS = ("gt", "gte", "lt", "lte", "eq", "neq")
_ENTRY_KEYS = (*_CORRELATION_KEYS, "detection", "history", "within", "rationale")


@dataclass(frozen=True)
class Threshold:
    """The numbers of one rule, with the reason they are what they are."""

    rule: str
    rationale: str
    timespan: str | None
    condition: dict[str, Any] | None
    detection: dict[str, Any]
    line: int
    history: str | None = None  # a new-terms rule's look-back (backends/new_terms.py)
    within: str | None = None  # an absence rule's wait for the follow-up (backends/absence.py)


@dataclass(frozen=True)
class Thresholds:
    path: Path
    entries: dict[str, Threshold]


def load_thresholds(rules_root: Path) -> tuple[Thresholds | None, list[Problem]]:
    """The folder's thresholds file, or None when it has none."""
    path = rules_root / THRESHOLDS_FILE
    if not path.is_file():
        return None, []
    try:
        text = path.read_text(encoding="utf-8")
        document = load_document(text)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path, f"cannot read the file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(path, f"malformed YAML: {exc}", line=mark.line + 1 if mark else None)]
    data = document.value if document is not None else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem(path, "must map rule names to their thresholds")]
    lines: dict[str, int] = {}
    if document is not None and isinstance(document.node, yaml.MappingNode):
        # The first occurrence names an entry; a repeated one is reported on its own line.
        for k, _v in reversed(document.node.value):
            lines[str(k.value)] = k.start_mark.line + 1
    entries: dict[str, Threshold] = {}
    problems: list[Problem] = duplicate_problems(path, document.duplicates) if document else []
    for name, body in data.items():
        line = lines.get(str(name), 1)

        def problem(reason: str, rule: str = str(name), at: int = line) -> None:
            problems.append(Problem(path, reason, rule=rule, line=at))

        if not isinstance(body, dict):
            problem("an entry maps timespan/condition or detection, and a rationale")
            continue
        for key in body:
            if key not in _ENTRY_KEYS:
                problem(f"unknown key {key!r}; an entry takes {', '.join(_ENTRY_KEYS)}")
        rationale = body.get("rationale")
        if not isinstance(rationale, str) or len(rationale.split()) < 5:
            problem("rationale must say, in a sentence, why these numbers")
        has_correlation = any(k in body for k in _CORRELATION_KEYS)
        detection = body.get("detection", {})
        if not isinstance(detection, dict) or not all(
            isinstance(v, dict) for v in detection.values()
        ):
            problem("detection maps selection names to their field items")
            detection = {}
        if has_correlation and detection:
            problem("an entry sets a correlation's window or a rule's detection items, not both")
        history = body.get("history")
        if history is not None and (has_correlation or detection or not isinstance(history, str)):
            problem("history (e.g. 30d) is a new-terms rule's look-back, set on its own")
        within = body.get("within")
        if within is not None and (has_correlation or detection or not isinstance(within, str)):
            problem("within (e.g. 7d) is an absence rule's wait, set on its own")
        if not has_correlation and not detection and history is None and within is None:
            problem("an entry sets timespan and condition, detection items, history or within")
        condition = body.get("condition")
        if has_correlation and (
            not isinstance(body.get("timespan"), str) or not isinstance(condition, dict)
        ):
            problem("a correlation entry sets both timespan (e.g. 1h) and condition (e.g. gte: 5)")
        entries[str(name)] = Threshold(
            rule=str(name),
            rationale=str(rationale or "").strip(),
            timespan=str(body["timespan"]) if "timespan" in body else None,
            condition=condition if isinstance(condition, dict) else None,
            detection=detection,
            line=line,
            history=history if isinstance(history, str) else None,
            within=within if isinstance(within, str) else None,
        )
    return Thresholds(path, entries), problems


def apply_threshold(
    document: dict[str, Any],
    threshold: Threshold | None,
    thresholds: Thresholds,
    doc_path: Path,
    line: int | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """The rule document with its thresholds written in; problems when the rule sets them
    itself or the entry does not fit the rule."""
    rule = str(document.get("id") or document.get("name"))
    problems: list[Problem] = []
    correlation = document.get("correlation")
    if isinstance(correlation, dict):
        condition = correlation.get("condition")
        inline = ["timespan"] if "timespan" in correlation else []
        if isinstance(condition, dict) and any(k in condition for k in _COMPARISONS):
            inline.append("a condition comparison")
        elif condition is not None and not isinstance(condition, dict):
            inline.append("condition")
        if inline:
            problems.append(
                Problem(
                    doc_path,
                    f"correlation sets {' and '.join(inline)} itself; thresholds live in "
                    f"{thresholds.path} (entry {document.get('name')!r})",
                    rule=rule,
                    line=line,
                )
            )
        if threshold is None:
            problems.append(
                Problem(
                    doc_path,
                    f"no entry for this correlation in {thresholds.path}: give its timespan, "
                    "condition and rationale there",
                    rule=rule,
                    line=line,
                )
            )
    new_terms = document.get("new_terms")
    if isinstance(new_terms, dict):
        if "history" in new_terms:
            problems.append(
                Problem(
                    doc_path,
                    f"new_terms sets its history itself; it lives in {thresholds.path}",
                    rule=rule,
                    line=line,
                )
            )
        if threshold is None or threshold.history is None:
            problems.append(
                Problem(
                    doc_path,
                    f"no history for this new-terms rule in {thresholds.path}",
                    rule=rule,
                    line=line,
                )
            )
    absence = document.get("absence")
    if isinstance(absence, dict) and (
        "within" in absence or threshold is None or threshold.within is None
    ):
        problems.append(
            Problem(
                doc_path,
                f"an absence rule's within (how long to wait) is set in {thresholds.path}, "
                "and only there",
                rule=rule,
                line=line,
            )
        )
    if threshold is None or problems:
        return document, problems
    merged = copy.deepcopy(document)
    if threshold.within is not None:
        if not isinstance(absence, dict):
            return document, [_misfit(thresholds, threshold, "the rule has no absence")]
        merged["absence"]["within"] = threshold.within
    if threshold.history is not None:
        if not isinstance(new_terms, dict):
            return document, [_misfit(thresholds, threshold, "the rule has no new_terms")]
        merged["new_terms"]["history"] = threshold.history
    if threshold.timespan is not None or threshold.condition is not None:
        if not isinstance(correlation, dict):
            return document, [_misfit(thresholds, threshold, "the rule is not a correlation")]
        merged["correlation"]["timespan"] = threshold.timespan
        own = merged["correlation"].get("condition") or {}
        merged["correlation"]["condition"] = {**own, **copy.deepcopy(threshold.condition or {})}
    for selection, items in threshold.detection.items():
        detection = merged.get("detection")
        if not isinstance(detection, dict):
            return document, [_misfit(thresholds, threshold, "the rule has no detection")]
        if selection in detection:
            problems.append(
                Problem(
                    doc_path,
                    f"detection item {selection!r} is set both here and in {thresholds.path}",
                    rule=rule,
                    line=line,
                )
            )
            continue
        detection[selection] = copy.deepcopy(items)
    return merged, problems


def _misfit(thresholds: Thresholds, threshold: Threshold, reason: str) -> Problem:
    return Problem(thresholds.path, reason, rule=threshold.rule, line=threshold.line)


def unused_entries(thresholds: Thresholds, rule_names: set[str]) -> list[Problem]:
    """An entry for a rule that does not exist would tune nothing, silently."""
    return [
        Problem(thresholds.path, "no rule of this name", rule=name, line=entry.line)
        for name, entry in thresholds.entries.items()
        if name not in rule_names
    ]
