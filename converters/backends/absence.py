"""Absence: a rule's event that no event of another rule follows within a time.

"A new account with no sign-in within N days" has no Sigma construct (a correlation counts
what happened). A rule says it with our ``absence`` key: the follow-up ``rule`` and how its
fields ``match`` this rule's; ``within`` comes from sigma_rules/thresholds.yml. The alert is
the rule's event, raised once ``within`` has passed without a follow-up:

- SQLite (tests, ``dac hunt``): the event, older than ``within`` at the newest time read, with
  no follow-up event after it within ``within``.
- Splunk: both searches run side by side (multisearch) over ``within``, the delivery lag
  and the run's slot; an event alerts in the run whose slot holds its deadline (``within``
  after it, plus the lag, so that late follow-ups have arrived) when no follow-up came in
  between: each event is decided once (converters.timing).
- Elastic: an ES|QL rule over both rules' indices, same look-back, grouped by the matched
  value (its alert names the value, not the whole event).
"""

from __future__ import annotations

from dataclasses import dataclass

from converters.datasources.model import DataSource
from converters.engine.adapters import TIMESTAMP
from converters.timing import ABSENCE_INTERVAL_MINUTES, SETTLE_MINUTES, timespan_seconds


@dataclass(frozen=True)
class Absence:
    rule: str  # the follow-up rule's name or id
    field: str  # this rule's Sigma field
    followup_field: str  # the follow-up rule's Sigma field holding the same value
    within: str

    @property
    def seconds(self) -> int:
        return timespan_seconds(self.within)


def absence_of(document: dict[str, object]) -> Absence | None:
    value = document.get("absence")
    if not isinstance(value, dict):
        return None
    ((field, followup_field),) = dict(value["match"]).items()
    return Absence(str(value["rule"]), str(field), str(followup_field), str(value["within"]))


def _sql(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_query(base: str, followup: str, absence: Absence) -> str:
    ts = _sql(TIMESTAMP)
    stamp = "'%Y-%m-%dT%H:%M:%f'"
    later = f"'+{absence.seconds} seconds'"
    return (
        f"SELECT e.* FROM ({base}) AS e "
        f"WHERE strftime({stamp}, e.{ts}, {later}) <= (SELECT MAX({ts}) FROM logs) "
        f"AND NOT EXISTS (SELECT 1 FROM ({followup}) AS f "
        f"WHERE f.{_sql(absence.followup_field)} IS e.{_sql(absence.field)} "
        f"AND f.{ts} >= e.{ts} AND f.{ts} <= strftime({stamp}, e.{ts}, {later}))"
    )


KEY = "dac_key"
CREATED = "dac_created"
FOLLOWUP = "dac_followups"
LAST_FOLLOWUP = "dac_last_followup"


def splunk_query(
    base: str,
    followup: str,
    absence: Absence,
    source: DataSource,
    followup_source: DataSource,
    lag_minutes: int,
) -> str:
    mine = _splunk_value(source, absence.field)
    theirs = _splunk_value(followup_source, absence.followup_field)
    within = absence.seconds
    start, end = ABSENCE_INTERVAL_MINUTES + SETTLE_MINUTES, SETTLE_MINUTES
    due = f"{CREATED}+{within + lag_minutes * 60}"
    # multisearch, not append: a subsearch stops at 50,000 results, and a week of sign-ins is
    # more than that in a large tenant (missing sign-ins would raise false alerts).
    return "\n".join(
        [
            "| multisearch",
            f"[search {base}\n| eval {KEY}=lower({mine}), {CREATED}=_time]",
            f"[search {followup}\n| eval {KEY}=lower({theirs}), dac_followup=_time]",
            f"| eventstats values(dac_followup) AS {FOLLOWUP} BY {KEY}",
            "| addinfo",
            f'| where isnotnull({CREATED}) AND {due}>=relative_time(info_max_time, "-{start}m@m") '
            f'AND {due}<relative_time(info_max_time, "-{end}m@m")',
            # A follow-up within the time after the event answers it; one later does not.
            f"| eval dac_answered=mvmap({FOLLOWUP}, if({FOLLOWUP}>={CREATED} AND "
            f"{FOLLOWUP}<={CREATED}+{within}, 1, null()))",
            "| where isnull(dac_answered)",
        ]
    )


def _splunk_value(source: DataSource, sigma_name: str) -> str:
    field = source.field(sigma_name)
    if field is None:
        raise KeyError(sigma_name)
    return f"'{field.splunk_result}'"


def esql_query(
    condition: str,
    followup_condition: str,
    absence: Absence,
    source: DataSource,
    followup_source: DataSource,
    lag_minutes: int = 0,
) -> str:
    indices = [*source.elastic_indices]
    indices += [i for i in followup_source.elastic_indices if i not in indices]
    mine, theirs = f"({condition})", f"({followup_condition})"
    # Decided once the time has passed and a follow-up delivered late has arrived.
    late = f"{absence.seconds + lag_minutes * 60} seconds"
    mine_field = _esql_field(source, absence.field)
    theirs_field = _esql_field(followup_source, absence.followup_field)
    return "\n".join(
        [
            f"FROM {', '.join(indices)}",
            f"| WHERE {mine} OR {theirs}",
            f"| EVAL {KEY} = TO_LOWER(CASE({mine}, {mine_field}, {theirs}, {theirs_field})), "
            f"{CREATED} = CASE({mine}, @timestamp), dac_followup = CASE({theirs}, @timestamp)",
            f"| STATS {CREATED} = MIN({CREATED}), {LAST_FOLLOWUP} = MAX(dac_followup) BY {KEY}",
            f"| WHERE {CREATED} IS NOT NULL AND {CREATED} <= NOW() - {late} "
            f"AND ({LAST_FOLLOWUP} IS NULL OR {LAST_FOLLOWUP} < {CREATED})",
        ]
    )


def _esql_field(source: DataSource, sigma_name: str) -> str:
    field = source.field(sigma_name)
    if field is None:
        raise KeyError(sigma_name)
    return "`" + field.elastic.replace("`", "``") + "`"


def esql_condition(query: str) -> str:
    """The condition of the ES|QL backend's single-rule query ("from ... | where <c>")."""
    head, sep, condition = query.partition(" | where ")
    if not sep or not head.startswith("from "):
        raise ValueError(f"unexpected ES|QL rule query: {query!r}")
    return condition
