"""The `dac` command line: the only place that prints and chooses exit codes."""

from __future__ import annotations

import sys
import tempfile
from importlib.metadata import version as package_version
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from converters.build import Project, build
from converters.cli_options import option, root_option, rules_option
from converters.errors import DacError
from converters.loading.rules import load_rules
from converters.textsafe import visible
from converters.versions import LOCK_FILE, read_lock, stale, updated_lock, write_lock

# Data is printed as written: no highlighting, no emoji codes (`:x:`) turned into pictures.
_err = Console(stderr=True, highlight=False, emoji=False)
_out = Console(highlight=False, emoji=False)


def _fail(exc: DacError) -> None:
    count = len(exc.problems)
    _err.print(f"[bold red]error:[/] {count} problem{'s' if count != 1 else ''} found")
    for problem in exc.problems:
        # One line per problem, never wrapped: editors and CI logs jump to "file:line".
        _err.print(f"  {visible(str(problem))}", markup=False, soft_wrap=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_version("dac-t1585"), prog_name="dac")
def main() -> None:
    """Detection-as-code for MITRE ATT&CK T1585.002 (Establish Accounts: Email Accounts).

    Sigma rules in sigma_rules/ compile into a Splunk app and Kibana detection rules, with the
    analyst playbook (playbooks/) rendered into every alert.

    \b
    Typical use:
      dac validate          check rules, playbook and lists; compile every rule
      dac build             write dist/ (Splunk app + .tgz, Kibana NDJSON, playbook pages)
      dac lock              record rule versions after a rule change

    Exit status: 0 on success, 1 when any input has a problem (each is printed with its
    file, line, rule and reason), 2 on a usage error.
    """


@main.command()
@root_option
@rules_option
def validate(root: Path, rules: Path | None) -> None:
    """Check every rule, the playbook and the domain lists: compile and render everything for
    Splunk and Elastic, as `dac build` does, but keep nothing."""
    project = Project.at(root, rules)
    try:
        with tempfile.TemporaryDirectory(prefix="dac-validate-") as scratch:
            build(project, Path(scratch) / "dist")
        ruleset = load_rules(project.rules)
    except DacError as exc:
        _fail(exc)
        return
    table = Table(title="Rules", show_lines=False)
    for column in ("rule", "indicator", "level", "kind"):
        table.add_column(column, overflow="fold")
    for doc in sorted(ruleset.docs, key=lambda d: d.name):
        table.add_row(
            doc.name, doc.indicator, doc.level, "correlation" if doc.is_correlation else "event"
        )
    _out.print(table)
    lock = read_lock(root / LOCK_FILE)
    outdated = stale(ruleset, lock)
    if outdated:
        _out.print(
            f"[yellow]note:[/] {len(outdated)} rule(s) changed since {LOCK_FILE}; run `dac lock`."
        )
    _out.print(f"[green]ok:[/] {len(ruleset.docs)} rules valid for splunk and elastic")


@main.command(name="build")
@root_option
@rules_option
@option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Output folder; replaced only when the whole build succeeds.",
)
@option(
    "--disabled",
    "ship_disabled",
    is_flag=True,
    help="Ship every Splunk search and Kibana rule disabled, as Splunk's own content does "
    "(enable them in the SIEM after review). By default they ship enabled, building blocks "
    "excepted.",
)
def build_command(root: Path, rules: Path | None, out: Path, ship_disabled: bool) -> None:
    """Compile the rules into OUT: splunk/<app>/ and its .tgz, elastic/rules.ndjson and the
    enrichment files, playbooks/ pages and manifest.json."""
    try:
        written = build(Project.at(root, rules, ship_disabled), out)
    except DacError as exc:
        _fail(exc)
        return
    _out.print(Text.assemble(("built:", "green"), f" {visible(str(written))}"))
    for path in sorted(p for p in written.rglob("*") if p.is_file() and p.parent.name != "lookups"):
        if (
            path.suffix in {".tgz", ".ndjson", ".json", ".md", ".html"}
            and "enrichment" not in path.parts
        ):
            _out.print(Text(f"  {visible(str(path.relative_to(written.parent)))}"))


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
        _fail(exc)
        return
    counts = f" {len(ruleset.docs)} rules, {len(changed)} changed -> {visible(str(path))}"
    _out.print(Text.assemble(("locked:", "green"), counts))


# Commands defined in their own modules register here, one line each.
from converters.deploy.commands import deploy, verify  # noqa: E402

main.add_command(deploy)
main.add_command(verify)
from converters.hunt.cli import hunt  # noqa: E402

main.add_command(hunt)
