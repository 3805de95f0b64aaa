"""What a hunt writes: one JSON object per alert (``--out``), and the analyst report
(``--report``, HTML or markdown) with the alerts grouped by the escalation decision."""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from converters.hunt.episodes import incident_fields, incidents
from converters.hunt.playbook import (
    HuntEntity,
    RuleGuide,
    alert_playbook,
    code,
    entity_values,
    rule_guide,
)
from converters.hunt.run import HuntAlert, HuntResult
from converters.hunt.values import FieldValues
from converters.loading.rules import RuleDoc, RuleSet
from converters.loading.schema import LEVELS
from converters.playbook.model import Playbook
from converters.playbook.render import ESCALATION, md_text
from converters.textsafe import json_safe, visible

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_SUFFIXES = {".html": "report.html.j2", ".htm": "report.html.j2", ".md": "report.md.j2"}
MAX_EVIDENCE_SHOWN = 25  # per alert in the report; the JSONL lists all of it


@dataclass(frozen=True)
class Decision:
    key: str
    title: str
    text: str


# The playbook's decision for escalation, as it applies to each alert: a rule implementing
# the decision itself (indicator "escalation", which the renderer leads with Tier 2 work)
# escalates; an informational rule is a building block, context for the others.
DECISIONS = (
    Decision(
        "escalate",
        "Escalate to Tier 2",
        "These alerts meet the playbook's decision for escalation: start with the T2 actions "
        "and containment.",
    ),
    Decision(
        "triage",
        "Triage (L1), then apply the decision for escalation",
        "Answer the questions and work through the L1 steps of each alert's playbook; "
        "escalate when the decision for escalation is met.",
    ),
    Decision(
        "context",
        "Context: informational building blocks",
        "Single events that correlations count (an account created, a user added). No action "
        "on their own; read them with the alerts above.",
    ),
)


def decision(alert: HuntAlert) -> Decision:
    if alert.doc.indicator == ESCALATION:
        return DECISIONS[0]
    return DECISIONS[2] if alert.doc.level == "informational" else DECISIONS[1]


@dataclass(frozen=True)
class Reported:
    """One alert as written: its JSON object, decision and entities for the report."""

    alert: HuntAlert
    decision: Decision
    # label, fields, values; key entities (the tested addresses) first
    entities: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    guide: RuleGuide  # the rule's playbook, rendered once, filled per alert
    paths: Sequence[str]  # the hunt's files, by index
    technique: str

    @property
    def window_end(self) -> str | None:
        return _utc(self.alert.hit.window_end)

    @property
    def first_evidence(self) -> tuple[str, int] | None:
        """The file and line of the alert's first event."""
        first = self.alert.evidence[0] if self.alert.evidence else None
        return None if first is None else (self.paths[first.file], first.line)

    @property
    def record(self) -> dict[str, Any]:
        """The alert's JSON object, built when asked: written once, it is not held, so that
        100,000 alerts' playbook texts are never in memory at once."""
        alert = self.alert
        # Each field's values read once, for "distinct" and for the playbook.
        values = FieldValues(alert.evidence)
        return {
            "rule_id": alert.doc.id,
            "rule_title": alert.doc.title,
            "indicator": alert.doc.indicator,
            "level": alert.doc.level,
            "technique": self.technique,
            "group": dict(alert.hit.group),
            "window_start": _utc(alert.hit.window_start),
            "window_end": self.window_end,
            "event_count": len(alert.evidence),
            **incident_fields(alert, values),
            "evidence": [
                {"id": e.event_id, "file": self.paths[e.file], "line": e.line}
                for e in alert.evidence
            ],
            "playbook": alert_playbook(
                self.guide,
                alert.evidence,
                (_utc(alert.hit.window_start) or "", _utc(alert.hit.window_end) or ""),
                values,
            ),
        }


def reported_incidents(result: HuntResult, ruleset: RuleSet, playbook: Playbook) -> list[Reported]:
    """What `dac hunt` reports: the engine's alerts made one per incident
    (converters.hunt.episodes; ``result.alerts`` becomes those), each with its playbook."""
    result.alerts = incidents(result.alerts, ruleset)
    return reported_alerts(result, ruleset, playbook)


def reported_alerts(result: HuntResult, ruleset: RuleSet, playbook: Playbook) -> list[Reported]:
    guides: dict[str, tuple[RuleGuide, list[HuntEntity]]] = {}
    paths = [str(f.path) for f in result.files]
    technique = playbook.technique.id
    reported = []
    for alert in result.alerts:
        if alert.doc.id not in guides:
            guide = rule_guide(ruleset, playbook, alert.doc)
            shown = sorted((e for e in guide.entities if not e.hidden), key=lambda e: not e.key)
            guides[alert.doc.id] = guide, shown
        guide, ordered = guides[alert.doc.id]
        entities = tuple(
            (e.label, e.fields, values)
            for e in ordered
            for values in [tuple(entity_values(e, alert.evidence))]
            if values or not e.optional
        )
        reported.append(Reported(alert, decision(alert), entities, guide, paths, technique))
    return reported


