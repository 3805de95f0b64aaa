"""When each rule runs and how far back it looks, the same for every target.

A run covers the rule's own window (a correlation's timespan) plus the schedule interval plus a
margin for ingestion delay, so that consecutive runs overlap by the window: an attack that fits
the window is seen whole by at least one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from converters.loading.rules import RuleDoc, RuleSet

INTERVAL_MINUTES = 15
INGEST_DELAY_MINUTES = 5
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def timespan_seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise ValueError(f"unsupported timespan {text!r} (use e.g. 30m, 1h, 2d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Schedule:
    interval_minutes: int
    window_seconds: int
    # A new-terms rule's look-back: Splunk searches it (Kibana's history_window_start does).
    history_seconds: int = 0

    @property
    def lookback_minutes(self) -> int:
        window_minutes = -(-self.window_seconds // 60)
        return window_minutes + self.interval_minutes + INGEST_DELAY_MINUTES

    @property
    def splunk_cron(self) -> str:
        return f"*/{self.interval_minutes} * * * *"

    @property
    def splunk_earliest(self) -> str:
        return f"-{self.lookback_minutes + self.history_seconds // 60}m@m"

    @property
    def splunk_latest(self) -> str:
        return f"-{INGEST_DELAY_MINUTES}m@m"

    @property
    def elastic_interval(self) -> str:
        return f"{self.interval_minutes}m"

    @property
    def elastic_from(self) -> str:
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


def schedule_for(doc: RuleDoc, ruleset: RuleSet) -> Schedule:
    terms = doc.new_terms
    history = timespan_seconds(str(terms["history"])) if terms else 0
    return Schedule(INTERVAL_MINUTES, window_seconds(doc, ruleset), history)


def newest_window_minutes() -> int:
    """What one run of a single-event rule covers: its interval plus the ingestion margin."""
    return INTERVAL_MINUTES + INGEST_DELAY_MINUTES
