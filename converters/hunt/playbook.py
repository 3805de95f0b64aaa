"""The playbook for one hunted alert: the Kibana investigation guide the build renders
(``render_elastic(...).note``, the same templates), with the alert's entities filled in.

The renderer names each entity's field; a SIEM fills in the values (Splunk through tokens,
Kibana beside the alert). Here, each entity, answer and command value is rendered under a
placeholder, once per rule (``render_elastic(..., filled=True)``), and each alert replaces the
placeholders with its own values, as a Splunk token would be: the entities and answers by the
values in its evidence, each command line once per value (every account of a burst). No
Elastic field name and no placeholder is left in the text (tests/test_text_lint.py).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from converters.alerts import (
    alert_context,
    commands_for,
    disposable_fields,
    held_fields,
    rule_entities,
)
from converters.engine.bulk import EvidenceRow
from converters.hunt.values import FieldValues, flat, rows_values
from converters.loading.rules import RuleDoc, RuleSet
from converters.playbook import phrases
from converters.playbook.logic import field_phrase
from converters.playbook.model import AlertContext, Command, CommandPart, Entity, Playbook
from converters.playbook.render import render_elastic
from converters.textsafe import visible

_PLACEHOLDER = "dac.hunt.entity.{}"
_ANSWER = "dac.hunt.answer.{}"
_VALUE = "dac hunt value {}"  # a command field's label: its variable is DAC_HUNT_VALUE_<n>
MAX_VALUES = 10  # distinct values shown per entity; the evidence lists every event
# A value the hunt writes into a command a person may paste into a shell: anything else (a
# quote, a space, a semicolon from a hostile log) is left out, and the command says so.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9@._+:/=-]+$")


@dataclass(frozen=True)
class HuntEntity:
    label: str
    fields: tuple[str, ...]  # the Sigma fields holding it (one per aliased rule)
    # A field the rule tests against the disposable list: the alert's key value.
    key: bool = False
    # Not one of the source's entities (a key field added for the hunt): shown only when the
    # alert's events hold it (a rule tests several address fields, an event holds one).
    optional: bool = False
    # Read for the commands only (the evidence keeps its values), not listed as an entity.
    hidden: bool = False


@dataclass(frozen=True)
class HuntAnswer:
    """A playbook question the alert answers: its event count, window, or a field's values."""

    label: str
    kind: str  # "count", "start", "end", "field"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleGuide:
    context: AlertContext
    entities: tuple[HuntEntity, ...]
    note: str  # rendered, with placeholders for the entities, answers and command values
    answers: tuple[HuntAnswer, ...] = ()
    command_fields: tuple[str, ...] = ()  # the Sigma field of each DAC_HUNT_VALUE_<n>
    carriers: dict[str, tuple[str, frozenset[str]]] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def template(self) -> NoteTemplate:
        """The note cut for filling in, once per rule (a hunt fills it for every alert)."""
        return note_template(self)


def hunt_entities(ruleset: RuleSet, doc: RuleDoc) -> tuple[HuntEntity, ...]:
    """The alert's entities in Sigma field names (converters.alerts.entities_for names them
    in a target's fields), then the fields its commands need, hidden."""
    sources = ruleset.sources_of(doc)
    if not sources:
        return ()
    needed = _command_fields(ruleset, doc)
    needed += [c for c, _ in _carriers(ruleset, doc).values() if c not in needed]
    hidden = [HuntEntity(n, (n,), hidden=True) for n in needed]
    if not doc.is_correlation:
        tested = list(dict.fromkeys(disposable_fields(doc)))
        own = rule_entities(ruleset, doc)
        named = [HuntEntity(lb, (name,), key=name in tested) for lb, name in own]
        known = {name for _label, name in own}
        label = "Address at a disposable email provider"
        added = [HuntEntity(label, (n,), True, True) for n in tested if n not in known]
        return (*added, *named, *hidden)
    correlation = doc.document["correlation"]
    aliases = correlation.get("aliases") or {}
    labels = {name: label for source in sources for label, name in source.entities}
    entities = []
    for name in correlation.get("group-by", []):
        fields = tuple(dict.fromkeys(aliases[name].values())) if name in aliases else (name,)
        entities.append(HuntEntity(labels.get(fields[0], name), fields))
    return (*entities, *hidden)


def _commands(ruleset: RuleSet, doc: RuleDoc) -> tuple[Command, ...]:
    """The containment commands in Sigma field names, with every field the evidence holds."""
    return commands_for(ruleset, doc, "sigma", held_fields(ruleset, doc))


