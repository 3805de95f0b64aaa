"""A rule's logic as the sentence an analyst would write: "Fires when the Google Workspace admin
log shows a user account created with the admin's IP address on the threat-intelligence list."

Derived from the detection (or the correlation) with the phrase tables of
converters.playbook.phrases; never Sigma syntax, selection names, modifier names or list
placeholders. A rule may say it better itself: an optional ``logic`` key holds its own sentence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from converters.loading.rules import RuleDoc, RuleSet
from converters.playbook import phrases
from converters.sources import DataSource


@dataclass(frozen=True)
class Test:
    """One field test of a selection: ``field|modifier: values``, or its negation."""

    field: str
    modifier: str  # "" for equality; "expand" with the list name in ``values``
    values: tuple[str, ...]
    negated: bool = False


Alternative = list[Test]  # tests that all hold


def shown_value(value: object) -> str:
    """A rule value for the analyst, exactly: as written when it is plain text, else as a JSON
    string (a line break as \\n), so that no value is cut, joined or hidden in the alert
    text. In Sigma notation: ``\\*`` is a literal asterisk, ``*`` a wildcard."""
    text = str(value)
    plain = text.isprintable() and text == " ".join(text.split())
    if plain and '"' not in text and "\\" not in text:
        return text
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif not c.isprintable() and c != " ":
            out.append(json.dumps(c)[1:-1])  # \\uXXXX, a surrogate pair beyond the BMP
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_TOKEN = re.compile(r"\(|\)|\b(?:1|all|any) of\b|[^\s()]+")
_PLACEHOLDER = re.compile(r"^%(\w+)%$")


def _tests(selection: Any, negated: bool) -> list[Test]:
    if not isinstance(selection, dict):  # keywords: the whole event holds the text
        words = selection if isinstance(selection, list) else [selection]
        return [Test("", "contains", tuple(str(v) for v in words), negated)]
    found = []
    for key, value in selection.items():
        field, *modifiers = str(key).split("|")
        values = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        placeholder = _PLACEHOLDER.match(values[0]) if len(values) == 1 else None
        if "expand" in modifiers and placeholder:
            found.append(Test(field, "expand", (placeholder.group(1),), negated))
            continue
        kept = [m for m in modifiers if m in phrases.MODIFIERS]
        found.append(Test(field, kept[0] if kept else "", values, negated))
    return found


class _Parser:
    """The condition as alternatives (an OR of ANDs): ``and``, ``or``, ``not``, brackets,
    ``1 of``/``all of`` a name pattern or ``them``. A negated group of several tests keeps
    its tests, each negated: the sentence then says "none of" (a close reading for a group
    of one, which is what the catalog holds)."""

    def __init__(self, detection: dict[str, Any]) -> None:
        self.selections = {k: v for k, v in detection.items() if k != "condition"}
        condition = detection["condition"]
        text = condition[0] if isinstance(condition, list) else condition
        self.tokens: list[str] = _TOKEN.findall(str(text))
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        self.at += 1
        return self.tokens[self.at - 1]

    def expr(self, negated: bool = False) -> list[Alternative]:
        result = self.term(negated)
        while self.peek() == "or":
            self.take()
            result = _and(result, self.term(negated)) if negated else result + self.term(negated)
        return result

    def term(self, negated: bool) -> list[Alternative]:
        result = self.factor(negated)
        while self.peek() == "and":
            self.take()
            other = self.factor(negated)
            result = result + other if negated else _and(result, other)
        return result

    def factor(self, negated: bool) -> list[Alternative]:
        token = self.take()
        if token == "not":
            return self.factor(not negated)
        if token == "(":
            result = self.expr(negated)
            self.take()
            return result
        if token.endswith(" of"):
            pattern = self.take()
            names = [n for n in self.selections if _matches(n, pattern)]
            any_of = token != "all of"
            parts = [self.named(n, negated) for n in names]
            if any_of != negated:
                return [alt for part in parts for alt in part]
            combined: list[Alternative] = [[]]
            for part in parts:
                combined = _and(combined, part)
            return combined
        return self.named(token, negated)

    def named(self, name: str, negated: bool) -> list[Alternative]:
        tests = _tests(self.selections[name], negated)
        # not (a and b): either fails; said of a one-test selection, the negated test.
        return [[t] for t in tests] if negated and len(tests) > 1 else [tests]


def _and(left: list[Alternative], right: list[Alternative]) -> list[Alternative]:
    return [a + b for a in left for b in right]


def _matches(name: str, pattern: str) -> bool:
    if pattern == "them":
        return True
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None


def field_phrase(source: DataSource, name: str) -> str:
    """The field in a sentence: "the acting admin"."""
    phrase = phrases.FIELDS.get((source.name, name))
    if phrase:
        return phrase
    known = source.field(name)
    if known is not None and known.description:
        return "the " + known.description.rstrip(".").lower()
    return f"the field {name}"


def _values(test: Test, joiner: str = " or ") -> str:
    if test.modifier in ("gte", "gt", "lte", "lt"):
        return joiner.join(test.values)
    return joiner.join(f'"{v}"' if shown_value(v) == v else shown_value(v) for v in test.values)


def _predicate(test: Test) -> str:
    if test.modifier == "expand":
        said = phrases.LISTS.get(
            test.values[0], "in the list of " + test.values[0].replace("_", " ")
        )
        return ("not " if test.negated else "") + said
    positive, negative = phrases.MODIFIERS[test.modifier]
    joiner = " nor " if test.negated else " or "
    return (negative if test.negated else positive) + _values(test, joiner)


def _event(source: DataSource, tests: list[Test]) -> tuple[str, str, list[Test]]:
    """What the event is (singular, plural) and the tests left to say after it."""
    singular, plural, after, rest = [], [], [], []
    for test in tests:
        events = [phrases.EVENTS.get((source.name, test.field, v)) for v in test.values]
        if not test.negated and test.modifier == "" and events and all(events):
            singular.append(" or ".join(e[0] for e in events if e))
            plural.append(" or ".join(e[1] for e in events if e))
            continue
        keys = [(source.name, test.field, v) for v in test.values]
        if not test.negated and test.modifier == "" and all(k in phrases.QUALIFIERS for k in keys):
            after += [q for k in keys if (q := phrases.QUALIFIERS[k])]
            continue
        rest.append(test)
    default = phrases.SOURCES.get(source.name, ("its log", "an event"))[1]
    one = " and ".join(singular) or default
    many = " and ".join(plural) or "events"
    return " ".join([one, *after]), " ".join([many, *after]), rest


def _with(source: DataSource, tests: list[Test]) -> str:
    # Tests of one field in one sense say it once: "not containing "A" nor "B"".
    merged: dict[tuple[str, str, bool], Test] = {}
    for t in tests:
        key = (t.field, t.modifier, t.negated)
        seen = merged.get(key)
        merged[key] = Test(*key[:2], (seen.values if seen else ()) + t.values, t.negated)
    said = [f"{field_phrase(source, t.field)} {_predicate(t)}" for t in merged.values()]
    if not said:
        return ""
    return " with " + (said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1])


def _alternatives(source: DataSource, alternatives: list[Alternative]) -> list[str]:
    """Each alternative as "an event with ...": those of one event whose one remaining test
    says the same of different fields merge ("its forwarding address or its redirect address
    at a disposable email domain")."""
    merged: dict[tuple[str, str], list[str]] = {}
    order: list[tuple[str, str] | str] = []
    for alternative in alternatives:
        event, _plural, rest = _event(source, alternative)
        if len(rest) == 1:
            key = (event, _predicate(rest[0]))
            if key not in merged:
                merged[key] = []
                order.append(key)
            merged[key].append(field_phrase(source, rest[0].field))
        else:
            order.append(event + _with(source, rest))
    said = []
    for item in order:
        if isinstance(item, str):
            said.append(item)
            continue
        fields = list(dict.fromkeys(merged[item]))
        both = fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " or " + fields[-1]
        said.append(f"{item[0]} with {both} {item[1]}")
    return said


def _source_phrase(source: DataSource) -> str:
    return phrases.SOURCES.get(source.name, (source.title, "an event"))[0]


def event_sentence(ruleset: RuleSet, doc: RuleDoc) -> str:
    """A single-event rule: "Fires when <log> shows <event> with <tests>", and its own
    clause for a new-terms or an absence rule."""
    source = ruleset.sources_of(doc)[0]
    alternatives = _Parser(doc.document["detection"]).expr()
    said = _alternatives(source, alternatives)
    sentence = f"Fires when {_source_phrase(source)} shows " + ", or ".join(said)
    if doc.new_terms:
        fields = [field_phrase(source, f) for f in doc.new_terms["fields"]]
        which = fields[0] if len(fields) == 1 else " and ".join(fields) + " together"
        history = span_words(str(doc.new_terms.get("history", "")))
        sentence += f", where {which} had not been seen in the previous {history}"
    if doc.absence:
        later = ruleset.ref(str(doc.absence["rule"]))
        within = span_words(str(doc.absence.get("within", "")))
        sentence += f", and no {_title(later)} for that account follows within {within}"
    return sentence + "."


def _title(doc: RuleDoc) -> str:
    return "'" + " ".join(doc.title.split()) + "'"


_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}


