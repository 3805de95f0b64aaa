"""The text lint: every text the build and the hunt write for a person, read as that person
would, and every query, read for values that stand in for nothing.

The generators are meant to write sentences; this catches what slips through templates: Sigma
syntax (selection names, modifiers, ``%placeholder%``, ``condition:``), doubled punctuation
and repeated phrases, unrendered Jinja and ``<field.name>`` placeholders, stand-in values,
markdown escapes that show as stray backslashes, over-long Kibana descriptions, and a Splunk
notable description that repeats its next steps. `dac build` does not depend on it; tests
(tests/test_text_lint.py) run it over a fresh dist/ and hunt reports.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from converters.deploy.dist import parse_conf

Markup = Literal["plain", "markdown", "html"]

# Values that stood in for an empty list once: a query that holds one tests for nothing real.
STAND_INS = ("dac-empty-list", "255.255.255.255/32")
KIBANA_DESCRIPTION_SENTENCES = 3
KIBANA_DESCRIPTION_CHARS = 600

_MODIFIERS = (
    "contains|startswith|endswith|expand|re|cidr|all|base64|base64offset|windash|exists|"
    "fieldref|gt|gte|lt|lte|wide|utf16|utf16le|utf16be|cased"
)
_SIGMA = (
    re.compile(rf"[\w.\-]\|(?:{_MODIFIERS})\b"),  # field|modifier
    re.compile(r"%[A-Za-z_]\w*%"),  # %placeholder%
    re.compile(r"\bcondition\s*:"),
    re.compile(r"\bselection\w*\b", re.IGNORECASE),
    re.compile(r"\b(?:1|all|any) of \w*\*"),  # 1 of selection_*
)
_JINJA = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
# <source.user.email>, <field>, <Parameters{}.Value>: a value the text should have filled in.
_FIELD_PLACEHOLDER = re.compile(r"<[A-Za-z_][\w.{}\-]*>")
_LEFTOVER_TOKENS = re.compile(r"\$result\.[\w.{}]+\$|dac\.hunt\.(?:entity|answer)\.\d+")
# A run of sentence punctuation where one mark belongs ("user..", ":.", ", ,"), at a word's
# end: addresses (2001:db8::1) and versions keep their marks inside a token.
_DOUBLED = re.compile(r"(?:[.,;:!?]{2,}|[,;:]\s+[.,;:])(?=\s|$|[\"')\]*])")
_ELLIPSIS = re.compile(r"(?<!\.)\.\.\.(?!\.)")
_REPEATED = re.compile(r"\b(\w+(?:[ \t]+\w+)+?)[^\w\n]{0,3}[ \t]+\1\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s+[A-Z0-9*\"'(`]|\s*$)")
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_AUTOLINK = re.compile(r"<(?:https?|mailto):[^>\s]*>")
_URL = re.compile(r"\bhttps?://\S+")
_MD_ESCAPE = re.compile(r"\\(.)")
_HTML_DROP = re.compile(r"<(style|script)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_HTML_CODE = re.compile(r"<(code|pre)\b[^>]*>.*?</\1>", re.DOTALL | re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]+>")
# What code and links read as in prose: a word, so that "Rule: `x`." keeps its shape.
_CODE = "code"


@dataclass(frozen=True)
class Finding:
    where: str  # the file, and inside it the rule and key
    check: str  # sigma-syntax, doubled-punctuation, repeated-phrase, placeholder, ...
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.check}: {self.excerpt!r}"


def _excerpt(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 30) : end + 30].split())


def _find(pattern: re.Pattern[str], text: str, where: str, check: str) -> list[Finding]:
    return [
        Finding(where, check, _excerpt(text, m.start(), m.end())) for m in pattern.finditer(text)
    ]


def _markdown_views(text: str) -> tuple[str, str]:
    """(all the text with markdown escapes read, the prose alone: code and links removed)."""
    read = _MD_ESCAPE.sub(r"\1", text)
    prose = _CODE_SPAN.sub(_CODE, _FENCE.sub("\n", text))
    prose = _MD_ESCAPE.sub(r"\1", _AUTOLINK.sub(_CODE, prose))
    return read, prose


def _html_views(text: str) -> tuple[str, str]:
    body = _HTML_DROP.sub(" ", text)
    read = html.unescape(_HTML_TAG.sub("\n", body))
    prose = html.unescape(_HTML_TAG.sub("\n", _HTML_CODE.sub(_CODE, body)))
    return read, prose


def _stray_escapes(text: str, where: str) -> list[Finding]:
    """Markdown escapes that show or that nothing needed: a backslash before a letter, digit or
    space is printed as is; ``\\_`` inside a word and ``\\-`` or ``\\.`` mid-line escape
    nothing (CommonMark reads them as text there)."""
    prose = _CODE_SPAN.sub(" ", _FENCE.sub("\n", text))
    found = []
    for m in _MD_ESCAPE.finditer(prose):
        char, before = m.group(1), prose[: m.start()]
        after = prose[m.end() : m.end() + 1]
        line_start = not before.rstrip(" \t").split("\n")[-1].strip("-*+0123456789.) \t")
        if (
            char.isalnum()
            or char in " \t"
            or (char == "_" and before[-1:].isalnum() and after.isalnum())
            or (char in "-.+" and not line_start)
        ):
            found.append(Finding(where, "stray-escape", _excerpt(prose, m.start(), m.end())))
    return found


def sentences(text: str) -> list[str]:
    """The sentences of a short prose text (markdown emphasis read as text)."""
    flat = " ".join(text.replace("**", "").split())
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(flat):
        parts.append(flat[start : m.end()].strip())
        start = m.end()
    if flat[start:].strip():
        parts.append(flat[start:].strip())
    return [p for p in parts if p]


def lint_text(
    text: str,
    where: str,
    *,
    markup: Markup = "plain",
    splunk_tokens: bool = False,
    max_sentences: int | None = None,
    max_chars: int | None = None,
) -> list[Finding]:
    """Every check on one text. ``splunk_tokens``: ``$result.x$`` is meant (a notable)."""
    if markup == "markdown":
        read, prose = _markdown_views(text)
    elif markup == "html":
        read, prose = _html_views(text)
    else:
        read, prose = text, text
    prose = _URL.sub(_CODE, prose)
    found: list[Finding] = []
    for pattern in _SIGMA:
        found += _find(pattern, read, where, "sigma-syntax")
    found += _find(_JINJA, read, where, "unrendered-template")
    found += _find(_FIELD_PLACEHOLDER, _AUTOLINK.sub(" ", read), where, "placeholder")
    if not splunk_tokens:
        found += _find(_LEFTOVER_TOKENS, read, where, "placeholder")
    found += stand_ins(read, where)
    found += [
        Finding(where, "doubled-punctuation", _excerpt(prose, m.start(), m.end()))
        for m in _DOUBLED.finditer(prose)
        if not _ELLIPSIS.fullmatch(m.group(0))
    ]
    found += _find(_REPEATED, prose, where, "repeated-phrase")
    if markup == "markdown":
        found += _stray_escapes(text, where)
    if max_sentences is not None or max_chars is not None:
        count = len(sentences(prose))
        if max_sentences is not None and count > max_sentences:
            found.append(Finding(where, "too-long", f"{count} sentences (at most {max_sentences})"))
        if max_chars is not None and len(text) > max_chars:
            found.append(
                Finding(where, "too-long", f"{len(text)} characters (at most {max_chars})")
            )
    return found


def stand_ins(text: str, where: str) -> list[Finding]:
    return [
        Finding(where, "stand-in-value", _excerpt(text, m.start(), m.end()))
        for value in STAND_INS
        for m in re.finditer(re.escape(value), text)
    ]


# What an empty list would leave behind if it emitted a clause: "not ()", "in ()", "OR ()".
_EMPTY_CLAUSE = re.compile(r"(?i)\b(?:not|and|or|in|where)\s*\(\s*\)")


def lint_query(query: str, where: str) -> list[Finding]:
    """A query holds no stand-in value and no empty clause: an empty list emits nothing."""
    return stand_ins(query, where) + _find(_EMPTY_CLAUSE, query, where, "empty-clause")


def repeated_lines(first: str, second: str, where: str, min_chars: int = 40) -> list[Finding]:
    """Lines of prose that two texts meant to complement each other both carry."""
    seen = {" ".join(line.split()) for line in first.splitlines()}
    return [
        Finding(where, "repeated-text", line.strip()[:80])
        for line in second.splitlines()
        if len(line.strip()) >= min_chars and " ".join(line.split()) in seen
    ]


_SPLUNK_TEXT_KEYS = ("action.notable.param.rule_description", "description")
_SPLUNK_QUERY_KEYS = ("search", "definition")


def lint_splunk(conf: Path) -> list[Finding]:
    found: list[Finding] = []
    for stanza in parse_conf(conf):
        where = f"{conf.name} [{stanza.name}]"
        settings = stanza.settings
        for key in _SPLUNK_TEXT_KEYS:
            if key in settings:
                found += lint_text(settings[key], f"{where} {key}", splunk_tokens=True)
        for key in _SPLUNK_QUERY_KEYS:
            if key in settings:
                found += lint_query(settings[key], f"{where} {key}")
        steps = ""
        if "action.notable.param.next_steps" in settings:
            steps = str(json.loads(settings["action.notable.param.next_steps"])["data"])
            found += lint_text(steps, f"{where} next_steps", splunk_tokens=True)
        description = settings.get("action.notable.param.rule_description", "")
        found += repeated_lines(description, steps, f"{where} next_steps")
        for n, drill in enumerate(
            json.loads(settings.get("action.notable.param.drilldown_searches", "[]"))
        ):
            found += lint_text(
                str(drill["name"]), f"{where} drilldown {n} name", splunk_tokens=True
            )
            found += lint_query(str(drill["search"]), f"{where} drilldown {n} search")
    return found


def lint_kibana_rule(rule: dict[str, Any], where: str) -> list[Finding]:
    found = lint_text(
        str(rule.get("description", "")),
        f"{where} description",
        markup="markdown",
        max_sentences=KIBANA_DESCRIPTION_SENTENCES,
        max_chars=KIBANA_DESCRIPTION_CHARS,
    )
    for key in ("note", "setup"):
        found += lint_text(str(rule.get(key, "")), f"{where} {key}", markup="markdown")
    for key in ("query", "threat_query"):
        if key in rule:
            found += lint_query(str(rule[key]), f"{where} {key}")
    return found


def lint_kibana(ndjson: Path) -> list[Finding]:
    found: list[Finding] = []
    for line in ndjson.read_text(encoding="utf-8").splitlines():
        rule = json.loads(line)
        if isinstance(rule, dict) and "rule_id" in rule:
            found += lint_kibana_rule(rule, f"{ndjson.name} [{rule.get('name')}]")
    return found


def lint_file(path: Path) -> list[Finding]:
    """One generated text file by its kind (a playbook page, a hunt report, alerts as JSON)."""
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".md":
        return lint_text(text, str(path), markup="markdown")
    if suffix in (".html", ".htm"):
        return lint_text(text, str(path), markup="html")
    if suffix in (".json", ".jsonl", ".ndjson"):
        found: list[Finding] = []
        try:  # one document (dac hunt --json), else one per line
            documents = [json.loads(text)]
        except ValueError:
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        for n, document in enumerate(documents):
            for key, value in _playbooks(document):
                found += lint_text(value, f"{path} #{n} {key}", markup="markdown")
        return found
    return lint_text(text, str(path))


def _playbooks(node: object, key: str = "") -> Iterable[tuple[str, str]]:
    """The playbook texts inside a hunt's JSON (the rest is log data, not our writing)."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _playbooks(value, str(name))
    elif isinstance(node, list):
        for item in node:
            yield from _playbooks(item, key)
    elif isinstance(node, str) and key == "playbook":
        yield key, node


def lint_dist(dist: Path) -> list[Finding]:
    """Every text (and query) a build wrote into ``dist``."""
    found: list[Finding] = []
    for conf in sorted(dist.glob("splunk/*/default/savedsearches.conf")):
        found += lint_splunk(conf)
    for conf in sorted(dist.glob("splunk/*/default/macros.conf")):
        found += [
            f
            for s in parse_conf(conf)
            for f in lint_query(s.settings.get("definition", ""), f"{conf.name} [{s.name}]")
        ]
    for ndjson in sorted(dist.glob("elastic/rules.ndjson")):
        found += lint_kibana(ndjson)
    for page in sorted(dist.glob("playbooks/*")):
        found += lint_file(page)
    return found
