"""One alert per incident: what groups a rule's alerts, and for how long, in every target.

The one place that says, per rule, which values make two alerts the same incident (the
*key*, in Sigma field names) and how long one alert holds the next ones back (the *period*):

- a correlation: its ``group-by``; the period is the window plus the dispatch overlap (the
  lag and an interval: ``Schedule.suppress_seconds``), so that a run that finds the same
  burst again, because a late record extended it, raises nothing new;
- a new-terms rule: its new fields (the combination that was new), the same period;
- an absence rule: the account that never followed up (its ``match`` field, which the
  targets' rows name ``absence.KEY``), the same period;
- a single-event rule: ``incident.by`` where the rule declares it, else the first of its
  ``fields`` (the rules list the actor or client first), else its source's first entity;
  ``incident.period``, default 1h,
  counted in event time by the hunt; a SIEM, which counts from its alert and sees records up
  to the lag late, holds the period plus the lag and an interval.

``dac hunt`` applies it after the engine (converters/hunt/episodes.py); Splunk through
``alert.suppress`` and Kibana through ``alert_suppression`` (converters/targets).
"""

from __future__ import annotations

from dataclasses import dataclass

from converters.errors import Problem
from converters.loading.rules import RuleDoc, RuleSet
from converters.timing import schedule_for, timespan_seconds

DEFAULT_PERIOD = "1h"


@dataclass(frozen=True)
class Incident:
    """How a rule's alerts group: ``fields`` (Sigma names; a correlation's group names,
    aliases included) and ``seconds``. ``merge``: correlation windows that overlap or touch
    are one incident (the hunt merges them); otherwise one alert opens a period that holds
    the key's later events, as SIEM suppression does."""

    fields: tuple[str, ...]
    seconds: int
    merge: bool
    # How long a SIEM holds a group's next alerts back: ``seconds`` plus the dispatch overlap
    # (the lag and an interval). A SIEM sees records in the order they arrive, up to the lag
    # late: two events of one incident can reach it a lag apart.
    siem_seconds: int


def incident_of(doc: RuleDoc, ruleset: RuleSet) -> Incident:
    schedule = schedule_for(doc, ruleset)
    if doc.is_correlation:
        group = doc.document["correlation"].get("group-by", [])
        fields = tuple(str(g) for g in group)
        return Incident(fields, schedule.suppress_seconds, True, schedule.suppress_seconds)
    if doc.new_terms:
        fields = tuple(str(f) for f in doc.new_terms["fields"])
        return Incident(fields, schedule.suppress_seconds, False, schedule.suppress_seconds)
    if doc.absence:
        # The account: this rule's field of the match (the targets' rows name it
        # absence.KEY).
        fields = tuple(str(f) for f in dict(doc.absence["match"]))
        return Incident(fields, schedule.suppress_seconds, False, schedule.suppress_seconds)
    declared = doc.incident or {}
    by = declared.get("by") or [str(f) for f in doc.document.get("fields", [])[:1]]
    sources = ruleset.sources_of(doc)
    if not by and sources and sources[0].entities:
        by = [sources[0].entities[0][1]]  # the source's first entity (the actor, mostly)
    period = timespan_seconds(str(declared.get("period", DEFAULT_PERIOD)))
    overlap = (schedule.lag_minutes + schedule.interval_minutes) * 60
    return Incident(tuple(str(f) for f in by), period, False, period + overlap)


def check_incidents(ruleset: RuleSet) -> list[Problem]:
    """A single-event rule's key must be a field of its data source: every target groups by
    it. A rule that shows analysts its alerts needs a key (``incident.by`` or ``fields``)."""
    problems = []
    for doc in ruleset.docs:
        if doc.is_correlation or doc.new_terms or doc.absence:
            continue
        fields = incident_of(doc, ruleset).fields
        line = doc.line("incident") or doc.line("fields")
        if not fields and not doc.building_block:
            reason = "no alert grouping: declare incident.by (one of the rule's fields)"
            problems.append(Problem(doc.path, reason, rule=doc.id, line=line))
        source = ruleset.sources_of(doc)[0] if ruleset.sources_of(doc) else None
        for name in fields:
            if source is not None and source.field(name) is None:
                reason = f"incident.by: {name!r} is not a field of {source.name}"
                problems.append(Problem(doc.path, reason, rule=doc.id, line=line))
    return problems
