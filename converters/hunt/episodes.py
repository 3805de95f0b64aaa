"""One alert per incident: the engine's hits -> the hunt's alerts.

The engine reports every window a correlation holds (a burst of 150 messages over a threshold
of 50 is 101 sliding windows) and every event a single-event rule matches. This stage, after
the engine and independent of how it found the hits, makes one alert of each incident
(converters/incidents.py says what an incident is, per rule):

- a correlation: the hits of one rule and group whose windows overlap or touch are one
  episode;
- a single-event, new-terms or absence rule: the first hit of a key opens an alert that holds
  the key's hits within the rule's period (what Splunk's and Kibana's suppression do).

The alert carries the first and last window, all evidence (each event once, in time order),
the number of hits it stands for and, through its evidence, the distinct values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from converters.engine.bulk import EvidenceRow, Hit
from converters.hunt.run import HuntAlert
from converters.hunt.values import FieldValues
from converters.incidents import Incident, incident_of
from converters.loading.rules import RuleDoc, RuleSet

Key = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class IncidentAlert(HuntAlert):
    """A hunt alert that stands for ``hits`` engine hits (windows or events)."""

    hits: int = 1


def incidents(alerts: Sequence[HuntAlert], ruleset: RuleSet) -> list[HuntAlert]:
    """``alerts`` (one per hit, as Hunter.run gives them) grouped into one per incident, in
    the order Hunter.run sorts alerts."""
    by_rule: dict[str, list[HuntAlert]] = {}
    for alert in alerts:
        by_rule.setdefault(alert.doc.id, []).append(alert)
    merged: list[HuntAlert] = []
    for hits in by_rule.values():
        doc = hits[0].doc
        rule = incident_of(doc, ruleset)
        by_key: dict[Key, list[HuntAlert]] = {}
        for alert in hits:
            by_key.setdefault(_key(alert, rule), []).append(alert)
        for group in by_key.values():
            group.sort(key=lambda a: (_start(a), _end(a)))
            merged += [_merge(doc, run) for run in _episodes(group, rule)]
    merged.sort(key=lambda a: (a.hit.window_end or "", a.doc.name, a.hit.rowids))
    return merged


def incident_fields(alert: HuntAlert, values: FieldValues | None = None) -> dict[str, object]:
    """What an alert's JSON record says of its incident: the hits it stands for, its first
    and last event, and each field's distinct values (``values``: when already read)."""
    hits = alert.hits if isinstance(alert, IncidentAlert) else 1
    stamps = [row.timestamp for row in alert.evidence]
    return {
        "hits": hits,
        "first_event": min(stamps) + "Z" if stamps else None,
        "last_event": max(stamps) + "Z" if stamps else None,
        "distinct": (FieldValues(alert.evidence) if values is None else values).distinct(),
    }


def _key(alert: HuntAlert, rule: Incident) -> Key:
    if alert.hit.group:  # a correlation's (or absence's) group, as the engine named it
        return tuple(sorted(alert.hit.group.items()))
    first = alert.evidence[0].values if alert.evidence else {}
    return tuple((name, str(first.get(name, "")).lower()) for name in rule.fields)


def _start(alert: HuntAlert) -> datetime:
    return _time(alert.hit.window_start or (alert.evidence[0].timestamp if alert.evidence else ""))


def _end(alert: HuntAlert) -> datetime:
    return _time(alert.hit.window_end or (alert.evidence[-1].timestamp if alert.evidence else ""))


def _time(stamp: str) -> datetime:
    """The engine's UTC timestamps (ISO, no zone) as naive datetimes; none sorts first."""
    if not stamp:
        return datetime.min
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.replace(tzinfo=None) - (moment.utcoffset() or timedelta())


def _episodes(group: list[HuntAlert], rule: Incident) -> list[list[HuntAlert]]:
    """Runs of hits, each one incident: windows that overlap or touch (``merge``), or the
    hits within the period after the one that opened it."""
    runs: list[list[HuntAlert]] = []
    limit = datetime.min
    for alert in group:
        # Windows that touch merge; a period holds what comes before its end.
        if runs and (_start(alert) <= limit if rule.merge else _start(alert) < limit):
            runs[-1].append(alert)
            if rule.merge:
                limit = max(limit, _end(alert))
            continue
        runs.append([alert])
        opened = _start(alert)
        limit = _end(alert) if rule.merge else opened + timedelta(seconds=rule.seconds)
    return runs


def _merge(doc: RuleDoc, run: list[HuntAlert]) -> HuntAlert:
    if len(run) == 1:
        return IncidentAlert(doc, run[0].hit, run[0].evidence, 1)
    rows: dict[int, EvidenceRow] = {}
    for alert in run:
        for row in alert.evidence:
            rows.setdefault(row.rowid, row)
    evidence = tuple(sorted(rows.values(), key=lambda r: (r.timestamp, r.rowid)))
    starts = [a.hit.window_start for a in run if a.hit.window_start is not None]
    ends = [a.hit.window_end for a in run if a.hit.window_end is not None]
    hit = Hit(
        tuple(r.rowid for r in evidence),
        min(starts) if starts else None,
        max(ends) if ends else None,
        dict(run[0].hit.group),
    )
    return IncidentAlert(doc, hit, evidence, len(run))
