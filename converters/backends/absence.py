"""Absence: a rule's event that no event of another rule follows within a time.

"A new account with no sign-in within N days" has no Sigma construct (a correlation counts
what happened). A rule says it with our ``absence`` key: the follow-up ``rule`` and how its
fields ``match`` this rule's; ``within`` comes from sigma_rules/thresholds.yml. The alert is
the rule's event, raised once ``within`` has passed without a follow-up:

- SQLite (tests, ``dac hunt``): the event, older than ``within`` at the newest time read, with
  no follow-up event after it within ``within``.
- Splunk: both searches run side by side (multisearch) over ``within`` plus the schedule's
  window; an event from ``within`` ago with no later follow-up alerts.
- Elastic: an ES|QL rule over both rules' indices, same look-back, grouped by the matched
  value (its alert names the value, not the whole event).
"""

from __future__ import annotations

from dataclasses import dataclass

from converters.datasources.model import DataSource
from converters.engine.adapters import TIMESTAMP
from converters.timing import timespan_seconds


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
FOLLOWUP = "dac_last_followup"


def splunk_query(
    base: str,
    followup: str,
    absence: Absence,
    source: DataSource,
    followup_source: DataSource,
    window_minutes: int,
) -> str:
    mine = _splunk_value(source, absence.field)
    theirs = _splunk_value(followup_source, absence.followup_field)
    late = absence.seconds
    # multisearch, not append: a subsearch stops at 50,000 results, and a week of sign-ins is
    # more than that in a large tenant (missing sign-ins would raise false alerts).
    return "\n".join(
        [
            "| multisearch",
            f"[search {base}\n| eval {KEY}=lower({mine}), {CREATED}=_time]",
            f"[search {followup}\n| eval {KEY}=lower({theirs}), dac_followup=_time]",
            f"| eventstats max(dac_followup) AS {FOLLOWUP} BY {KEY}",
            f'| where isnotnull({CREATED}) AND {CREATED}<=relative_time(now(), "-{late}s") '
            f'AND {CREATED}>relative_time(now(), "-{late + window_minutes * 60}s") '
            f"AND (isnull({FOLLOWUP}) OR {FOLLOWUP}<{CREATED})",
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
) -> str:
    indices = [*source.elastic_indices]
    indices += [i for i in followup_source.elastic_indices if i not in indices]
    mine, theirs = f"({condition})", f"({followup_condition})"
    days = absence.seconds // 86400
    late = f"{days} days" if days * 86400 == absence.seconds else f"{absence.seconds} seconds"
    mine_field = _esql_field(source, absence.field)
    theirs_field = _esql_field(followup_source, absence.followup_field)
    return "\n".join(
        [
            f"FROM {', '.join(indices)}",
            f"| WHERE {mine} OR {theirs}",
            f"| EVAL {KEY} = TO_LOWER(CASE({mine}, {mine_field}, {theirs}, {theirs_field})), "
            f"{CREATED} = CASE({mine}, @timestamp), dac_followup = CASE({theirs}, @timestamp)",
            f"| STATS {CREATED} = MIN({CREATED}), {FOLLOWUP} = MAX(dac_followup) BY {KEY}",
            f"| WHERE {CREATED} IS NOT NULL AND {CREATED} <= NOW() - {late} "
            f"AND ({FOLLOWUP} IS NULL OR {FOLLOWUP} < {CREATED})",
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