def _command_fields(ruleset: RuleSet, doc: RuleDoc) -> list[str]:
    names = [p.field for c in _commands(ruleset, doc) for p in c.parts if p.field]
    return list(dict.fromkeys(names))


def _carriers(ruleset: RuleSet, doc: RuleDoc) -> dict[str, tuple[str, frozenset[str]]]:
    """Command field -> the field and values of the events that carry it (phrases.CARRIED_BY):
    an escalation's evidence mixes events, and a routing change's USER_EMAIL is no account
    the burst created."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    sources = [s for base in ruleset.base_rules_of(doc) for s in ruleset.sources_of(base)]
    for name in _command_fields(ruleset, doc):
        for source in sources:
            tests = phrases.CARRIED_BY.get((source.name, name))
            if tests:
                found[name] = (tests[0][0], frozenset(v for _, v in tests))
    return found


def _answers(ruleset: RuleSet, doc: RuleDoc) -> tuple[HuntAnswer, ...]:
    if doc.is_correlation:
        return (
            HuntAnswer("How many events in the window?", "count"),
            HuntAnswer("When did the window start?", "start"),
            HuntAnswer("When did it end?", "end"),
        )
    source = ruleset.sources_of(doc)[0]
    return tuple(
        HuntAnswer(
            f"Is the domain disposable? Yes, {field_phrase(source, name)} is listed:",
            "field",
            (name,),
        )
        for name in dict.fromkeys(disposable_fields(doc))
    )


def rule_guide(ruleset: RuleSet, playbook: Playbook, doc: RuleDoc) -> RuleGuide:
    entities = hunt_entities(ruleset, doc)
    answers = _answers(ruleset, doc)
    fields = _command_fields(ruleset, doc)
    commands = tuple(
        Command(c.action, tuple(
            CommandPart("", p.field, _VALUE.format(fields.index(p.field))) if p.field else p
            for p in c.parts
        ))
        for c in _commands(ruleset, doc)
    )  # fmt: skip
    context = dataclasses.replace(
        alert_context(ruleset, doc, "elastic"),
        entities=tuple(
            Entity(e.label, _PLACEHOLDER.format(n)) for n, e in enumerate(entities) if not e.hidden
        ),
        answers=tuple(Entity(a.label, _ANSWER.format(n)) for n, a in enumerate(answers)),
        commands=commands,
    )
    note = render_elastic(playbook, context, filled=True).note
    return RuleGuide(context, entities, note, answers, tuple(fields), _carriers(ruleset, doc))


def alert_playbook(
    guide: RuleGuide,
    evidence: Sequence[EvidenceRow],
    window: tuple[str, str] = ("", ""),
    values: FieldValues | None = None,
) -> str:
    """The guide with this alert's values: entities, answers, and the commands once per value
    (a burst's every account). ``values``: FieldValues(evidence), when the caller has it."""
    known = FieldValues(evidence) if values is None else values
    note = guide.template
    shown: dict[int, str | None] = {}  # token -> its text, or None: its lines are left out

    def token(n: int) -> str | None:
        if n not in shown:
            shown[n] = _token_text(guide, n, known, window)
        return shown[n]

    out: list[str] = []
    for line, filled in note.parts:
        if not filled:
            out.append(line)
        elif _MARK in line:
            commands = _filled(line, guide, known, note, token)
            if commands is not None:
                out.append(commands)
        else:
            # Every token of the rule's line in one pass: a value is never read as a token,
            # whatever it holds (a log value may spell `dac.hunt.entity.0`).
            texts = {found: token(n) for n, found in enumerate(note.tokens) if found in line}
            if None not in texts.values():
                out.append(_substituted(note.pattern, line, texts, {}))
    return "\n".join(out)


@dataclass(frozen=True)
class NoteTemplate:
    """A rule's note cut once for every alert: runs of lines no alert changes, joined
    (``False``), and each line holding a token or a command variable (``True``)."""

    parts: tuple[tuple[str, bool], ...]
    tokens: tuple[str, ...]  # the entities' (not hidden), then the answers'
    entities: tuple[HuntEntity, ...]  # those not hidden, one per token
    prefixes: tuple[str, ...]  # per entity token: its fields, as "`a` / `b` = "
    pattern: re.Pattern[str]  # any token, or a command variable (group 1: its number)


def note_template(guide: RuleGuide) -> NoteTemplate:
    shown = tuple(e for e in guide.entities if not e.hidden)
    tokens = [code(_PLACEHOLDER.format(n)) for n in range(len(shown))]
    tokens += [code(_ANSWER.format(n)) for n in range(len(guide.answers))]
    parts: list[tuple[str, bool]] = []
    run: list[str] = []
    for line in guide.note.split("\n"):
        if _MARK in line or any(token in line for token in tokens):
            if run:
                parts.append(("\n".join(run), False))
                run = []
            parts.append((line, True))
        else:
            run.append(line)
    if run:
        parts.append(("\n".join(run), False))
    prefixes = tuple(" / ".join(code(f) for f in e.fields) + " = " for e in shown)
    # Longer tokens first: no token is cut short by another that starts it.
    alternatives = [re.escape(t) for t in sorted(tokens, key=len, reverse=True)]
    pattern = re.compile("|".join([*alternatives, _MARK + r"(\d+)"]))
    return NoteTemplate(tuple(parts), tuple(tokens), shown, prefixes, pattern)


def _token_text(
    guide: RuleGuide, n: int, known: FieldValues, window: tuple[str, str]
) -> str | None:
    """Token ``n``'s text for this alert; None for an optional entity its events lack."""
    note = guide.template
    if n >= len(note.entities):
        return _answer(guide.answers[n - len(note.entities)], known, window)
    entity = note.entities[n]
    values = known.of(entity.fields)
    if entity.optional and not values:
        return None
    return note.prefixes[n] + _listed(values)


def _answer(answer: HuntAnswer, known: FieldValues, window: tuple[str, str]) -> str:
    if answer.kind == "count":
        return str(len(known.evidence))
    if answer.kind in ("start", "end"):
        when = window[0 if answer.kind == "start" else 1]
        return code(when) if when else "(not known)"
    return _listed(known.of(answer.fields))


_MARK = "DAC_HUNT_VALUE_"
_VARIABLE = re.compile(_MARK + r"(\d+)")


def _filled(
    line: str,
    guide: RuleGuide,
    known: FieldValues,
    note: NoteTemplate,
    token: Callable[[int], str | None],
) -> str | None:
    """A command line of the rule's note, with a variable: one line per value of the alert (at
    most MAX_VALUES); a comment where the events hold none, or only values a shell could
    misread; None: the line goes (an optional entity its events lack). Variables and tokens
    are those of the rule's line, filled in one pass."""
    found = list(dict.fromkeys(_VARIABLE.findall(line)))
    if not found:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    values = {}
    for number in found:
        name = guide.command_fields[int(number)]
        if name in guide.carriers:
            carrier, names = guide.carriers[name]
            rows = [r for r in known.evidence if set(flat(r.values.get(carrier))) & names]
            every = rows_values((name,), rows)
        else:
            every = known.of((name,))
        safe = [v for v in every if _SAFE_VALUE.match(v)]
        if not safe:
            why = "holds characters a shell could misread" if every else "is not in its events"
            return f"{indent}# not filled in: this alert's {name} {why} (see the evidence)"
        values[number] = safe[:MAX_VALUES]
    texts = {t: token(n) for n, t in enumerate(note.tokens) if t in line}
    if None in texts.values():
        return None
    out = []
    for value in values[found[0]]:
        chosen = {**{n: v[0] for n, v in values.items()}, found[0]: value}
        out.append(_substituted(note.pattern, line, texts, chosen))
    return "\n".join(out)


def _substituted(
    pattern: re.Pattern[str], line: str, texts: dict[str, str | None], chosen: dict[str, str]
) -> str:
    """The line with each token (``texts``) and variable (``chosen``, by number) it holds
    replaced, in one scan: a replaced text is never read again."""

    def text(found: re.Match[str]) -> str:
        if found[1] is not None:
            return chosen.get(found[1], found[0])
        return texts.get(found[0]) or ""

    return pattern.sub(text, line)


def entity_values(entity: HuntEntity, evidence: Sequence[EvidenceRow]) -> list[str]:
    """Distinct values of the entity over the evidence, in time order."""
    return rows_values(entity.fields, evidence)


def _listed(values: list[str]) -> str:
    if not values:
        return "(not in this alert's events)"
    shown = ", ".join(code(v) for v in values[:MAX_VALUES])
    more = len(values) - MAX_VALUES
    return shown + (f" and {more} more" if more > 0 else "")


def code(value: str) -> str:
    """A markdown code span that holds any text: the fence is longer than any run of
    backticks inside, and control characters, line breaks included, are escaped (a code span
    shows them as they are: an ESC would reach the terminal that prints the playbook)."""
    text = visible(value) if value else " "
    if "`" not in text:
        # Most values: no backtick to outrun, no pad (what the lines below give, cheaper).
        return f"`{text}`"
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
