"""What `dac hunt --out` writes, made cheaper, says the same: each record's JSON line, its
"distinct" field and its playbook are held to the straightforward implementations they
replaced (kept here as references), over arbitrary values (hostile text included)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
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


def ref_values(
    number: str, guide: RuleGuide, evidence: Sequence[EvidenceRow]
) -> tuple[str, list[str], list[str]]:
    """A command variable's field, the alert's values of it, and those a shell reads safely."""
    name = guide.command_fields[int(number)]
    rows = evidence
    if name in guide.carriers:
        carrier, names = guide.carriers[name]
        rows = [r for r in evidence if set(ref_flat(r.values.get(carrier))) & names]
    every = ref_entity_values((name,), rows)
    return name, every, [v for v in every if re.match(r"^[A-Za-z0-9@._+:/=-]+$", v)]


def ref_playbook(guide: RuleGuide, evidence: Sequence[EvidenceRow], window: tuple[str, str]) -> str:
    """The definition, line by line of the rule's note: each token and variable the line
    holds is replaced by this alert's text for it, in one pass (a replaced text is never read
    again); a line naming an optional entity its events lack goes; a command line is written
    once per value of its first variable, or becomes a comment when a variable has none."""
    shown = [e for e in guide.entities if not e.hidden]
    texts: dict[str, str | None] = {}
    for n, entity in enumerate(shown):
        found = ref_entity_values(entity.fields, evidence)
        prefix = " / ".join(slow_code(f) for f in entity.fields) + " = "
        missing = entity.optional and not found
        texts[slow_code(f"dac.hunt.entity.{n}")] = None if missing else prefix + ref_listed(found)
    for n, answer in enumerate(guide.answers):
        texts[slow_code(f"dac.hunt.answer.{n}")] = ref_answer(answer, evidence, window)
    out = []
    for line in guide.note.split("\n"):
        present = [t for t in texts if t in line]
        if any(texts[t] is None for t in present):
            continue
        variables = list(dict.fromkeys(MARK.findall(line)))
        if not variables:
            out.append(_ref_sub(line, texts, {}))
            continue
        indent = line[: len(line) - len(line.lstrip())]
        values: dict[str, list[str]] = {}
        for number in variables:
            name, every, safe = ref_values(number, guide, evidence)
            if not safe:
                why = "holds characters a shell could misread" if every else "is not in its events"
                out.append(f"{indent}# not filled in: this alert's {name} {why} (see the evidence)")
                break
            values[number] = safe[: hunt_playbook.MAX_VALUES]
        else:
            for value in values[variables[0]]:
                chosen = {n: v[0] for n, v in values.items()} | {variables[0]: value}
                out.append(_ref_sub(line, texts, chosen))
    return "\n".join(out)


def _ref_sub(line: str, texts: dict[str, str | None], chosen: dict[str, str]) -> str:
    """One left-to-right scan: at each position, a token or a variable is replaced."""
    out, at = [], 0
    while at < len(line):
        variable = MARK.match(line, at)
        if variable and variable[1] in chosen:
            out.append(chosen[variable[1]])
            at = variable.end()
            continue
        token = next(
            (t for t in sorted(texts, key=len, reverse=True) if line.startswith(t, at)), None
        )
        if token is not None:
            out.append(texts[token] or "")
            at += len(token)
            continue
        out.append(line[at])
        at += 1
    return "".join(out)


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
def test_a_playbook_is_filled_in_by_its_definition(
    guides: list[RuleGuide], data: st.DataObject, window: tuple[str, str]
) -> None:
    # The crafted note (the last) as often as all the real ones.
    guide = data.draw(st.one_of(st.just(guides[-1]), st.sampled_from(guides)))
    carried = [v for _, values in guide.carriers.values() for v in values]
    texts = st.one_of(VALUE_TEXT, st.sampled_from(carried or ["x"]))
    evidence = data.draw(evidence_of(_fields(guide), texts))
    expected = ref_playbook(guide, evidence, window)
    assert alert_playbook(guide, evidence, window) == expected
    assert alert_playbook(guide, evidence, window, FieldValues(evidence)) == expected


def test_a_value_spelling_a_token_or_a_variable_is_shown_as_it_is(
    guides: list[RuleGuide],
) -> None:
    """A log value may hold `dac.hunt.entity.1` or DAC_HUNT_VALUE_2: it is a value, shown in
    its code span, never read as a token (it raised IndexError, or filled a command, before)."""
    guide = guides[-1]
    hostile = ["`dac.hunt.entity.1`", "DAC_HUNT_VALUE_2", "DAC_HUNT_VALUE_9"]
    evidence = [
        EvidenceRow(n, None, "t", 0, n, {"a": value, "b": "x@example.com", "c.d": "`dac.hunt."})
        for n, value in enumerate(hostile)
    ]
    text = alert_playbook(guide, evidence, ("", ""))
    assert text == ref_playbook(guide, evidence, ("", ""))
    assert "`` `dac.hunt.entity.1` ``, `DAC_HUNT_VALUE_2`, `DAC_HUNT_VALUE_9`" in text
    # The values of a, each as the command's value, never as its other variable.
    assert "cmd DAC_HUNT_VALUE_2 --to x@example.com" in text
    assert "cmd DAC_HUNT_VALUE_9 --to x@example.com" in text


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
