"""Render the playbook into each alert (Splunk ES, Kibana) and into one page per technique.

Escaping is done by Jinja filters in the templates (playbooks/templates/), applied to every
text value that comes from a rule or the playbook:
- ``splunk``: doubles ``$`` so Splunk never reads rule text as a token; entities are written
  with ``token`` as ``$result.<field>$`` and are never escaped.
- ``md``: backslash-escapes markdown syntax so rule text renders literally in Kibana.
- the HTML page template is autoescaped.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)

from converters.errors import DacError, Problem
from converters.playbook.model import AlertContext, Command, Entity, Playbook

ESCALATION = "escalation"
# Section order in every alert text; escalation rules lead with Tier 2 work.
ORDER = ("fired", "entities", "indicator", "escalation", "l1", "t2", "containment", "fp")
ESCALATION_ORDER = ("t2", "containment", "fired", "entities", "indicator", "escalation", "l1", "fp")

_FIELD_RE = re.compile(r"^[^\s$`]+$")  # a field must fit a Splunk token and a markdown code span
_URL_RE = re.compile(r"^https?://[^\s<>`\"'\\]+$")
# Escaped where markdown would read them: emphasis, code, links, HTML, tables, entities; an
# underscore only at a word's edge (CommonMark never reads one inside a word as emphasis).
_MD_CHARS_RE = re.compile(r"([\\`*\[\]<|~]|&(?=#?\w+;)|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# Block markers, only at a line's start and only where they would open a block: a heading
# (# then a space), a list item (-, + then a space; 1. or 1) then a space), a rule (---), a
# quote (>; elsewhere > is text: only < opens HTML).
_MD_LINE_START_RE = re.compile(
    r"^([ \t]*)(#{1,6}(?=[ \t]|$)|[+-](?=[ \t]|$)|-(?=-[ \t]*-)|>|\d{1,9}[.)](?=[ \t]|$))",
    re.MULTILINE,
)
# What the severity asks of the analyst: the Kibana description's last sentence.
SEVERITY_MEANING = {
    "informational": "Severity informational: a building block that other rules count, with no "
    "action on its own.",
    "low": "Severity low: context for other alerts; review it when time allows.",
    "medium": "Severity medium: triage it with the playbook's L1 steps.",
    "high": "Severity high: triage it now and apply the decision for escalation.",
    "critical": "Severity critical: it meets the decision for escalation, so start with the "
    "Tier 2 actions and containment.",
}
# The notable description says what fired and what it raises; the next steps, what to do.
DESCRIPTION_SECTIONS = ("fired", "entities", "indicator")
SUMMARY_CHARS = 420  # of the rule's description in the Kibana description


@dataclass(frozen=True)
class SplunkText:
    description: str  # action.notable.param.rule_description (plain text)
    next_steps: str  # plain text; the caller wraps it in {"version": 1, "data": ...}


@dataclass(frozen=True)
class ElasticText:
    description: str  # markdown
    note: str  # markdown investigation guide


@dataclass(frozen=True)
class Pages:
    markdown: str
    html: str


def templates_dir(override: Path | None = None) -> Path:
    """The template folder: ``override`` if given, else the repository's playbooks/templates."""
    if override is not None:
        return override
    return Path(__file__).resolve().parents[2] / "playbooks" / "templates"


def splunk_text(value: object) -> str:
    return str(value).replace("$", "$$")


def splunk_token(field: str) -> str:
    return "$result." + field + "$"


def md_text(value: object) -> str:
    """Text that markdown shows as written: marks escaped only where markdown reads them."""
    text = _MD_CHARS_RE.sub(r"\\\1", str(value))
    return _MD_LINE_START_RE.sub(_escape_marker, text)


def _escape_marker(match: re.Match[str]) -> str:
    indent, marker = match.groups()
    if marker[-1] in ".)":  # 1. -> 1\. (a backslash before a digit would show)
        return indent + marker[:-1] + "\\" + marker[-1]
    return indent + "\\" + marker


def summary(description: str, limit: int = SUMMARY_CHARS) -> str:
    """The first sentences of a rule's description, at most two and ``limit`` characters
    (at least the first): what happened and why it matters."""
    from converters.textlint import sentences  # the lint counts sentences the same way

    said = sentences(description)
    kept = said[:1]
    if len(said) > 1 and len(" ".join(said[:2])) <= limit:
        kept = said[:2]
    return " ".join(kept)


def md_url(value: object) -> str:
    """A web address as an autolink; anything else as escaped text."""
    text = str(value)
    return f"<{text}>" if _URL_RE.match(text) else md_text(text)


def is_web_url(value: object) -> bool:
    return bool(_URL_RE.match(str(value)))


def splunk_command(command: Command) -> str:
    """A containment command in a notable: its text escaped, its fields as tokens."""
    return "".join(splunk_token(p.field) if p.field else splunk_text(p.text) for p in command.parts)


def code_command(command: Command) -> str:
    """A containment command in a code block, for a target that cannot fill values in: a
    named VARIABLE where the alert's value goes (command_fields says which value)."""
    return "".join(p.variable if p.field else p.text for p in command.parts)


