"""New terms: a rule's event whose combination of field values did not occur in the history.

Sigma has no construct for "never seen before"; a rule says it with our ``new_terms`` key
(``fields``; the ``history`` comes from sigma_rules/thresholds.yml). The history is the
rule's own matching events, which is what Kibana's new_terms rule type compares against, so
the three targets agree:

- Elastic: Kibana's ``new_terms`` rule (Lucene query, ``new_terms_fields``,
  ``history_window_start``).
- Splunk: the search runs over the history plus the schedule's window and keeps each
  combination's first event when it falls in the newest window.
- SQLite (tests, ``dac hunt``): an event with no matching event of the same values within the
  history before it. Events in the first history-long stretch of the data read only build the
  history: nothing earlier was read, so nothing there can be called new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from converters.datasources.model import DataSource
from converters.engine.adapters import TIMESTAMP
from converters.timing import slot_condition, timespan_seconds

FIRST_SEEN = "dac_first_seen"


@dataclass(frozen=True)
class NewTerms:
    fields: tuple[str, ...]  # Sigma field names
    history: str  # e.g. "30d"

    @property
    def history_seconds(self) -> int:
        return timespan_seconds(self.history)


def new_terms_of(document: dict[str, object]) -> NewTerms | None:
    value = document.get("new_terms")
    if not isinstance(value, dict):
        return None
    return NewTerms(tuple(str(f) for f in value["fields"]), str(value["history"]))


def unknown_fields(terms: NewTerms, source: DataSource) -> list[str]:
    return [name for name in terms.fields if source.field(name) is None]


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_query(base: str, terms: NewTerms) -> str:
    """The rule's events (``base``: SELECT * FROM logs WHERE ...) that are new."""
    seconds = terms.history_seconds
    shift = f"'-{seconds} seconds'"
    same = " AND ".join(f"h.{_sql_name(f)} IS e.{_sql_name(f)}" for f in terms.fields)
    ts = _sql_name(TIMESTAMP)
    stamp = "'%Y-%m-%dT%H:%M:%f'"
    return (
        f"SELECT e.* FROM ({base}) AS e "
        f"WHERE e.{ts} >= (SELECT strftime({stamp}, MIN({ts}), '+{seconds} seconds') FROM logs) "
        f"AND NOT EXISTS (SELECT 1 FROM ({base}) AS h WHERE {same} "
        f"AND h.{ts} < e.{ts} AND h.{ts} >= strftime({stamp}, e.{ts}, {shift}))"
    )


def splunk_query(base: str, terms: NewTerms, source: DataSource) -> str:
    """``base`` runs over the history, the lag and the run's slot (dispatch.earliest_time); a
    combination alerts with its first event when that event was indexed in the run's slot
    (converters.timing), however late it came."""
    names = [_splunk_name(source, f) for f in terms.fields]
    # The filter macro ends the base search; its events keep every field for the notable.
    return (
        f"{base}\n"
        f"| eventstats min(_time) AS {FIRST_SEEN} BY {' '.join(names)}\n"
        f"| where _time={FIRST_SEEN}\n"
        f"{slot_condition('_indextime')}"
    )


def _splunk_name(source: DataSource, sigma_name: str) -> str:
    field = source.field(sigma_name)
    if field is None:
        raise KeyError(sigma_name)
    name = field.splunk_result
    return name if re.fullmatch(r"[A-Za-z_][\w.]*", name) else f'"{name}"'


def kibana_fields(terms: NewTerms, source: DataSource) -> tuple[str, ...]:
    result = []
    for name in terms.fields:
        field = source.field(name)
        if field is None:
            raise KeyError(name)
        result.append(field.elastic)
    return tuple(result)


def history_window_start(terms: NewTerms) -> str:
    return f"now-{terms.history}"