def span_words(span: str) -> str:
    """``1h`` -> "1 hour", ``30d`` -> "30 days"."""
    match = re.fullmatch(r"(\d+)([smhdw])", span.strip())
    if not match:
        return span
    count, unit = int(match.group(1)), _UNITS[match.group(2)]
    return f"{count} {unit}{'s' if count != 1 else ''}"


def _group(ruleset: RuleSet, doc: RuleDoc) -> str:
    """ "one acting admin": the correlation's group in the words of its entity label."""
    correlation = doc.document["correlation"]
    aliases = correlation.get("aliases") or {}
    sources = ruleset.sources_of(doc)
    labels = {name: label for s in sources for label, name in s.entities}
    said = []
    for name in correlation.get("group-by", []):
        fields = [name, *aliases[name].values()] if name in aliases else [name]
        label = next((labels[f] for f in fields if f in labels), None)
        if label is None:
            label = field_phrase(sources[0], fields[0]).removeprefix("the ")
        said.append("one " + label[:1].lower() + label[1:])
    return " and ".join(said) or "the whole log"


def _bound(condition: dict[str, Any]) -> str:
    bounds = {k: v for k, v in condition.items() if k != "field"}
    words = {"gte": "{} or more", "gt": "more than {}", "lte": "at most {}", "lt": "fewer than {}"}
    return " and ".join(words.get(k, "exactly {}").format(v) for k, v in bounds.items())


