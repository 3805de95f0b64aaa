"""`dac show RULE`: what one rule becomes in each target, for review: the query as the build
writes it and the alert text an analyst reads (Splunk notable description and next steps,
Kibana description and investigation guide), from the same compile and render functions as
`dac build`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from converters.alerts import alert_context
from converters.build import Project, load_inputs
from converters.errors import DacError, Problem
from converters.loading.rules import RuleDoc, RuleSet
from converters.playbook.render import render_elastic, render_splunk

TARGETS = ("splunk", "elastic")
LANGUAGES = {
    "spl": "SPL (savedsearches.conf search)",
    "eql": "EQL (Kibana eql rule)",
    "esql": "ES|QL (Kibana esql rule)",
    # converters.compile: Lucene serves new-terms and indicator-match rules.
    "lucene": "Lucene (Kibana new_terms or threat_match rule)",
}


@dataclass(frozen=True)
class TargetView:
    """One target's query and alert texts, or why the rule skips the target."""

    target: str
    language: str | None = None
    query: str | None = None
    skipped: str | None = None
    texts: tuple[tuple[str, str], ...] = ()


def find_rule(ruleset: RuleSet, ref: str) -> RuleDoc:
    """A rule by name, id or file."""
    for doc in ruleset.docs:
        if ref in (doc.name, doc.id):
            return doc
    wanted = Path(ref).resolve()
    for doc in ruleset.docs:
        if doc.path.resolve() == wanted:
            return doc
    raise DacError([Problem(ruleset.root, f"no rule named {ref!r} (a name, an id or a file)")])


def show(project: Project, ref: str, targets: tuple[str, ...] = TARGETS) -> tuple[
    RuleDoc, list[TargetView]
]:  # fmt: skip
    inputs = load_inputs(project, targets)
    ruleset, playbook = inputs.ruleset, inputs.playbook
    doc = find_rule(ruleset, ref)
    views: list[TargetView] = []
    texts: tuple[tuple[str, str], ...]
    for target in targets:
        queries = inputs.queries[target]
        if doc.id not in queries.by_rule:
            reason = queries.skipped.get(doc.id, "not compiled for this target")
            views.append(TargetView(target, skipped=reason))
            continue
        context = alert_context(ruleset, doc, target)
        if target == "splunk" and doc.building_block:
            # Shipped without a notable or risk action: there is no notable text to show.
            readers = sorted(
                d.name for d in ruleset.docs if d is not doc and doc in ruleset.base_rules_of(d)
            )
            texts = (("notable", _building_block_note(readers)),)
            language = "spl"
        elif target == "splunk":
            splunk = render_splunk(playbook, context, templates=project.templates)
            texts = (
                ("notable description", splunk.description),
                ("next steps", splunk.next_steps),
            )
            language = "spl"
        else:
            elastic = render_elastic(playbook, context, templates=project.templates)
            texts = (("description", elastic.description), ("investigation guide", elastic.note))
            language = queries.languages[doc.id]
        views.append(TargetView(target, language, queries.by_rule[doc.id], texts=texts))
    return doc, views


def _building_block_note(readers: list[str]) -> str:
    read_by = f" It is read by: {', '.join(readers)}." if readers else ""
    return f"None: a building block raises no notable or risk event.{read_by}"
