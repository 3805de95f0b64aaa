"""The build: Sigma rules -> dist/ (Splunk app, Kibana rules, enrichment, playbook pages,
manifest). Everything is produced in a temporary folder beside dist/ and swapped in only when
all of it succeeded, so a failed build leaves the previous dist/ as it was; only a folder a
previous build wrote, or an empty one, is replaced (converters.writers.outdir)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path

from converters import attack
from converters.alerts import alert_context
from converters.compile import Queries, compile_target
from converters.coverage import COVERAGE_FILE, make_coverage, navigator_layer
from converters.domains import DomainList, load_domains
from converters.errors import DacError, Problem
from converters.incidents import check_incidents
from converters.loading.rules import RuleDoc, RuleSet, load_rules
from converters.playbook.model import AlertContext, Playbook, load_playbook
from converters.playbook.render import render_elastic, render_pages, render_splunk
from converters.targets.enrichment import make_enrichment
from converters.targets.kibana import kibana_rule
from converters.targets.splunk import make_app
from converters.valuelists import load_value_lists
from converters.versions import LOCK_FILE, read_lock, versions
from converters.writers.conf import ConfValueError
from converters.writers.coverage import write_coverage
from converters.writers.elastic import write_enrichment, write_rules
from converters.writers.outdir import MANIFEST, check_out, listed_files, staging_for, swap_in
from converters.writers.sigma import write_sigma
from converters.writers.splunk import write_app

PLAYBOOK_FILE = Path("playbooks/T1585.002.yml")


@dataclass(frozen=True)
class Project:
    """Where the inputs live; defaults are the repository layout."""

    root: Path
    rules: Path
    playbook: Path
    templates: Path
    # Ship every search and rule disabled, as Splunk's own content does (`dac build
    # --disabled`); by default they ship enabled, building blocks excepted.
    ship_disabled: bool = False

    @classmethod
    def at(cls, root: Path, rules: Path | None = None, ship_disabled: bool = False) -> Project:
        return cls(
            root,
            rules or root / "sigma_rules",
            root / PLAYBOOK_FILE,
            root / "playbooks" / "templates",
            ship_disabled,
        )


@dataclass(frozen=True)
class Inputs:
    ruleset: RuleSet
    playbook: Playbook
    domains: DomainList
    queries: dict[str, Queries]  # by target


def load_inputs(project: Project, targets: tuple[str, ...] = ("splunk", "elastic")) -> Inputs:
    """Everything `dac validate` checks: rules, playbook, lists, and compilation per target."""
    attack.configure_pysigma_offline()
    problems: list[Problem] = []
    ruleset = load_rules(project.rules)
    playbook = load_playbook(project.playbook)
    domains = load_domains(project.root)
    problems.extend(check_incidents(ruleset))
    queries: dict[str, Queries] = {}
    for target in targets:
        try:
            queries[target] = compile_target(ruleset, target)
        except DacError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DacError(problems)
    return Inputs(ruleset, playbook, domains, queries)


def _text_problem(doc: RuleDoc, target: str, exc: Exception) -> DacError:
    return DacError([Problem(doc.path, f"{target}: playbook text: {exc}", rule=doc.id)])


def _epoch(ruleset: RuleSet) -> int:
    """A fixed archive time from the rules' own dates, so archives are byte-identical."""
    dates = [str(d.document.get("modified") or d.document["date"]) for d in ruleset.docs]
    newest = max(dates)
    return int(datetime.fromisoformat(newest).replace(tzinfo=UTC).timestamp())


def _content_digest(ruleset: RuleSet, playbook_path: Path) -> str:
    digest = hashlib.sha256()
    for doc in sorted(ruleset.docs, key=lambda d: d.id):
        digest.update(doc.content_hash.encode())
    digest.update(playbook_path.read_bytes())
    return digest.hexdigest()


def build(project: Project, out: Path, now: Callable[[], datetime] | None = None) -> Path:
    out = check_out(
        out,
        protected=(project.root, project.rules, project.playbook, project.templates),
        sources=(project.rules, project.root / ".git"),
    )
    inputs = load_inputs(project)
    rule_versions = versions(inputs.ruleset, read_lock(project.root / LOCK_FILE))
    with staging_for(out) as staging:
        _write_all(project, inputs, rule_versions, staging, now)
        swap_in(staging, out)
    return out


