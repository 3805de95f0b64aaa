"""Property tests: any rule value, from arbitrary text with quotes, backslashes, line breaks and
Sigma's wildcards, means exactly that value in every target, or the target refuses it with a
problem naming the rule. A value is written in Sigma notation (``\\*``, ``\\?``, ``\\\\`` for the
literal characters) into a UAL rule on ``UserId``, loaded the way rule files are, compiled for
each target and run: the eql engine (EQL) and the SQLite reference engine match an event with
the value and not one with a character changed or a wildcard expanded; the Splunk search term,
read back from savedsearches.conf as Splunk's conf parser reads it and unquoted as a search
reads it, is the value; the ES|QL literal parses with Elasticsearch's grammar and reads back."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sigma.conversion.state import ConversionState
from sigma.types import SigmaString

from converters.alerts import alert_context
from converters.backends.literals import esql_string
from converters.backends.lucene import DacLuceneBackend
from converters.compile import compile_target
from converters.domains import DomainList
from converters.engine import EqlEngine, SqliteEngine, sigma_rows
from converters.errors import DacError
from converters.loading.rules import RuleDoc, RuleSet
from converters.loading.strict_yaml import load_documents
from converters.playbook.model import Playbook, load_playbook
from converters.playbook.render import render_splunk
from converters.targets.splunk import make_app
from converters.valuelists import ValueList
from converters.writers.conf import conf_decode, conf_environment
from tests.conftest import REPO
from tests.dist_helpers import conf_parser
from tests.esql_syntax import parse_esql
from tests.spl_eval import search_term
from tests.timelines import add_user

RULE_ID = "7d0c56a4-5a1e-4c55-9a6e-0b9d3f1e2a10"
SPECIALS = "*?\\\"'\n\r\t$`%_ "
# Any character a rule file can hold (UTF-8: no lone surrogates), the specials more often.
char = st.characters(codec="utf-8")
text = st.text(alphabet=st.one_of(char, st.sampled_from(SPECIALS)), min_size=1, max_size=16)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def sigma_literal(value: str) -> str:
    """Sigma notation for the literal ``value``: its backslashes and wildcards escaped."""
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def rule_with(sigma_value: str) -> RuleSet:
    """A UAL rule whose UserId is ``sigma_value``, through YAML and the strict loader."""
    document = yaml.safe_load((REPO / "sigma_rules" / "m365" / "m365_user_added.yml").read_text())
    # Low, not informational: a rule that raises notables (a building block has none).
    document.update(
        id=RULE_ID, name="prop_literal_value", title="Property: a literal value", level="low"
    )
    document["detection"]["selection"]["UserId"] = sigma_value
    text = yaml.safe_dump(document)  # escapes what a plain YAML scalar would fold
    (loaded,) = load_documents(text)
    assert not loaded.duplicates and loaded.value == document
    doc = RuleDoc(Path("prop_literal_value.yml"), loaded.value, {})
    return RuleSet(REPO / "sigma_rules", (doc,))


def compiled(rules: RuleSet, target: str, lists: dict[str, ValueList]) -> str | DacError:
    try:
        return compile_target(rules, target, lists).by_rule[RULE_ID]
    except DacError as exc:
        return exc


def changed(value: str, index: int) -> str:
    """``value`` with the character at ``index`` replaced by one no case folding equates."""
    replacement = "x" if value[index].casefold() != "x" else "y"
    return value[:index] + replacement + value[index + 1 :]


def not_literal(value: str) -> list[str]:
    """Values a query reading ``value`` as a pattern would match: each wildcard-like character
    (Sigma's, SQL LIKE's) expanded or taken as any one character."""
    variants = []
    for index, c in enumerate(value):
        if c in "*%":
            variants += [
                value[:index] + value[index + 1 :],
                value[:index] + "zz" + value[index + 1 :],
            ]
        if c in "?_":
            variants.append(value[:index] + "Z" + value[index + 1 :])
    return [v for v in variants if v.casefold() != value.casefold()]


def matches(engine: str, query: str, value: str, domains: DomainList) -> bool:
    record = add_user(0, value)
    if engine == "eql":
        eql_engine = EqlEngine(domains)
        eql_engine.load_records([record])
        return len(eql_engine.run(query)) == 1
    sql_engine = SqliteEngine(domains)
    sql_engine.load(sigma_rows(record))
    return len(sql_engine.run(query)) == 1


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook(REPO / "playbooks" / "T1585.002.yml")


def check_engines(
    rules: RuleSet, value: str, index: int, lists: dict[str, ValueList], domains: DomainList
) -> None:
    for target, engine in (("elastic", "eql"), ("sqlite", "sql")):
        query = compiled(rules, target, lists)
        if isinstance(query, DacError):
            # Only SQLite refuses, and only a NUL (its query text ends there).
            assert target == "sqlite" and "\x00" in value, query
            assert all(p.rule == RULE_ID for p in query.problems), query
            continue
        assert matches(engine, query, value, domains), (engine, query)
        assert not matches(engine, query, changed(value, index), domains), (engine, query)
        for variant in not_literal(value):
            assert not matches(engine, query, variant, domains), (engine, query, variant)


def check_splunk(
    rules: RuleSet,
    value: str,
    lists: dict[str, ValueList],
    domains: DomainList,
    playbook: Playbook,
) -> None:
    search = compiled(rules, "splunk", lists)
    if isinstance(search, DacError):
        (problem,) = search.problems
        assert problem.rule == RULE_ID and problem.reason.startswith("splunk: UserId value")
        assert "__dac_" in value or re.search(
            r"[*`\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029\x00-\x08\x0e-\x1f\x7f]", value
        )
        return
    doc = rules.docs[0]

    def render(d: RuleDoc) -> tuple[Any, str, str]:
        context = alert_context(rules, d, "splunk")
        text = render_splunk(playbook, context)
        return context, text.description, text.next_steps

    app = make_app(
        rules, {doc.id: search}, render, domains, "0.0.0", 1, lists["threat_intel_ips"], {doc.id: 1}
    )
    conf = conf_environment().get_template("savedsearches.conf.j2").render(app=app)
    parser = conf_parser.TABConfigParser()
    parser.read_string(conf)
    stanza = dict(parser.items(doc.title))
    assert conf_decode(stanza["search"]) == search
    assert search_term(search, "UserId") == value
    (drilldown,) = json.loads(conf_decode(stanza["action.notable.param.drilldown_searches"]))
    # The notable expands $...$ tokens; a literal dollar is doubled.
    assert (
        search_term(drilldown["search"].replace("$$", "\x00"), "UserId").replace("\x00", "$")
        == value
    )


@PROPERTY
@given(text, st.data())
def test_a_literal_value_means_itself(
    lists: dict[str, ValueList],
    domains: DomainList,
    playbook: Playbook,
    value: str,
    data: st.DataObject,
) -> None:
    rules = rule_with(sigma_literal(value))
    index = data.draw(st.integers(0, len(value) - 1))
    check_engines(rules, value, index, lists, domains)
    check_splunk(rules, value, lists, domains, playbook)


# A pattern: literal segments and wildcards; what it must match is one expansion of it.
segments = st.lists(st.one_of(text, st.sampled_from(["*", "?"])), min_size=1, max_size=5)


@PROPERTY
@given(segments, st.data())
def test_a_pattern_matches_what_it_says(
    lists: dict[str, ValueList],
    domains: DomainList,
    parts: list[str],
    data: st.DataObject,
) -> None:
    assume(any(p not in ("*", "?") for p in parts))
    sigma = "".join(p if p in ("*", "?") else sigma_literal(p) for p in parts)
    expansion = "".join(
        data.draw(text) if p == "*" else data.draw(char) if p == "?" else p for p in parts
    )
    regex = "".join(".*" if p == "*" else "." if p == "?" else re.escape(p) for p in parts)
    rules = rule_with(sigma)
    assume("\x00" not in expansion)
    for target, engine in (("elastic", "eql"), ("sqlite", "sql")):
        query = compiled(rules, target, lists)
        if isinstance(query, DacError):
            assert target == "sqlite" and "\x00" in sigma
            continue
        assert matches(engine, query, expansion, domains), (engine, query, expansion)
        index = data.draw(st.integers(0, len(expansion) - 1)) if expansion else None
        if index is not None:
            other = changed(expansion, index)
            expected = re.fullmatch(regex, other, re.IGNORECASE | re.DOTALL) is not None
            if engine == "sql" and not other.isascii():
                continue  # SQLite's LIKE folds ASCII only
            assert matches(engine, query, other, domains) == expected, (engine, query, other)
    spl = compiled(rules, "splunk", lists)
    if isinstance(spl, DacError):
        assert spl.problems[0].rule == RULE_ID
        return
    assert "?" not in parts
    pattern = "".join("*" if p == "*" else p for p in parts)
    assert search_term(spl, "UserId") == pattern


@settings(max_examples=100, deadline=None)
@given(text, st.booleans())
def test_esql_literals_parse_and_read_back(value: str, wildcard: bool) -> None:
    sigma = SigmaString(sigma_literal(value) + ("*" if wildcard else ""))
    literal = esql_string(sigma)
    operator = "LIKE" if wildcard else "=="
    parse_esql(f"FROM logs-* | WHERE `user.id` {operator} {literal}")
    unquoted = re.sub(
        r"\\(.)", lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m[1], m[1]), literal[1:-1]
    )
    if wildcard:
        # The pattern ends in a wildcard: a `*` after an even run of backslashes (each pair
        # is one literal backslash).
        body = unquoted[:-1]
        assert unquoted.endswith("*") and (len(body) - len(body.rstrip("\\"))) % 2 == 0
        unquoted = re.sub(r"\\(.)", r"\1", unquoted[:-1], flags=re.DOTALL)
    assert unquoted == value


def lucene_unescape(term: str) -> str:
    """A Lucene query-string term or phrase as the classic parser reads it: any character
    after a backslash is itself; a phrase is its quoted text."""
    if term.startswith('"'):
        term = term[1:-1]
    return re.sub(r"\\(.)", r"\1", term, flags=re.DOTALL)


@settings(max_examples=100, deadline=None)
@given(text)
def test_lucene_terms_read_back(value: str) -> None:
    """New-terms and indicator-match queries (Lucene): a literal is one term or phrase whose
    text, as the query parser reads it, is the value; whitespace never splits it and an
    operator word is no operator."""
    backend = DacLuceneBackend()
    literal = backend.convert_value_str(SigmaString(sigma_literal(value)), ConversionState())
    phrase = literal.startswith('"') and literal.endswith('"')
    if not phrase:
        # Outside a phrase nothing the parser splits on or reads as syntax stays unescaped.
        bare = re.sub(r"\\.", "", literal, flags=re.DOTALL)
        assert not set(bare) & set(' \t\n\r\u3000+-=&|!(){}[]<>^"~*?:\\/')
        assert literal not in ("AND", "OR", "NOT", "TO")
    assert lucene_unescape(literal) == value
