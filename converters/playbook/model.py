"""The analyst playbook as data (playbooks/<technique>.yml) and the alert context it renders for.

The loader is strict: an unknown key, a missing key, a wrong type or an indicator the rules do
not know stops the build with the file, the line and the reason. YAML keys are the dataclass
field names; text is whitespace-normalised (YAML folding leaves no stray line breaks).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import yaml

from converters.errors import DacError, Problem
from converters.loading.schema import INDICATORS
from converters.loading.strict_yaml import duplicate_problems, load_document

_Where = tuple[str | int, ...]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    tactic: str
    tactic_id: str


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    text: str
    questions: tuple[str, ...]  # ids of the questions this indicator answers, most relevant first


@dataclass(frozen=True)
class Question:
    id: str
    text: str


@dataclass(frozen=True)
class Escalation:
    summary: str
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class Playbook:
    technique: Technique
    log_sources: tuple[str, ...]
    indicators: tuple[Indicator, ...]
    questions: tuple[Question, ...]
    escalation: Escalation
    l1_steps: tuple[str, ...]
    t2_actions: tuple[str, ...]
    containment: tuple[str, ...]

    def indicator(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(indicator_id)

    def questions_for(self, indicator_id: str) -> tuple[Question, ...]:
        """Every question, the ones the indicator answers first (in the indicator's order)."""
        first = self.indicator(indicator_id).questions
        by_id = {q.id: q for q in self.questions}
        rest = tuple(q for q in self.questions if q.id not in first)
        return tuple(by_id[q] for q in first) + rest


@dataclass(frozen=True)
class Entity:
    """One of the alert's entities: a label and the target's field name."""

    label: str  # "Acting admin"
    field: str  # the target's field: "actor.email" (Splunk), "source.user.email" (Elastic)


@dataclass(frozen=True)
class CommandPart:
    """Literal text, or (``field`` set) the alert's value of a field, as the target shows it."""

    text: str
    field: str | None = None
    # The field in words, where a target cannot fill the value in: "the target object".
    label: str = ""

    @property
    def variable(self) -> str:
        """What a command shows where it cannot hold the value: TARGET_OBJECT."""
        words = re.sub(r"^(the|its|an?) |'s\b", "", self.label or self.field or "value")
        return re.sub(r"\W+", "_", words).strip("_").upper()


@dataclass(frozen=True)
class Command:
    """A containment command for a human to run, with the alert's entities filled in."""

    action: str
    parts: tuple[CommandPart, ...]


@dataclass(frozen=True)
class AlertContext:
    """What one compiled rule tells the playbook templates."""

    rule_id: str
    rule_name: str
    title: str
    description: str
    level: str
    indicator: str  # one of converters.loading.schema.INDICATORS
    logic: str  # why it fires: "5 or more events within 1h, grouped by actor.email"
    data_sources: tuple[str, ...]  # data source titles
    falsepositives: tuple[str, ...]
    references: tuple[str, ...]
    entities: tuple[Entity, ...]
    commands: tuple[Command, ...] = ()
    # The playbook's questions this alert answers with its own data: (question, field).
    answers: tuple[Entity, ...] = ()


class _Reader:
    """Builds dataclasses from parsed YAML, collecting every problem with its line."""

    def __init__(self, path: Path, lines: dict[_Where, int]) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def fail(self, where: _Where, reason: str) -> None:
        line = None
        for end in range(len(where), 0, -1):  # the nearest located key or item
            line = self.lines.get(where[:end])
            if line is not None:
                break
        self.problems.append(Problem(self.path, reason, line=line))

    def build(self, cls: type[_T], value: object, where: _Where) -> _T | None:
        name = ".".join(str(w) for w in where) or "the playbook"
        if not isinstance(value, dict):
            self.fail(where, f"{name} must be a mapping")
            return None
        hints = get_type_hints(cls)
        keys = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key in value:
            if key not in keys:
                expected = ", ".join(keys)
                self.fail((*where, str(key)), f"unknown key {key!r} in {name}; expected {expected}")
        missing = [key for key in keys if key not in value]
        for key in missing:
            self.fail(where, f"missing required key {key!r} in {name}")
        if missing:
            return None
        before = len(self.problems)
        kwargs = {key: self.convert(hints[key], value[key], (*where, key)) for key in keys}
        return None if len(self.problems) > before else cls(**kwargs)

    def convert(self, hint: Any, value: object, where: _Where) -> Any:
        name = ".".join(str(w) for w in where)
        if hint is str:
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
            self.fail(where, f"{name} must be a non-empty string")
            return None
        if get_origin(hint) is tuple:
            if not isinstance(value, list) or not value:
                self.fail(where, f"{name} must be a non-empty list")
                return None
            item = get_args(hint)[0]
            return tuple(self.convert(item, v, (*where, i)) for i, v in enumerate(value))
        return self.build(hint, value, where)


def _line_map(node: yaml.Node, where: _Where = ()) -> dict[_Where, int]:
    lines: dict[_Where, int] = {where: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*where, str(key.value))
            lines.update(_line_map(value, sub))
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_map(item, (*where, i)))
    return lines


def _check_references(reader: _Reader, playbook: Playbook) -> None:
    question_ids = [q.id for q in playbook.questions]
    indicator_ids = [i.id for i in playbook.indicators]
    for kind, ids in (("question", question_ids), ("indicator", indicator_ids)):
        for n, ident in enumerate(ids):
            if ident in ids[:n]:
                reader.fail((f"{kind}s", n, "id"), f"duplicate {kind} id {ident!r}")
    for n, indicator in enumerate(playbook.indicators):
        if indicator.id not in INDICATORS:
            known = ", ".join(INDICATORS)
            reason = f"indicator id {indicator.id!r} is not one of the rules' indicators: {known}"
            reader.fail(("indicators", n, "id"), reason)
        for m, ref in enumerate(indicator.questions):
            if ref not in question_ids:
                reason = f"indicator {indicator.id!r} refers to unknown question {ref!r}"
                reader.fail(("indicators", n, "questions", m), reason)
    for ident in INDICATORS:
        if ident not in indicator_ids:
            reader.fail(("indicators",), f"indicator {ident!r} has no entry in the playbook")


def load_playbook(path: Path) -> Playbook:
    """Read and validate a playbook YAML file; raise DacError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DacError([Problem(path, f"cannot read the playbook: {exc}")]) from exc
    try:
        document = load_document(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DacError([Problem(path, f"malformed YAML: {exc}", line=line)]) from exc
    if document is None:
        raise DacError([Problem(path, "the playbook is empty")])
    reader = _Reader(path, _line_map(document.node))
    reader.problems.extend(duplicate_problems(path, document.duplicates))
    playbook = reader.build(Playbook, document.value, ())
    if playbook is not None:
        _check_references(reader, playbook)
    if reader.problems:
        raise DacError(reader.problems)
    assert playbook is not None
    return playbook