def _write_all(
    project: Project,
    inputs: Inputs,
    rule_versions: dict[str, int],
    staging: Path,
    now: Callable[[], datetime] | None,
) -> None:
    ruleset, playbook = inputs.ruleset, inputs.playbook
    app_version = package_version("dac-t1585")
    digest = _content_digest(ruleset, project.playbook)

    def splunk_text(doc: RuleDoc) -> tuple[AlertContext, str, str]:
        context = alert_context(ruleset, doc, "splunk")
        text = render_splunk(playbook, context, templates=project.templates)
        return context, text.description, text.next_steps

    try:
        app = make_app(
            ruleset,
            inputs.queries["splunk"].by_rule,
            splunk_text,
            inputs.domains,
            app_version,
            int(digest[:7], 16),
            load_value_lists(project.root)["threat_intel_ips"],
            rule_versions,
            project.ship_disabled,
        )
        write_app(app, staging / "splunk", _epoch(ruleset))
    except ConfValueError as exc:
        raise DacError([Problem(project.playbook, f"splunk: {exc}")]) from exc

    kibana_rules = []
    problems: list[Problem] = []
    elastic = inputs.queries["elastic"]
    for doc in (d for d in ruleset.docs if d.id in elastic.by_rule):
        text = render_elastic(
            playbook, alert_context(ruleset, doc, "elastic"), templates=project.templates
        )
        try:
            kibana_rules.append(
                kibana_rule(
                    ruleset,
                    doc,
                    elastic.by_rule[doc.id],
                    elastic.languages[doc.id],
                    text.description,
                    text.note,
                    rule_versions[doc.id],
                    enabled=not project.ship_disabled,
                )
            )
        except DacError as exc:  # every rule's problems at once, not the first rule's
            problems.extend(exc.problems)
    if problems:
        raise DacError(problems)
    write_rules(kibana_rules, staging / "elastic" / "rules.ndjson")
    write_enrichment(
        make_enrichment(inputs.domains), inputs.domains, staging / "elastic" / "enrichment"
    )

    contexts = [
        alert_context(ruleset, d, "page") for d in sorted(ruleset.docs, key=lambda d: d.title)
    ]
    pages = render_pages(playbook, contexts, templates=project.templates)
    (staging / "playbooks").mkdir()
    technique = playbook.technique.id
    (staging / "playbooks" / f"{technique}.md").write_text(pages.markdown, encoding="utf-8")
    (staging / "playbooks" / f"{technique}.html").write_text(pages.html, encoding="utf-8")

    compiled = {t: set(q.by_rule) for t, q in inputs.queries.items()}
    coverage = make_coverage(project.root / COVERAGE_FILE, playbook, ruleset, compiled)
    write_coverage(coverage, navigator_layer(ruleset), staging)
    write_sigma(ruleset, staging / "sigma")

    built_at = (now or (lambda: datetime.now(UTC)))()
    manifest = {
        "generator": f"dac-t1585 {app_version}",
        "built_at": _built_at(built_at),
        "content_digest": digest,
        "attack_version": attack.load().version,
        "disposable_domains": {
            "package_version": inputs.domains.package_version,
            "domains": len(inputs.domains.domains),
            "allowlisted": len(inputs.domains.allowlisted),
        },
        "targets": {
            "splunk": {
                "app": f"splunk/{app.app_id}",
                "package": f"splunk/{app.app_id}-{app.version}.tgz",
            },
            "elastic": {"rules": "elastic/rules.ndjson", "enrichment": "elastic/enrichment/"},
            "playbooks": {
                "markdown": f"playbooks/{technique}.md",
                "html": f"playbooks/{technique}.html",
            },
            "coverage": {"table": "coverage.md", "navigator_layer": "attack-navigator-layer.json"},
            "sigma": "sigma/",
        },
        "rules": [
            {
                "id": doc.id,
                "name": doc.name,
                "title": doc.title,
                "indicator": doc.indicator,
                "level": doc.level,
                "version": rule_versions[doc.id],
                "hash": doc.content_hash,
                "source": str(doc.path.relative_to(project.root))
                if doc.path.is_relative_to(project.root)
                else str(doc.path),
                "targets": [
                    t for t in ("splunk", "elastic") if doc.id in inputs.queries[t].by_rule
                ],
                "skipped_targets": {
                    t: q.skipped[doc.id]
                    for t, q in sorted(inputs.queries.items())
                    if doc.id in q.skipped
                },
            }
            for doc in sorted(ruleset.docs, key=lambda d: d.id)
        ],
    }
    # The files this build wrote: what a later build may replace (converters.writers.outdir).
    manifest["files"] = listed_files(staging)
    (staging / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _built_at(moment: datetime) -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        moment = datetime.fromtimestamp(int(epoch), UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
