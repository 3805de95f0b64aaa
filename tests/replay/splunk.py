"""Splunk's scheduler replayed over a built saved search (savedsearches.conf as shipped).

Each run is scheduled by ``cron_schedule`` and starts up to five minutes late (``schedule_window
= auto`` lets the scheduler delay it); its time range resolves against the scheduled time, as
Splunk's scheduler does, while it sees only the records indexed by the moment it runs. It
reads the events in ``dispatch.earliest_time``..``dispatch.latest_time`` and, where set,
indexed in ``dispatch.index_earliest``..``dispatch.index_latest``; the search's own stages run
in the SPL simulator (tests/spl_sim.py), the matching of each base rule in the reference
engine. Every result is a notable unless ``alert.suppress`` holds it back: a result whose
``alert.suppress.fields`` values triggered within ``alert.suppress.period``.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter

from tests import spl_sim

Event = dict[str, Any]
SCHEDULE_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class Notable:
    scheduled: float
    row: Event


def runs(cron: str, start: float, end: float) -> Iterator[float]:
    """The scheduled times in [start, end)."""
    schedule = croniter(cron, datetime.fromtimestamp(start, UTC))
    while (moment := schedule.get_next(float)) < end:
        yield moment


def relative(now: float, spec: str) -> float:
    """Splunk's relative time modifier ``now`` or ``-<n>m@m`` against ``now``."""
    if spec == "now":
        return now
    match = re.fullmatch(r"-(\d+)m@m", spec)
    if not match:
        raise ValueError(f"the replay does not know the time modifier {spec!r}")
    moment = now - int(match.group(1)) * 60
    return moment - moment % 60


def _seconds(spec: str) -> float:
    match = re.fullmatch(r"(\d+)s", spec)
    if not match:
        raise ValueError(f"the replay does not know the period {spec!r}")
    return float(match.group(1))


def _rows(search: str, leaves: Mapping[str, list[Event]], now: float) -> list[Event]:
    """The search's results over the events it reads (by base rule, or for an absence search
    by role: ``dac_created``, ``dac_followup``)."""
    branches = spl_sim.absence_branches(search)
    if branches:
        rows = [
            dict(event, dac_key=str(event[key]).lower(), **{role: event["_time"]})
            for key, role in branches
            for event in leaves[role]
            if event.get(key) is not None
        ]
        return spl_sim.run_tail(search, rows, now)
    if spl_sim.branch_evals(search):
        return spl_sim.run(search, dict(leaves), now)
    (events,) = leaves.values()
    if "| eventstats min(_time)" in search:  # new terms
        return spl_sim.run_tail(search, events, now)
    return [dict(e) for e in events]


def _read(
    stanza: Mapping[str, str], events: list[Event], scheduled: float, ran: float
) -> list[Event]:
    """The events a run reads: indexed by the time it runs, in its event-time range and, where
    the search sets one, in its index-time range."""
    earliest = relative(scheduled, stanza["dispatch.earliest_time"])
    latest = relative(scheduled, stanza["dispatch.latest_time"])
    low, high = -math.inf, math.inf
    if "dispatch.index_earliest" in stanza:
        low = relative(scheduled, stanza["dispatch.index_earliest"])
        high = relative(scheduled, stanza["dispatch.index_latest"])
    return [
        e
        for e in events
        if e["_indextime"] <= ran
        and earliest <= e["_time"] <= latest
        and low <= e["_indextime"] < high
    ]


def replay(
    stanza: Mapping[str, str],
    leaves: Mapping[str, list[Event]],
    start: float,
    end: float,
    seed: int = 0,
) -> list[Notable]:
    """The notables of a saved search scheduled from ``start`` to ``end``."""
    search = stanza["search"]
    delay = random.Random(seed)
    suppress = stanza.get("alert.suppress") == "1"
    fields = stanza["alert.suppress.fields"].split(",") if suppress else []
    period = _seconds(stanza["alert.suppress.period"]) if suppress else 0.0
    # A correlation's group columns are renamed to the fields the suppression names.
    columns = {new: old for old, new in re.findall(r'rename (dac_g\d+) AS "([^"]+)"', search)}
    held: dict[tuple[Any, ...], float] = {}
    notables = []
    for scheduled in runs(stanza["cron_schedule"], start, end):
        ran = scheduled + delay.uniform(0, SCHEDULE_WINDOW_SECONDS)
        seen = {name: _read(stanza, events, scheduled, ran) for name, events in leaves.items()}
        for row in _rows(search, seen, scheduled):
            key = tuple(row.get(columns.get(f, f)) for f in fields)
            if fields and held.get(key, -math.inf) > ran:
                continue
            if fields:
                held[key] = ran + period
            notables.append(Notable(scheduled, row))
    return notables
