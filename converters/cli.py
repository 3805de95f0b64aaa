"""The `dac` command line: the only place that prints and chooses exit codes."""

from __future__ import annotations

import sys
import tempfile
from importlib.metadata import version as package_version
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from converters.authoring.checks import file_name_errors, warnings
from converters.build import Project, build
from converters.cli_options import option, root_option, rules_option
from converters.cli_output import out, print_json, print_problems, problem_json
from converters.errors import DacError, Problem
from converters.loading.rules import RuleSet, load_rules
from converters.textlint import lint_dist
from converters.textsafe import visible
from converters.versions import LOCK_FILE, read_lock, stale, updated_lock, write_lock

json_option = option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout (for CI)."
)


def _fail(problems: list[Problem], as_json: bool = False) -> None:
    if as_json:
        print_json({"ok": False, "errors": [problem_json(p, "error") for p in problems]})
    else:
        print_problems(problems)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_version("dac-t1585"), prog_name="dac")
def main() -> None:
    """Detection-as-code for MITRE ATT&CK T1585.002 (Establish Accounts: Email Accounts).

    Sigma rules in sigma_rules/ compile into a Splunk app and Kibana detection rules, with the
    analyst playbook (playbooks/) rendered into every alert.

    \b
    Commands:
      dac new SOURCE NAME   start a rule: the rule, its test cases and example events
      dac show RULE         the rule's SPL, EQL or ES|QL and its alert text, for review
      dac validate          check rules, playbook and lists; compile every rule; list what
                            a change still lacks (tests, TODOs, lock, README coverage)
      dac lock              record rule versions after a rule change
      dac build             write dist/ (Splunk app + .tgz, Kibana NDJSON, playbook pages)
      dac hunt LOG...       run the rules over exported log files, no SIEM needed
      dac deploy TARGET     ship dist/ to Splunk or Elastic (--dry-run: the plan only)
      dac verify TARGET     compare what is deployed with dist/

    Every command that reads the repository finds its root from the working folder (the
    nearest folder above holding sigma_rules/ and pyproject.toml), or takes --root.

    Exit status: 0 on success, 1 when any input has a problem (each is printed with its
    file, line, rule and reason), 2 on a usage error.
    """


def _rules_table(ruleset: RuleSet) -> Table:
    table = Table(title="Rules", show_lines=False)
    for column in ("rule", "indicator", "level", "kind"):
        table.add_column(column, overflow="fold")
    for doc in sorted(ruleset.docs, key=lambda d: d.name):
        kind = "correlation" if doc.is_correlation else "event"
        table.add_row(doc.name, doc.indicator, doc.level, kind)
    return table


@main.command()
@root_option
@rules_option
@option("--strict", is_flag=True, help="Fail (exit 1) on warnings too: work still to do.")
@json_option
def validate(root: Path, rules: Path | None, strict: bool, as_json: bool) -> None:
    """Check every rule, the playbook and the domain lists: compile and render everything for
    Splunk and Elastic, as `dac build` does, but keep nothing. Then list, as warnings, what a
    change still lacks before `make test` passes: test cases, TODOs left by `dac new`, a
    stale versions.lock.json, a stale README coverage table."""
    project = Project.at(root, rules)
    errors = file_name_errors(project.rules)
    try:
        with tempfile.TemporaryDirectory(prefix="dac-validate-") as scratch:
            dist = build(project, Path(scratch) / "dist")
            table = (dist / "coverage.md").read_text(encoding="utf-8")
            # What the analyst would read: Sigma syntax, placeholders, doubled marks.
            texts = [Problem(None, f"alert text: {finding}") for finding in lint_dist(dist)]
        ruleset = load_rules(project.rules)
    except DacError as exc:
        _fail([*exc.problems, *errors], as_json)
        return
    todo = warnings(root, project.rules, ruleset, table) + texts
    failed = bool(errors or (strict and todo))
    if as_json:
        print_json({
            "ok": not failed,
            "rules": [
                {"id": d.id, "name": d.name, "file": str(d.path), "indicator": d.indicator,
                 "level": d.level, "kind": "correlation" if d.is_correlation else "event"}
                for d in sorted(ruleset.docs, key=lambda d: d.name)
            ],
            "errors": [problem_json(p, "error") for p in errors],
            "warnings": [problem_json(p, "warning") for p in todo],
        })  # fmt: skip
        sys.exit(1 if failed else 0)
    out.print(_rules_table(ruleset))
    print_problems(errors, todo)
    if failed:
        sys.exit(1)
    left = f"; {len(todo)} thing(s) still to do (warnings above)" if todo else ""
    out.print(f"[green]ok:[/] {len(ruleset.docs)} rules valid for splunk and elastic{left}")


@main.command(name="build")
@root_option
@rules_option
@option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder; replaced only when the whole build succeeds.  [default: ROOT/dist]",
)
@option(
    "--disabled",
    "ship_disabled",
    is_flag=True,
    help="Ship every Splunk search and Kibana rule disabled, as Splunk's own content does "
    "(enable them in the SIEM after review). By default they ship enabled, building blocks "
    "excepted.",
)
@json_option
def build_command(
    root: Path, rules: Path | None, out: Path | None, ship_disabled: bool, as_json: bool
) -> None:
    """Compile the rules into OUT: splunk/<app>/ and its .tgz, elastic/rules.ndjson and the
    enrichment files, playbooks/ pages and manifest.json."""
    try:
        written = build(Project.at(root, rules, ship_disabled), out or root / "dist")
    except DacError as exc:
        _fail(exc.problems, as_json)
        return
    files = sorted(
        (p for p in written.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(written).as_posix(),
    )
    if as_json:
        listed = [p.relative_to(written).as_posix() for p in files]
        print_json({"ok": True, "out": str(written), "files": listed})
        return
    _print_built(written, files)


def _print_built(written: Path, files: list[Path]) -> None:
    out.print(Text.assemble(("built:", "green"), f" {visible(str(written))}"))
    for path in (p for p in files if p.parent.name != "lookups"):
        if (
            path.suffix in {".tgz", ".ndjson", ".json", ".md", ".html"}
            and "enrichment" not in path.parts
        ):
            out.print(Text(f"  {visible(str(path.relative_to(written.parent)))}"))


@main.command()
@root_option
@rules_option
def lock(root: Path, rules: Path | None) -> None:
    """Record each rule's content hash and version in versions.lock.json; a rule whose content
    changed gets the next version."""
    try:
        ruleset = load_rules(rules or root / "sigma_rules")
        path = root / LOCK_FILE
        current = read_lock(path)
        changed = stale(ruleset, current)
        write_lock(path, updated_lock(ruleset, current))
    except DacError as exc:
        _fail(exc.problems)
        return
    counts = f" {len(ruleset.docs)} rules, {len(changed)} changed -> {visible(str(path))}"
    out.print(Text.assemble(("locked:", "green"), counts))


# Commands defined in their own modules register here, one line each.
from converters.authoring.cli import new, show  # noqa: E402
from converters.deploy.commands import deploy, verify  # noqa: E402
from converters.hunt.cli import hunt  # noqa: E402

main.add_command(new)
main.add_command(show)
main.add_command(deploy)
main.add_command(verify)
main.add_command(hunt)

__all__ = ["main"]
