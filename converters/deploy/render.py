"""Showing a report: a table for people, one JSON document for CI logs, a progress bar while
writing. Every string is masked (redact.py), then its control characters escaped (textsafe),
then, where space is short, shortened; and printed as rich Text, never read as markup."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from converters.deploy.answers import shorten
from converters.deploy.redact import Redactor
from converters.deploy.report import Action, Item, Report, Status
from converters.textsafe import visible

_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.EXTRA: "red",
    Action.KEEP: "cyan",
    Action.UNCHANGED: "dim",
}
_STATUS_STYLE = {
    Status.APPLIED: "green",
    Status.FAILED: "bold red",
    Status.NOT_ATTEMPTED: "yellow",
    Status.UNCONFIRMED: "yellow",
    Status.PLANNED: "",
}
_TITLE = {"deploy": "Deployment", "dry-run": "Plan (dry run: nothing written)", "verify": "Drift"}


def safe(text: str, redact: Redactor) -> str:
    """``text`` as it may be printed: secrets masked, then control characters escaped."""
    return visible(redact(text))


def show_json(report: Report, console: Console, redact: Redactor) -> None:
    # Value by value: a secret that JSON escapes would not match in the dump, and a control
    # character is escaped as `\x1b` for the reader rather than as JSON's `\u001b`.
    text = json.dumps(_safe(report.to_json(), redact), indent=2, ensure_ascii=False)
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _safe(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return safe(value, redact)
    if isinstance(value, dict):
        return {safe(str(k), redact): _safe(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v, redact) for v in value]
    return value


def show(report: Report, console: Console, redact: Redactor) -> None:
    title = Text(f"{_TITLE[report.mode]}: {report.target} ({safe(report.where, redact)})")
    shown = [i for i in report.items if i.action is not Action.UNCHANGED]
    if shown:
        table = Table(title=title, title_justify="left", show_lines=False)
        for column in ("kind", "name", "action", "status", "detail"):
            table.add_column(column, overflow="fold")
        for item in shown:
            table.add_row(
                Text(item.kind),
                Text(safe(item.name, redact)),
                Text(str(item.action), style=_STYLE[item.action]),
                Text(_status(report, item), style=_STATUS_STYLE[item.status]),
                Text(safe(_detail(item), redact)),
            )
        console.print(table)
    else:
        console.print(title)
    counts = report.counts()
    summary = ", ".join(f"{counts[str(a)]} {a}" for a in Action if counts[str(a)])
    console.print(Text(f"{len(report.items)} item(s): {summary or 'nothing'}"))
    for note in report.notes:
        console.print(Text(safe(f"note: {note}", redact), style="dim"), soft_wrap=True)
    for error in report.errors:
        # One line, however long: a CI log is searched line by line.
        console.print(Text(safe(f"error: {error}", redact), style="bold red"), soft_wrap=True)
    console.print(_verdict(report))


def _status(report: Report, item: Item) -> str:
    if report.mode != "deploy" or not item.action.writes:
        return ""
    return str(item.status)


def _detail(item: Item) -> str:
    return "; ".join(part for part in (item.detail, item.error) if part)


def _verdict(report: Report) -> Text:
    if report.mode == "verify":
        drift = len(report.drift)
        if report.errors:
            return Text("verify: could not compare", style="bold red")
        return Text(
            f"drift: {drift} item(s) differ from dist" if drift else "no drift: matches dist",
            style="bold red" if drift else "bold green",
        )
    if report.mode == "dry-run":
        return Text(f"dry run: {len(report.changes)} change(s) planned, nothing written")
    changes = report.changes
    applied = sum(1 for i in changes if i.status is Status.APPLIED)
    if report.ok:
        return Text(f"deployed: {applied} change(s) applied", style="bold green")
    return Text(
        f"deployment incomplete: {applied} of {len(changes)} change(s) applied", style="bold red"
    )


def progress(
    console: Console, enabled: bool, redact: Redactor | None = None
) -> tuple[Callable[[int], Callable[[Item], None]], Callable[[], None]]:
    """A start function for engine.run and the function that closes the display."""
    redact = redact or Redactor()
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[current]}", markup=False),
        console=console,
        transient=True,
        disable=not enabled,
    )

    def start(total: int) -> Callable[[Item], None]:
        bar.start()
        task = bar.add_task("writing", total=total, current="")

        def advance(item: Item) -> None:
            current = shorten(safe(f"{item.kind} {item.name}", redact), 60)
            bar.update(task, advance=1, current=current)

        return advance

    return start, bar.stop
