"""`dac new` and `dac show`: start a rule, review what a rule becomes."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from converters.authoring.new import CORRELATIONS, Request, create
from converters.authoring.show import LANGUAGES, TARGETS, TargetView
from converters.authoring.show import show as show_rule
from converters.authoring.stubs import source_names
from converters.build import Project
from converters.cli_options import option, root_option, rules_option
from converters.cli_output import out, print_json, print_problems, problem_json
from converters.errors import DacError
from converters.loading.rules import RuleDoc
from converters.loading.schema import INDICATORS, LEVELS
from converters.textsafe import visible


@click.command()
@click.argument("source", type=click.Choice(source_names()))
@click.argument("name")
@root_option
@rules_option
@option("--title", default=None, help="The rule's title.  [default: NAME in words, TODO]")
@option(
    "--indicator",
    type=click.Choice(INDICATORS),
    default=None,
    help="The playbook indicator.  [default: the source's most common one, TODO]",
)
@option("--level", type=click.Choice(LEVELS), default=None, help="[default: medium, TODO]")
@option(
    "--correlation",
    type=click.Choice(CORRELATIONS),
    default=None,
    help="Write a correlation of the --of rules, with its entry in thresholds.yml.",
)
@option("--of", "of", multiple=True, metavar="RULE", help="A rule the correlation counts.")
def new(
    source: str,
    name: str,
    root: Path,
    rules: Path | None,
    title: str | None,
    indicator: str | None,
    level: str | None,
    correlation: str | None,
    of: tuple[str, ...],
) -> None:
    """Start a rule NAME on data source SOURCE: sigma_rules/<folder>/NAME.yml (fresh id, every
    required key), tests/cases/NAME.yml, and example events in the source's raw format
    under tests/events/<source>/ (one record that alerts, one look-alike that must not).

    \b
    SOURCE: a data source (gws_admin, m365_audit, ...) or the short name of its test events
    folder (gws: Google Workspace admin audit, m365, entra, signup, zeek, ...).

    The rule works as written (a real example of the source); each line still to decide is
    marked TODO, and `dac validate` lists them until they are gone."""
    request = Request(source, name, title, indicator, level, correlation, of)
    try:
        written = create(root, request, rules=rules)
    except DacError as exc:
        print_problems(exc.problems)
        sys.exit(1)
    out.print(Text("created:", style="green"))
    for path in written:
        out.print(Text(f"  {visible(str(path))}"))
    out.print(
        f"next: replace every TODO (`dac validate` lists them), `dac show {name}`, "
        "`dac lock`, `make coverage`, `make test`",
        markup=False,
    )


@click.command()
@click.argument("rule", metavar="RULE")
@root_option
@rules_option
@option(
    "--target",
    type=click.Choice(TARGETS),
    default=None,
    help="Show this target only.  [default: splunk and elastic]",
)
@option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def show(rule: str, root: Path, rules: Path | None, target: str | None, as_json: bool) -> None:
    """Print what RULE (a name, an id or a file) compiles to, per target, for review: the SPL
    search, the EQL or ES|QL query, and the alert text the playbook renders (Splunk notable
    description and next steps; Kibana description and investigation guide)."""
    try:
        doc, views = show_rule(Project.at(root, rules), rule, (target,) if target else TARGETS)
    except DacError as exc:
        if as_json:
            print_json({"ok": False, "errors": [problem_json(p, "error") for p in exc.problems]})
        else:
            print_problems(exc.problems)
        sys.exit(1)
    if as_json:
        print_json({"ok": True, **_json(doc, views)})
        return
    _print(doc, views)


def _json(doc: RuleDoc, views: list[TargetView]) -> dict[str, object]:
    return {
        "rule": {"id": doc.id, "name": doc.name, "title": doc.title, "file": str(doc.path)},
        "targets": {
            v.target: {
                "language": v.language,
                "query": v.query,
                "skipped": v.skipped,
                **{label.replace(" ", "_"): text for label, text in v.texts},
            }
            for v in views
        },
    }


def _section(title: str, body: str) -> None:
    out.print(Text(f"--- {title} ---", style="bold"))
    # Soft wrap: a long query stays one line when copied from the terminal.
    out.print(Text(visible(body.rstrip("\n"), multiline=True)), soft_wrap=True)
    out.print()


def _print(doc: RuleDoc, views: list[TargetView]) -> None:
    out.print(Text(f"{doc.name}: {visible(doc.title)}", style="bold"))
    out.print(Text(f"id {doc.id}, indicator {doc.indicator}, level {doc.level}"))
    out.print(Text(f"file {visible(str(doc.path))}"))
    out.print()
    for view in views:
        if view.skipped is not None:
            _section(f"{view.target}: skipped", visible(view.skipped))
            continue
        language = LANGUAGES.get(view.language or "", view.language or "")
        _section(f"{view.target}: {language}", view.query or "")
        for label, text in view.texts:
            _section(f"{view.target}: {label}", text)
