"""When each rule runs and which records each run reads, the same for every target.

Cloud audit logs reach the SIEM late (each data source declares its documented delivery lag:
``DataSource.delivery_lag_minutes``). So runs select records by when they were indexed, not by
when they happened, and look back far enough in event time for the lag plus the rule's own
window:

- A run every ``interval`` minutes reads the records indexed in its slot: from ``interval +
  SETTLE`` to ``SETTLE`` minutes before its scheduled time (SETTLE: the time an indexed record
  takes to become searchable). Consecutive slots tile, so every record is evaluated once, in
  the run after it was indexed, however late it came, as long as it came within the lag.
- Splunk: a single-event search selects its slot with ``dispatch.index_earliest`` /
  ``dispatch.index_latest``; a correlation, new-terms or absence search reads every record of
  the event-time range (the window's older events were indexed earlier) and keeps what is due
  in its slot (a window that holds a record indexed in the slot; an absence whose deadline,
  lag included, falls in the slot). Kibana reads by ``event.ingested`` over ``interval + lag +
  window`` and drops what it already alerted on (alert ids, suppression).
- A record later than the declared lag may fall out of the event-time range: a known limit
  (README), shown by the schedule-replay test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from converters.loading.rules import RuleDoc, RuleSet

INTERVAL_MINUTES = 15
# Absence rules alert a week after the event: an hour more between runs costs nothing and
# reads a week of two sources four times less often.
ABSENCE_INTERVAL_MINUTES = 60
SETTLE_MINUTES = 5
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def timespan_seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise ValueError(f"unsupported timespan {text!r} (use e.g. 30m, 1h, 2d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _minutes(seconds: int) -> int:
    return -(-seconds // 60)


@dataclass(frozen=True)
class Schedule:
    interval_minutes: int
    window_seconds: int
    # A new-terms rule's look-back: Splunk searches it (Kibana's history_window_start does).
    history_seconds: int = 0
    # The longest delivery lag of the sources the rule reads.
    lag_minutes: int = 0
    # Whether the search itself keeps what is due in its slot (correlation, new terms,
    # absence); a single-event search selects its slot by index time instead.
    gated: bool = False

    @property
    def slot_minutes(self) -> tuple[int, int]:
        """The index-time slot of a run: (start, end) minutes before its scheduled time."""
        return self.interval_minutes + SETTLE_MINUTES, SETTLE_MINUTES

    @property
    def lookback_minutes(self) -> int:
        """Event time a run reads: the window, the slot and the lag."""
        return _minutes(self.window_seconds) + self.slot_minutes[0] + self.lag_minutes

    @property
    def splunk_cron(self) -> str:
        if self.interval_minutes == 60:
            return "0 * * * *"
        return f"*/{self.interval_minutes} * * * *"

    @property
    def splunk_earliest(self) -> str:
        return f"-{self.lookback_minutes + self.history_seconds // 60}m@m"

    @property
    def splunk_latest(self) -> str:
        return "now"

    @property
    def splunk_index_earliest(self) -> str | None:
        return None if self.gated else f"-{self.slot_minutes[0]}m@m"

    @property
    def splunk_index_latest(self) -> str | None:
        return None if self.gated else f"-{self.slot_minutes[1]}m@m"

    @property
    def suppress_seconds(self) -> int:
        """How long a group's alert holds back the next: a late record that extends the same
        burst within the lag must not raise it again."""
        return self.window_seconds + (self.lag_minutes + self.interval_minutes) * 60

    @property
    def elastic_interval(self) -> str:
        return f"{self.interval_minutes}m"

    @property
    def elastic_from(self) -> str:
        """Look-back in ingest time: a record ingested since the last run, and the older
        records of its window, which were ingested up to the lag before it."""
        return f"now-{self.lookback_minutes}m"


def window_seconds(doc: RuleDoc, ruleset: RuleSet) -> int:
    """How far back a rule's evidence can lie: its timespan plus, for a correlation of
    correlations, the longest window of the correlations it reads."""
    if doc.absence:
        return timespan_seconds(str(doc.absence["within"]))
    if not doc.is_correlation:
        return 0
    correlation = doc.document["correlation"]
    inner = max(window_seconds(ruleset.ref(r), ruleset) for r in correlation["rules"])
    return timespan_seconds(str(correlation["timespan"])) + inner


def lag_minutes(doc: RuleDoc, ruleset: RuleSet) -> int:
    """The longest declared delivery lag among the sources of the rule and the rules it reads."""
    sources = {s.name: s for base in ruleset.base_rules_of(doc) for s in ruleset.sources_of(base)}
    sources.update((s.name, s) for s in ruleset.sources_of(doc))
    return max((s.delivery_lag_minutes for s in sources.values()), default=0)


def schedule_for(doc: RuleDoc, ruleset: RuleSet) -> Schedule:
    terms = doc.new_terms
    history = timespan_seconds(str(terms["history"])) if terms else 0
    interval = ABSENCE_INTERVAL_MINUTES if doc.absence else INTERVAL_MINUTES
    gated = bool(doc.is_correlation or terms or doc.absence)
    return Schedule(
        interval, window_seconds(doc, ruleset), history, lag_minutes(doc, ruleset), gated
    )


def slot_condition(field: str, interval_minutes: int = INTERVAL_MINUTES) -> str:
    """SPL: keep the rows whose ``field`` (an index time) lies in this run's slot, measured
    from the search's latest time (the scheduled time, as Splunk resolves a scheduled
    search's time range)."""
    start, end = interval_minutes + SETTLE_MINUTES, SETTLE_MINUTES
    return (
        "| addinfo\n"
        f'| where {field}>=relative_time(info_max_time, "-{start}m@m") '
        f'AND {field}<relative_time(info_max_time, "-{end}m@m")'
    )