def _utc(timestamp: str | None) -> str | None:
    return None if timestamp is None else timestamp + "Z"


def write_jsonl(path: Path, alerts: Sequence[Reported]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for alert in alerts:
            out.write(json_line(alert.record) + "\n")


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps's, made once, not per record


def json_line(record: dict[str, Any]) -> str:
    """``json_safe(json.dumps(record, ensure_ascii=False))`` (exact values, but no raw C1 or
    bidirectional control for a `cat` of the file), the same text, cheaper: a last value
    that is text (the playbook, most of a record) is encoded by orjson, which escapes a
    string as json does (tests/test_hunt_output.py holds it to that)."""
    if not record:
        return "{}"
    key, last = next(reversed(record.items()))
    if not isinstance(key, str) or not isinstance(last, str):
        return _safe(_ENCODER.encode(record))
    try:
        text = orjson.dumps(last).decode()
    except orjson.JSONEncodeError:  # a lone surrogate, which orjson refuses and json writes
        return _safe(_ENCODER.encode(record))
    rest = dict(record)
    del rest[key]
    start = _ENCODER.encode(rest)[:-1] + ", " if rest else "{"
    return _safe(f"{start}{_ENCODER.encode(key)}: {text}}}")


def _safe(dumped: str) -> str:
    # Of the characters json_safe escapes, only DEL is ASCII (isascii reads a flag).
    return dumped if dumped.isascii() and "\x7f" not in dumped else json_safe(dumped)


def at_least(alerts: Sequence[Reported], level: str) -> list[Reported]:
    floor = LEVELS.index(level)
    return [a for a in alerts if LEVELS.index(a.alert.doc.level) >= floor]


def source_notes(result: HuntResult, ruleset: RuleSet) -> list[str]:
    """One line per data source read that no (selected) rule reads: never silently unused."""
    events: Counter[str] = Counter()
    for report in result.files:
        events.update(report.sources)
    catalog = _sources(ruleset, ruleset.docs)
    selected = _sources(ruleset, result.rules)
    notes = []
    for source, count in sorted(events.items()):
        if source not in catalog:
            notes.append(f"{source}: {count} events, no rule reads this source yet")
        elif source not in selected:
            notes.append(f"{source}: {count} events, no selected rule reads this source")
    return notes


def _sources(ruleset: RuleSet, docs: Sequence[RuleDoc]) -> set[str]:
    return {s.name for doc in docs for s in ruleset.sources_of(doc)}


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    # Imported here: only a report renders markdown, and markdown_it is one of the larger
    # imports of a hunt's start-up.
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": False})
    # A value in a table cell or a list item: one line, markdown characters escaped.
    env.filters["md"] = lambda value: md_text(visible(str(value)))
    # A log value as a code span: as it is, whatever it holds (backticks, markdown marks).
    env.filters["code"] = lambda value: code(str(value))
    # Raw HTML in the markdown is disabled, so its rendering is safe to embed as is.
    env.filters["markdown"] = lambda text: Markup(markdown.render(str(text)))
    env.filters["demote"] = lambda text: re.sub(r"^(#+) ", r"##\1 ", str(text), flags=re.M)
    return env


def _shown(value: Any) -> str:
    """Every ``{{ }}`` of the report templates: control and bidirectional characters escaped
    (line breaks kept for the playbook), whatever the value (a path, markup...)."""
    if isinstance(value, Markup):
        return Markup(visible(str(value), multiline=True))
    return visible(str(value), multiline=True)


def render_report(
    kind: str,
    result: HuntResult,
    alerts: Sequence[Reported],
    playbook: Playbook,
    notes: Sequence[str] = (),
) -> str:
    """``kind``: a key of REPORT_SUFFIXES."""
    # Within a decision, the most severe first, then in time order.
    ordered = sorted(alerts, key=lambda a: -LEVELS.index(a.alert.doc.level))
    groups = [(d, [a for a in ordered if a.decision == d]) for d in DECISIONS]
    view = {
        "technique": playbook.technique,
        "result": result,
        "notes": notes,
        "groups": groups,
        "total": len(alerts),
        "max_evidence": MAX_EVIDENCE_SHOWN,
    }
    return _environment().get_template(REPORT_SUFFIXES[kind]).render(view).rstrip() + "\n"


def write_report(
    path: Path,
    result: HuntResult,
    alerts: Sequence[Reported],
    playbook: Playbook,
    notes: Sequence[str] = (),
) -> None:
    text = render_report(path.suffix.lower(), result, alerts, playbook, notes)
    path.write_text(text, encoding="utf-8")