def correlation_sentence(ruleset: RuleSet, doc: RuleDoc) -> str:
    correlation = doc.document["correlation"]
    bases = [ruleset.ref(str(r)) for r in correlation["rules"]]
    group = _group(ruleset, doc)
    span = span_words(str(correlation.get("timespan", "")))
    kind = correlation["type"]
    condition = dict(correlation.get("condition") or {})
    if kind == "event_count" and len(bases) == 1 and not bases[0].is_correlation:
        base = bases[0]
        source = ruleset.sources_of(base)[0]
        alternatives = _Parser(base.document["detection"]).expr()
        _one, plural, rest = _event(source, alternatives[0])
        if len(alternatives) == 1 and not rest:
            by = "from" if group.endswith(("IP", "address")) else "by"
            return (
                f"Fires when {_source_phrase(source)} shows {_bound(condition)} {plural} {by} "
                f"{group} within {span}."
            )
    if kind == "event_count":
        titles = " or ".join(_title(b) for b in bases)
        return f"Fires when {group} has {_bound(condition)} {titles} events within {span}."
    if kind == "value_count":
        source = ruleset.sources_of(bases[0])[0]
        field = str(condition.get("field", ""))
        counted = phrases.COUNTED.get(
            (source.name, field), f"values of {field_phrase(source, field)}"
        )
        titles = " or ".join(_title(b) for b in bases)
        return (
            f"Fires when the {titles} events of {group} reach {_bound(condition)} distinct "
            f"{counted} within {span}."
        )
    named = [_title(b) for b in bases]
    if kind == "temporal_ordered":
        return f"Fires when {group} has {', then '.join(named)}, in this order, within {span}."
    if len(named) == 2:
        return f"Fires when {group} has both {named[0]} and {named[1]} within {span}."
    listed = ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]
    return f"Fires when {group} has all of {listed} within {span}."


def logic_sentence(ruleset: RuleSet, doc: RuleDoc) -> str:
    """The rule's own ``logic`` sentence, else the one derived from its detection."""
    own = doc.document.get("logic")
    if isinstance(own, str) and own.strip():
        return " ".join(own.split())
    try:
        if doc.is_correlation:
            return correlation_sentence(ruleset, doc)
        return event_sentence(ruleset, doc)
    except (KeyError, IndexError, TypeError, ValueError):
        # A condition this reader does not follow (pySigma accepted it): a plainer sentence
        # rather than a failed build; the rule can give its own with ``logic``.
        source = ruleset.sources_of(doc)[0]
        return (
            f"Fires when {_source_phrase(source)} shows an event that the rule's detection matches."
        )
