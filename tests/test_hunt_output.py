"""What `dac hunt --out` writes, made cheaper, says the same: each record's JSON line, its
"distinct" field and its playbook are held to the straightforward implementations they
replaced (kept here as references), over arbitrary values (hostile text included)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.engine.adapters import SigmaValue
from converters.engine.bulk import EvidenceRow
from converters.hunt import playbook as hunt_playbook
from converters.hunt.output import json_line
from converters.hunt.playbook import (
    HuntAnswer,
    HuntEntity,
    RuleGuide,
    alert_playbook,
    code,
    rule_guide,
)
from converters.hunt.values import FieldValues, rows_values
from converters.loading.rules import RuleSet
from converters.playbook.model import Playbook, load_playbook
from converters.textsafe import json_safe, visible

ROOT = Path(__file__).resolve().parent.parent
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Characters that act rather than show, or that mean something to the code under test.
HOSTILE = [
    *"\x00\x07\x08\t\n\x0c\r\x1b\x1f\x7f\x80\x85\x9b\x9f\u061c\u200e\u200f",
    *"\u2028\u2029\u202a\u202e\u2066\u2069\ud800\udbff\udc00\udfff\ufeff",
    *'`"\\;| é東',
    "``",
    "`dac.hunt.entity.0`",
    "`dac.hunt.entity.1`",
    "`dac.hunt.answer.0`",
    "DAC_HUNT_VALUE_0",
    "DAC_HUNT_VALUE_1",
    "dac.hunt.",
]
ANY_CHAR = st.characters(exclude_categories=())  # surrogates too
TEXT = st.lists(st.one_of(ANY_CHAR, st.sampled_from(HOSTILE)), max_size=12).map("".join)
SAFE = st.sampled_from(["a@example.com", "b@example.com", "admin@example.com", "10.0.0.1"])
VALUE_TEXT = st.one_of(TEXT, SAFE, st.just(""))


# --- the JSON line -------------------------------------------------------------------


def _json(keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )


KEYS = st.one_of(TEXT, st.integers(), st.booleans(), st.none())


@PROPERTY
@given(head=st.dictionaries(KEYS, _json(KEYS), max_size=5), key=TEXT, last=_json(KEYS))
def test_a_json_line_is_json_dumps_made_safe(head: dict[Any, Any], key: str, last: Any) -> None:
    """Any record; with a text last (the fast path) or not."""
    record = {**head, key: last}
    for shape in (record, head, {**head, key: str(last)}):
        assert json_line(shape) == json_safe(json.dumps(shape, ensure_ascii=False))


@PROPERTY
@given(text=TEXT)
def test_a_playbooks_text_is_encoded_as_json_encodes_it(text: str) -> None:
    record = {"rule_id": "x", "evidence": [{"id": text, "line": 1}], "playbook": text}
    assert json_line(record) == json_safe(json.dumps(record, ensure_ascii=False))


# --- code() --------------------------------------------------------------------------


def slow_code(value: str) -> str:
    """code() before its fast path."""
    text = visible(value) if value else " "
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


@PROPERTY
@given(value=TEXT)
def test_code_is_the_same_with_or_without_a_backtick(value: str) -> None:
    assert code(value) == slow_code(value)


# --- the values of an alert's evidence -----------------------------------------------


def ref_distinct(evidence: Sequence[EvidenceRow]) -> dict[str, list[str]]:
    """episodes.distinct_values before FieldValues."""
    found: dict[str, dict[str, None]] = {}
    for row in evidence:
        for name, value in row.values.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if item is not None and item != "":
                    found.setdefault(name, {})[str(item)] = None
    return {name: list(values) for name, values in found.items()}


def ref_flat(value: SigmaValue) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def ref_entity_values(fields: Sequence[str], evidence: Sequence[EvidenceRow]) -> list[str]:
    """playbook.entity_values before FieldValues."""
    found: dict[str, None] = {}
    for row in evidence:
        for name in fields:
            for value in ref_flat(row.values.get(name)):
                found.setdefault(value, None)
    return list(found)


def _value(texts: st.SearchStrategy[str]) -> st.SearchStrategy[SigmaValue]:
    return st.one_of(st.none(), texts, st.lists(texts, max_size=4))


@st.composite
def evidence_of(draw: st.DrawFn, names: Sequence[str], texts: st.SearchStrategy[str]) -> Any:
    """Rows holding some of ``names``, in any order, values None, "", text or lists."""
    rows = []
    for n in range(draw(st.integers(0, 8))):
        fields = draw(st.lists(st.sampled_from(list(names)), unique=True)) if names else []
        values = {name: draw(_value(texts)) for name in fields}
        rows.append(EvidenceRow(n, str(n), f"2026-11-20T10:00:{n:02}", 0, n, values))
    return rows


NAMES = ["a", "b", "c.d", "e"]


@PROPERTY
@given(evidence=evidence_of(NAMES, st.sampled_from(["", "x", "y", "z", "`", "\x1b"])))
def test_field_values_are_read_as_before(evidence: list[EvidenceRow]) -> None:
    known = FieldValues(evidence)
    assert known.distinct() == ref_distinct(evidence)
    assert list(known.distinct()) == list(ref_distinct(evidence))  # the fields' order too
    for fields in ([n] for n in [*NAMES, "absent"]):
        assert known.of(fields) == ref_entity_values(fields, evidence)
        assert known.of(fields) == ref_entity_values(fields, evidence)  # cached, not changed
        assert rows_values(fields, evidence) == ref_entity_values(fields, evidence)
    assert known.of(["a", "b"]) == ref_entity_values(["a", "b"], evidence)


def test_values_outside_sigmas_are_read_as_before() -> None:
    """A tuple, or a list holding None: "distinct" as before, entities from the rows."""
    odd: Any = {"a": ("x", "y"), "b": ["x", None, ""], "c": ""}
    evidence = [EvidenceRow(0, "0", "t", 0, 0, odd)]
    known = FieldValues(evidence)
    assert known.distinct() == ref_distinct(evidence)
    for name in "abc":
        assert known.of([name]) == ref_entity_values([name], evidence)
        assert rows_values([name], evidence) == ref_entity_values([name], evidence)


# --- the playbook --------------------------------------------------------------------

MARK = re.compile(r"DAC_HUNT_VALUE_(\d+)")


def ref_listed(values: list[str]) -> str:
    if not values:
        return "(not in this alert's events)"
    shown = ", ".join(slow_code(v) for v in values[: hunt_playbook.MAX_VALUES])
    more = len(values) - hunt_playbook.MAX_VALUES
    return shown + (f" and {more} more" if more > 0 else "")


def ref_answer(answer: HuntAnswer, evidence: Sequence[EvidenceRow], window: tuple[str, str]) -> str:
    if answer.kind == "count":
        return str(len(evidence))
    if answer.kind in ("start", "end"):
        when = window[0 if answer.kind == "start" else 1]
        return slow_code(when) if when else "(not known)"
    return ref_listed(ref_entity_values(answer.fields, evidence))


def ref_filled(line: str, guide: RuleGuide, evidence: Sequence[EvidenceRow]) -> str:
    found = list(dict.fromkeys(MARK.findall(line)))
    if not found:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    values = {}
    for number in found:
        name = guide.command_fields[int(number)]
        rows = evidence
        if name in guide.carriers:
            carrier, names = guide.carriers[name]
            rows = [r for r in evidence if set(ref_flat(r.values.get(carrier))) & names]
        every = ref_entity_values((name,), rows)
        safe = [v for v in every if re.match(r"^[A-Za-z0-9@._+:/=-]+$", v)]
        if not safe:
            why = "holds characters a shell could misread" if every else "is not in its events"
            return f"{indent}# not filled in: this alert's {name} {why} (see the evidence)"
        values[number] = safe[: hunt_playbook.MAX_VALUES]
    out = []
    for value in values[found[0]]:
        text = line.replace(f"DAC_HUNT_VALUE_{found[0]}", value)
        for other in found[1:]:
            text = text.replace(f"DAC_HUNT_VALUE_{other}", values[other][0])
        out.append(text)
    return "\n".join(out)


def ref_playbook(guide: RuleGuide, evidence: Sequence[EvidenceRow], window: tuple[str, str]) -> str:
    """alert_playbook before its note was cut once per rule: the whole text, token by token."""
    text = guide.note
    for n, entity in enumerate(e for e in guide.entities if not e.hidden):
        token = slow_code(f"dac.hunt.entity.{n}")
        if token not in text:
            continue
        if entity.optional and not ref_entity_values(entity.fields, evidence):
            text = "\n".join(line for line in text.split("\n") if token not in line)
            continue
        shown = " / ".join(slow_code(f) for f in entity.fields) + " = "
        text = text.replace(token, shown + ref_listed(ref_entity_values(entity.fields, evidence)))
    for n, answer in enumerate(guide.answers):
        token = slow_code(f"dac.hunt.answer.{n}")
        if token in text:
            text = text.replace(token, ref_answer(answer, evidence, window))
    if "DAC_HUNT_VALUE_" not in text:
        return text
    return "\n".join(
        ref_filled(line, guide, evidence) if "DAC_HUNT_VALUE_" in line else line
        for line in text.split("\n")
    )


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook(ROOT / "playbooks" / "T1585.002.yml")


@pytest.fixture(scope="module")
def guides(ruleset: RuleSet, playbook: Playbook) -> list[RuleGuide]:
    real = [rule_guide(ruleset, playbook, doc) for doc in ruleset.docs]
    return [*real, _crafted(real)]


def _crafted(real: list[RuleGuide]) -> RuleGuide:
    """A note no template writes yet: tokens sharing a line, in a command, twice, an optional
    entity's token beside another's, two variables and a carried field on one line."""
    note = "\n".join(
        [
            "# Title",
            "- `dac.hunt.entity.0` and `dac.hunt.entity.1`; again `dac.hunt.entity.0`",
            "- only `dac.hunt.entity.1`",
            "",
            "- `dac.hunt.answer.0` / `dac.hunt.answer.1` / `dac.hunt.answer.2`",
            "  cmd DAC_HUNT_VALUE_0 --to DAC_HUNT_VALUE_1 # `dac.hunt.entity.2`",
            "  cmd DAC_HUNT_VALUE_1",
            "  cmd `dac.hunt.answer.3` DAC_HUNT_VALUE_2",
            "tail",
        ]
    )
    entities = (
        HuntEntity("First", ("a",)),
        HuntEntity("Optional", ("b",), key=True, optional=True),
        HuntEntity("Both", ("a", "c.d")),
        HuntEntity("Hidden", ("e",), hidden=True),
    )
    answers = (
        HuntAnswer("count", "count"),
        HuntAnswer("start", "start"),
        HuntAnswer("end", "end"),
        HuntAnswer("field", "field", ("c.d",)),
    )
    carriers = {"e": ("a", frozenset({"x", "a@example.com"}))}
    return RuleGuide(real[0].context, entities, note, answers, ("a", "b", "e"), carriers)


def _fields(guide: RuleGuide) -> list[str]:
    names = [f for e in guide.entities for f in e.fields]
    names += [f for a in guide.answers for f in a.fields]
    names += [*guide.command_fields, *(c for c, _ in guide.carriers.values())]
    return list(dict.fromkeys(names))


@PROPERTY
@given(data=st.data(), window=st.tuples(st.one_of(st.just(""), TEXT), st.just("2026-11-20Z")))
def test_a_playbook_is_filled_in_as_before(
    guides: list[RuleGuide], data: st.DataObject, window: tuple[str, str]
) -> None:
    # The crafted note (the last) as often as all the real ones.
    guide = data.draw(st.one_of(st.just(guides[-1]), st.sampled_from(guides)))
    carried = [v for _, values in guide.carriers.values() for v in values]
    texts = st.one_of(VALUE_TEXT, st.sampled_from(carried or ["x"]))
    evidence = data.draw(evidence_of(_fields(guide), texts))
    expected = _outcome(lambda: ref_playbook(guide, evidence, window))
    assert _outcome(lambda: alert_playbook(guide, evidence, window)) == expected
    known = FieldValues(evidence)
    assert _outcome(lambda: alert_playbook(guide, evidence, window, known)) == expected


def _outcome(fill: Callable[[], str]) -> str | type[Exception]:
    """The text, or the error: a value holding DAC_HUNT_VALUE_<n> past the rule's commands
    raised IndexError before, and does still (the same output, whatever the input)."""
    try:
        return fill()
    except IndexError as error:
        return type(error)


def test_every_guide_is_filled_in_as_before_with_many_values(guides: list[RuleGuide]) -> None:
    """More values than shown (MAX_VALUES), every field of every guide, each row twice."""
    for guide in guides:
        rows = [
            EvidenceRow(n, None, "t", 0, n, {f: [f"v{n}@example.com", ""] for f in _fields(guide)})
            for n in range(hunt_playbook.MAX_VALUES + 3)
        ]
        evidence = [*rows, *rows]
        window = ("2026-11-20T10:00:00Z", "")
        assert alert_playbook(guide, evidence, window) == ref_playbook(guide, evidence, window)
        bare = dataclasses.replace(guide)  # a guide not yet cut: its template is its own
        assert alert_playbook(bare, [], window) == ref_playbook(guide, [], window)