def command_fields(command: Command) -> str:
    """What each VARIABLE of code_command stands for, in words: "TARGET_OBJECT is the alert's
    target object (`o365.audit.ObjectId`)"."""
    parts = {p.variable: p for p in command.parts if p.field}
    said = {name: p.label.removeprefix("the ").removeprefix("its ") for name, p in parts.items()}
    return "; ".join(
        f"{name} is the alert's {md_text(said[name] or 'value')} (`{p.field}`)"
        for name, p in parts.items()
    )


@functools.cache  # one parsed template set per folder: rendering runs once per rule and alert
def _environment(folder: Path) -> Environment:
    if not folder.is_dir():
        raise DacError([Problem(folder, "the playbook templates folder does not exist")])
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        splunk=splunk_text,
        token=splunk_token,
        md=md_text,
        md_url=md_url,
        splunk_command=splunk_command,
        code_command=code_command,
        command_fields=command_fields,
    )
    env.tests["web_url"] = is_web_url
    return env


def _render(folder: Path | None, name: str, view: dict[str, Any]) -> str:
    root = templates_dir(folder)
    path = root / name
    try:
        return _environment(root).get_template(name).render(view).rstrip()
    except TemplateSyntaxError as exc:
        where = Path(exc.filename) if exc.filename else path
        raise DacError([Problem(where, f"template error: {exc.message}", line=exc.lineno)]) from exc
    except TemplateNotFound as exc:
        raise DacError([Problem(path, "template not found")]) from exc
    except TemplateError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        lines = [f.lineno for f in frames if f.filename == str(path)]
        line = lines[-1] if lines else None
        raise DacError([Problem(path, f"template error: {exc}", line=line)]) from exc


def _paragraphs(text: str) -> str:
    parts = re.split(r"\n[ \t]*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in parts if p.strip())


def _tidy(ctx: AlertContext) -> AlertContext:
    """Whitespace-normalise the rule's text (YAML blocks keep their hard line breaks)."""

    def flat(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(" ".join(v.split()) for v in values)

    problems = [
        Problem(None, f"entity {e.label!r}: field {e.field!r} cannot be a token", rule=ctx.rule_id)
        for e in ctx.entities
        if not _FIELD_RE.match(e.field)
    ]
    if problems:
        raise DacError(problems)
    return dataclasses.replace(
        ctx,
        title=" ".join(ctx.title.split()),
        description=_paragraphs(ctx.description),
        logic=ctx.logic,  # one line already; its quoted values keep their spaces
        data_sources=flat(ctx.data_sources),
        falsepositives=flat(ctx.falsepositives),
        references=flat(ctx.references),
        entities=tuple(Entity(" ".join(e.label.split()), e.field) for e in ctx.entities),
    )


def _rule_view(playbook: Playbook, ctx: AlertContext) -> dict[str, Any]:
    try:
        indicator = playbook.indicator(ctx.indicator)
    except KeyError:
        reason = f"indicator {ctx.indicator!r} has no entry in the playbook"
        raise DacError([Problem(None, reason, rule=ctx.rule_id)]) from None
    escalating = ctx.indicator == ESCALATION
    tidy = _tidy(ctx)
    return {
        "rule": tidy,
        "summary": summary(tidy.description),
        "severity_meaning": SEVERITY_MEANING.get(ctx.level, f"Severity {ctx.level}."),
        "description_sections": DESCRIPTION_SECTIONS,
        "indicator": indicator,
        "questions": playbook.questions_for(ctx.indicator),
        "escalating": escalating,
        "order": ESCALATION_ORDER if escalating else ORDER,
    }


def _view(playbook: Playbook, ctx: AlertContext) -> dict[str, Any]:
    return {"playbook": playbook, "technique": playbook.technique, **_rule_view(playbook, ctx)}


def render_splunk(
    playbook: Playbook, ctx: AlertContext, *, templates: Path | None = None
) -> SplunkText:
    view = _view(playbook, ctx)
    return SplunkText(
        description=_render(templates, "splunk_description.txt.j2", view),
        next_steps=_render(templates, "splunk_next_steps.txt.j2", view),
    )


def render_elastic(
    playbook: Playbook, ctx: AlertContext, *, templates: Path | None = None, filled: bool = False
) -> ElasticText:
    """``filled``: the caller puts the alert's values into the commands (dac hunt)."""
    view = {**_view(playbook, ctx), "filled": filled}
    return ElasticText(
        description=_render(templates, "elastic_description.md.j2", view),
        note=_render(templates, "elastic_note.md.j2", view),
    )


def render_pages(
    playbook: Playbook, rules: Sequence[AlertContext], *, templates: Path | None = None
) -> Pages:
    """One page per technique: the playbook, then every rule with its own entities."""
    views = [_rule_view(playbook, ctx) for ctx in rules]
    view = {"playbook": playbook, "technique": playbook.technique, "rules": views}
    return Pages(
        markdown=_render(templates, "page.md.j2", view) + "\n",
        html=_render(templates, "page.html.j2", view) + "\n",
    )
