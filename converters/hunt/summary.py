"""The hunt's terminal summary: what was read from each file, which sources no rule reads,
the malformed records, and the alerts. Whatever comes from the logs (values, reasons quoting
them, file names) is shown through textsafe.visible and as rich Text, never as markup."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from converters.hunt.output import Reported
from converters.hunt.run import HuntResult
from converters.loading.schema import LEVELS
from converters.textsafe import visible

MAX_ALERT_ROWS = 50
_LEVEL_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def print_summary(
    console: Console, result: HuntResult, notes: Sequence[str], alerts: Sequence[Reported]
) -> None:
    inputs = Table(title="Inputs", title_justify="left")
    for column in ("file", "format", "records", "parsed", "skipped", "events"):
        inputs.add_column(column, justify="left" if column in ("file", "format") else "right")
    for f in result.files:
        skipped = Text(str(f.skipped), style="yellow" if f.skipped else "")
        counts = (str(f.records), str(f.parsed), skipped, str(f.events))
        inputs.add_row(_text(f.path), _text(f.format), *counts)
    console.print(inputs)
    for f in result.files:
        path = visible(str(f.path))
        if f.error:
            error = Text.assemble(("error:", "bold red"), f" {path}: {visible(f.error)}")
            console.print(error, soft_wrap=True)
        for line, reason in f.problems:
            console.print(Text(f"  skipped {path}:{line}: {visible(reason)}"), soft_wrap=True)
        if f.skipped > len(f.problems):
            more = f.skipped - len(f.problems)
            console.print(Text(f"  ... and {more} more skipped in {path}"), soft_wrap=True)
        if f.repaired:
            said = (
                f"  note: {path}: {f.repaired} row(s) held a lone surrogate (a \\ud800-\\udfff "
                "escape that pairs with nothing, not text): hunted with U+FFFD in its place"
            )
            console.print(Text(said), soft_wrap=True)
    for note in notes:
        console.print(Text(f"note: {visible(note)}"), soft_wrap=True)
    _print_alerts(console, result, alerts)


def _print_alerts(console: Console, result: HuntResult, alerts: Sequence[Reported]) -> None:
    per_rule = Table(title="Rules", title_justify="left")
    for column in ("rule", "level", "indicator", "alerts"):
        per_rule.add_column(column, justify="right" if column == "alerts" else "left")
    counts = Counter(a.alert.doc.id for a in alerts)
    for doc in result.rules:
        style = _LEVEL_STYLE.get(doc.level, "") if counts[doc.id] else "dim"
        cells = (doc.name, doc.level, doc.indicator)
        per_rule.add_row(*map(_text, cells), str(counts[doc.id]), style=style)
    console.print(per_rule)
    # Not .record: a summary line needs no playbook built.
    for alert in alerts[:MAX_ALERT_ROWS]:
        level = alert.alert.doc.level
        file, number = alert.first_evidence or ("?", 0)
        count = len(alert.alert.evidence)
        line = Text(f"{level:>13} ", style=_LEVEL_STYLE.get(level, ""))
        line.append(visible(f"{alert.window_end}  {alert.alert.doc.name}  "))
        line.append(visible(_entities(alert)), style="bold")
        line.append(f"  ({count} event{'s' if count != 1 else ''}, {visible(file)}:{number})")
        console.print(line, soft_wrap=True)
    if len(alerts) > MAX_ALERT_ROWS:
        console.print(f"... and {len(alerts) - MAX_ALERT_ROWS} more alerts (see --out)")
    by_level = Counter(a.alert.doc.level for a in alerts)
    levels = ", ".join(
        f"{by_level[level]} {level}" for level in reversed(LEVELS) if by_level[level]
    )
    seconds = sum(result.seconds.values())
    # A rate over a fraction of a second says nothing.
    rate = f", {result.events / seconds:,.0f} events/s" if seconds >= 0.5 else ""
    console.print(
        f"[bold]{len(alerts)} alert{'s' if len(alerts) != 1 else ''}[/]"
        + (f" ({levels})" if levels else "")
        + f" from {len(result.rules)} rules over {result.events:,} events in "
        f"{len(result.files)} files; {seconds:.2f} s{rate}",
        highlight=False,
    )


def _text(value: object) -> Text:
    """A table cell from data: shown as it is, never read as rich markup."""
    return Text(visible(str(value)))


def _entities(alert: Reported) -> str:
    """The group-by values of a correlation, else the first two entities with a value."""
    if alert.alert.hit.group:
        return ", ".join(f"{k}={v}" for k, v in alert.alert.hit.group.items())
    parts = []
    for _label, fields, values in alert.entities:  # the tested addresses come first
        if values:
            more = f" +{len(values) - 1}" if len(values) > 1 else ""
            parts.append(f"{fields[0]}={values[0]}{more}")
    return ", ".join(parts[:2])
