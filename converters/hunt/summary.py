"""The hunt's terminal summary: what was read from each file, which sources no rule reads,
the malformed records, and the alerts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from converters.hunt.output import Reported
from converters.hunt.run import HuntResult
from converters.loading.schema import LEVELS

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
        inputs.add_row(str(f.path), f.format, str(f.records), str(f.parsed), skipped, str(f.events))
    console.print(inputs)
    for f in result.files:
        if f.error:
            console.print(f"[bold red]error:[/] {f.path}: {f.error}", soft_wrap=True)
        for line, reason in f.problems:
            console.print(Text(f"  skipped {f.path}:{line}: {reason}"), soft_wrap=True)
        if f.skipped > len(f.problems):
            console.print(f"  ... and {f.skipped - len(f.problems)} more skipped in {f.path}")
    for note in notes:
        console.print(Text(f"note: {note}"), soft_wrap=True)
    _print_alerts(console, result, alerts)


def _print_alerts(console: Console, result: HuntResult, alerts: Sequence[Reported]) -> None:
    per_rule = Table(title="Rules", title_justify="left")
    for column in ("rule", "level", "indicator", "alerts"):
        per_rule.add_column(column, justify="right" if column == "alerts" else "left")
    counts = Counter(a.alert.doc.id for a in alerts)
    for doc in result.rules:
        style = _LEVEL_STYLE.get(doc.level, "") if counts[doc.id] else "dim"
        per_rule.add_row(doc.name, doc.level, doc.indicator, str(counts[doc.id]), style=style)
    console.print(per_rule)
    for alert in alerts[:MAX_ALERT_ROWS]:
        record = alert.record
        level = str(record["level"])
        first = record["evidence"][0] if record["evidence"] else {"file": "?", "line": 0}
        line = Text(f"{level:>13} ", style=_LEVEL_STYLE.get(level, ""))
        line.append(f"{record['window_end']}  {alert.alert.doc.name}  ")
        line.append(_entities(alert), style="bold")
        line.append(
            f"  ({record['event_count']} event{'s' if record['event_count'] != 1 else ''}, "
            f"{first['file']}:{first['line']})"
        )
        console.print(line, soft_wrap=True)
    if len(alerts) > MAX_ALERT_ROWS:
        console.print(f"... and {len(alerts) - MAX_ALERT_ROWS} more alerts (see --out)")
    by_level = Counter(str(a.record["level"]) for a in alerts)
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
