"""`dac hunt LOG...`: the detections over exported logs, on the embedded reference engine."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from converters.build import Project
from converters.cli_options import option, root_option, rules_option
from converters.cli_output import print_json
from converters.console import Console
from converters.domains import load_domains
from converters.errors import DacError
from converters.hunt.limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_RECORD_BYTES,
    MAX_DEPTH_ALLOWED,
    Limits,
    parse_size,
)
from converters.hunt.output import (
    REPORT_SUFFIXES,
    at_least,
    reported_incidents,
    source_notes,
    write_jsonl,
    write_report,
)
from converters.hunt.readers import FILE_FORMATS
from converters.hunt.report_json import hunt_document
from converters.hunt.run import Hunter
from converters.hunt.selection import SelectionError, file_formats, log_files, select_rules
from converters.hunt.summary import print_summary
from converters.loading.rules import load_rules
from converters.loading.schema import INDICATORS, LEVELS
from converters.playbook.model import load_playbook
from converters.textsafe import visible
from converters.valuelists import load_value_lists

# Log text is printed as written (no highlighting, no emoji codes turned into pictures), and
# whole in CI logs (converters.console).
_err = Console(stderr=True)
_out = Console()
PROGRESS_BYTES = 16 << 20  # smaller inputs finish before a bar would be read

EXIT_ALERT = 1
EXIT_INPUT = 2


@click.command()
@click.argument(
    "logs", nargs=-1, required=True, metavar="LOG...", type=click.Path(exists=True, path_type=Path)
)
@root_option
@rules_option
@option(
    "--rule", "rule_refs", multiple=True, metavar="NAME|ID", help="Run this rule only (repeatable)."
)
@option(
    "--indicator",
    "indicators",
    multiple=True,
    type=click.Choice(INDICATORS),
    help="Run the rules of this playbook indicator (repeatable).",
)
@option(
    "--format",
    "forced",
    type=click.Choice(list(FILE_FORMATS)),
    default=None,
    help="Read every LOG in this format instead of detecting it per file.",
)
@option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the alerts here, one JSON object per line.",
)
@option(
    "--report",
    "reports",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the analyst report here: .html or .md, by the name (repeatable).",
)
@option(
    "--max-record-bytes",
    type=parse_size,
    default=DEFAULT_MAX_RECORD_BYTES,
    metavar="N",
    help="Skip (and report) a record longer than N bytes: a line, a CSV row, an element of"
    f" a JSON document; K, M, G for KiB, MiB, GiB.  [default: {DEFAULT_MAX_RECORD_BYTES >> 20}M]",
)
@option(
    "--max-depth",
    type=click.IntRange(1, MAX_DEPTH_ALLOWED),
    default=DEFAULT_MAX_DEPTH,
    show_default=True,
    metavar="N",
    help="Skip (and report) a JSON record nested deeper than N arrays and objects.",
)
@option(
    "--threat-intel",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Your threat-intelligence networks: a CSV with the header network,source,confidence"
    " (as lists/threat_intel_ips.csv) or one address or CIDR per line. The shipped list is"
    " empty, so without it the threat-intelligence rules are not run (and say so).",
)
@option(
    "--strict",
    is_flag=True,
    help="A file of unknown format inside a folder is an error (exit 2), not passed over.",
)
@option("--json", "as_json", is_flag=True, help="Print the hunt as one JSON document on stdout.")
@option(
    "--fail-on-alert",
    type=click.Choice(LEVELS),
    default=None,
    help="Exit 1 when an alert of this level or above fired (for CI).",
)
def hunt(
    logs: tuple[Path, ...],
    root: Path,
    rules: Path | None,
    rule_refs: tuple[str, ...],
    indicators: tuple[str, ...],
    forced: str | None,
    out: Path | None,
    reports: tuple[Path, ...],
    max_record_bytes: int,
    max_depth: int,
    threat_intel: Path | None,
    strict: bool,
    as_json: bool,
    fail_on_alert: str | None,
) -> None:
    """Run the detections over exported log files and report the alerts, each with its
    evidence and its playbook.

    \b
    LOG: a file or a folder of files, plain or gzip, in one of these formats (detected):
      gws            Google Workspace Reports API activities (a response page or NDJSON)
      ual            Microsoft 365 Unified Audit Log records (JSON array or NDJSON)
      ual-csv        Search-UnifiedAuditLog CSV export (the AuditData column)
      entra          Microsoft Entra ID directoryAudits (Graph JSON)
      message-trace  Microsoft 365 message trace CSV
      zeek-dns       Zeek dns.log (JSON or TSV)
      squid          Squid access.log (native format)
      fortigate      FortiGate logs, key=value syslog (traffic logs: firewall rules)

    A record over --max-record-bytes or --max-depth is skipped and reported with its file
    and line, and reading goes on. Named pipes, devices and sockets are refused. A file of
    unknown format named on the command line is an error; one found inside a folder is
    passed over with a warning (an error with --strict).

    Exit status: 0 when the hunt ran (alerts or not), 1 with --fail-on-alert when an alert at
    or above that level fired (or when the rules have a problem), 2 on unreadable input or a
    usage error.
    """
    reports = _report_paths(reports, out)
    project = Project.at(root, rules)
    try:
        ruleset = load_rules(project.rules)
        playbook = load_playbook(project.playbook)
        domains = load_domains(project.root)
        selected = select_rules(ruleset, rule_refs, indicators)
    except SelectionError as exc:
        raise click.UsageError(visible(str(exc))) from exc
    except DacError as exc:
        _problems(exc, "in the rules")
        sys.exit(1)
    try:
        files_given = {"threat_intel_ips": threat_intel} if threat_intel else None
        lists = load_value_lists(project.root, files_given)
    except DacError as exc:
        _problems(exc, "in --threat-intel" if threat_intel else "in the lists")
        sys.exit(EXIT_INPUT if threat_intel else 1)
    try:
        hunter = Hunter(ruleset, domains, selected, lists)
    except DacError as exc:
        _problems(exc, "in the rules")
        sys.exit(1)
    if not as_json:
        for rule_id, reason in hunter.skipped.items():
            title = ruleset.by_id(rule_id).title
            _out.print(Text(f"not run: {visible(title)}: {visible(reason)}"), soft_wrap=True)
    paths = log_files(logs)
    if not paths:
        raise click.UsageError("no log files found in the paths given")
    limits = Limits(max_record_bytes, max_depth)
    named = set(logs)
    chosen = file_formats(paths, forced, limits, () if strict else set(paths) - named)
    for message in chosen.passed_over:
        _err.print(
            Text(f"warning: {visible(message)}; passed over (--strict: an error)", "yellow"),
            soft_wrap=True,
        )
    if chosen.problems:
        if as_json:
            document = hunt_document(
                None, [], ruleset, hunter.skipped, chosen.passed_over, chosen.problems
            )
            print_json(document)
        for message in chosen.problems:
            _err.print(f"error: {visible(message)}", soft_wrap=True, markup=False, style="red")
        sys.exit(EXIT_INPUT)
    files = chosen.found

    sizes = [path.stat().st_size for path, _fmt in files]
    with _progress(sizes) as update:
        result = hunter.run(files, update, limits)
    alerts = reported_incidents(result, ruleset, playbook)  # one alert per incident
    notes = source_notes(result, ruleset)
    if out is not None:
        write_jsonl(out, alerts)
    for report in reports:
        write_report(report, result, alerts, playbook, notes)
    if as_json:
        print_json(hunt_document(result, alerts, ruleset, hunter.skipped, chosen.passed_over))
    else:
        print_summary(_out, result, notes, alerts)
        written = [("alerts", out)] if out is not None else []
        for what, path in [*written, *(("report", report) for report in reports)]:
            _out.print(Text(f"{what}: {visible(str(path))}"))
    if any(f.error for f in result.files):
        sys.exit(EXIT_INPUT)
    if fail_on_alert is not None and at_least(alerts, fail_on_alert):
        sys.exit(EXIT_ALERT)


def _problems(exc: DacError, where: str) -> None:
    _err.print(f"[bold red]error:[/] {len(exc.problems)} problem(s) {where}")
    for problem in exc.problems:
        _err.print(f"  {visible(str(problem))}", markup=False, soft_wrap=True)


def _report_paths(reports: tuple[Path, ...], out: Path | None) -> tuple[Path, ...]:
    """Each report once, in the order given; a format the name does not tell, or a report over
    the JSONL output, is a usage error before anything runs."""
    unique = tuple(dict.fromkeys(reports))
    for report in unique:
        if report.suffix.lower() not in REPORT_SUFFIXES:
            raise click.BadParameter(
                f"{visible(str(report))}: the report must end in .html or .md",
                param_hint="--report",
            )
        if out is not None and report.resolve() == out.resolve():
            raise click.BadParameter(
                f"{visible(str(report))} is also the --out file", param_hint="--report"
            )
    return unique


def _progress(sizes: list[int]) -> nullcontext[Callable[[int, int], None] | None] | _Bar:
    if not _err.is_terminal or sum(sizes) < PROGRESS_BYTES:
        return nullcontext(None)
    return _Bar(sizes)


class _Bar:
    """A progress bar over the bytes of all files (compressed bytes for gzip files)."""

    def __init__(self, sizes: list[int]) -> None:
        self.offsets = [sum(sizes[:n]) for n in range(len(sizes))]
        self.progress = Progress(
            TextColumn("reading"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=_err,
            transient=True,
        )
        self.task = self.progress.add_task("logs", total=sum(sizes))

    def __enter__(self) -> Callable[[int, int], None]:
        self.progress.start()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, index: int, position: int) -> None:
        self.progress.update(self.task, completed=self.offsets[index] + position)
