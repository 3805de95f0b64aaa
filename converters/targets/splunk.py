"""Stage 4 (Splunk): rules, queries and playbook text -> the app model."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from converters import attack
from converters.artifacts.splunk import Lookup, SplunkApp, Stanza
from converters.backends.absence import KEY as ABSENCE_KEY
from converters.backends.splunk import (
    DISPOSABLE_LOOKUP,
    THREAT_INTEL_COLUMNS,
    THREAT_INTEL_LOOKUP,
    filter_macro,
)
from converters.domains import DomainList
from converters.errors import DacError, Problem
from converters.loading.rules import RuleDoc, RuleSet
from converters.playbook.model import AlertContext
from converters.sources import SOURCES
from converters.timing import schedule_for
from converters.valuelists import ValueList
from converters.writers.conf import ConfValueError, conf_value

APP_ID = "dac_t1585"
APP_LABEL = "T1585.002 Email Account Detections"
SECURITY_DOMAIN = "identity"
# Risk per level, as Splunk ES risk-based alerting scores it (0-100).
RISK_SCORE = {"informational": 10, "low": 25, "medium": 50, "high": 75, "critical": 100}


def _risk(doc: RuleDoc, entity_fields: list[str]) -> str:
    objects = [
        {
            "risk_object_field": field,
            "risk_object_type": "user",
            "risk_score": RISK_SCORE[doc.level],
        }
        for field in entity_fields
    ]
    return json.dumps(objects, separators=(",", ":"))


def _annotations(doc: RuleDoc) -> str:
    _, techniques = attack.split_tags(doc.tags)
    return json.dumps(
        {"mitre_attack": techniques, "dac_indicator": [doc.indicator]}, separators=(",", ":")
    )


def _event_search(query: str) -> str:
    """The first line of a rule's search (data-source macro and conditions); an absence rule's
    comes first inside its multisearch."""
    opening = "| multisearch\n[search "
    if query.startswith(opening):
        query = query[len(opening) :]
    return query.split("\n")[0]


def _drilldowns(
    ruleset: RuleSet, doc: RuleDoc, queries: Mapping[str, str], fields: list[str]
) -> str:
    """One drilldown per single-event rule behind the alert: its search (the first line of
    its query: data-source macro and conditions), narrowed to the alert's group."""
    aliases: dict[str, Any] = {}
    if doc.is_correlation:
        aliases = doc.document["correlation"].get("aliases") or {}
    drilldowns = []
    for base in ruleset.base_rules_of(doc):
        narrowing = []
        if doc.absence and base is not doc:
            # The follow-up rule's events of the account the alert names (absence.KEY).
            ((_, later_field),) = dict(doc.absence["match"]).items()
            source = ruleset.sources_of(base)[0].field(str(later_field))
            raw = source.splunk if source else str(later_field)
            drilldowns.append(
                {
                    "name": f"Events of {base.title} for the account",
                    "search": f'{_event_search(queries[base.id])} "{raw}"="$result.{ABSENCE_KEY}$"',
                    "earliest_offset": "$info_min_time$",
                    "latest_offset": "$info_max_time$",
                }
            )
            continue
        for name in fields:
            field = aliases.get(name, {}).get(base.name, aliases.get(name, {}).get(base.id, name))
            source = ruleset.sources_of(base)[0].field(field)
            raw = source.splunk if source else field
            narrowing.append(f'"{raw}"="$result.{name}$"')
        drilldowns.append(
            {
                "name": f"Events of {base.title}",
                "search": " ".join([_event_search(queries[base.id]), *narrowing]),
                "earliest_offset": "$info_min_time$",
                "latest_offset": "$info_max_time$",
            }
        )
    return json.dumps(drilldowns, separators=(",", ":"))


def saved_search(
    ruleset: RuleSet,
    doc: RuleDoc,
    queries: Mapping[str, str],
    context: AlertContext,
    description: str,
    next_steps: str,
) -> Stanza:
    schedule = schedule_for(doc, ruleset)
    group_fields = [e.field for e in context.entities if e.field != "event_count"]
    user_fields = group_fields[:1]
    # The drilldown narrows the raw events, which lack the fields the search evaluates.
    raw_fields = [f for f in group_fields if not f.startswith("dac_")]
    settings: list[tuple[str, str]] = [
        ("description", " ".join(str(doc.document["description"]).split())),
        ("search", queries[doc.id]),
        # A building block's search lives on inside the rules that read it; its own notables
        # would flood the queue, so it ships disabled (enable it to hunt with it).
        ("disabled", "1" if doc.building_block else "0"),
        ("enableSched", "1"),
        ("cron_schedule", schedule.splunk_cron),
        ("schedule_window", "auto"),
        ("dispatch.earliest_time", schedule.splunk_earliest),
        ("dispatch.latest_time", schedule.splunk_latest),
        ("counttype", "number of events"),
        ("relation", "greater than"),
        ("quantity", "0"),
        ("alert.digest_mode", "0"),
        ("alert.track", "0"),
        ("action.correlationsearch.enabled", "1"),
        ("action.correlationsearch.label", doc.title),
        ("action.correlationsearch.annotations", _annotations(doc)),
        ("action.notable", "1"),
        ("action.notable.param.rule_title", f"{doc.title} ($result.{group_fields[0]}$)"),
        ("action.notable.param.rule_description", description),
        ("action.notable.param.security_domain", SECURITY_DOMAIN),
        ("action.notable.param.severity", doc.level),
        (
            "action.notable.param.next_steps",
            json.dumps({"version": 1, "data": next_steps}, ensure_ascii=False),
        ),
        (
            "action.notable.param.drilldown_searches",
            _drilldowns(ruleset, doc, queries, raw_fields),
        ),
        ("action.risk", "1"),
        ("action.risk.param._risk", _risk(doc, user_fields)),
        ("action.risk.param._risk_message", f"{doc.title}: $result.{group_fields[0]}$"),
    ]
    if doc.is_correlation:
        # Overlapping runs see the same burst again; one notable per group and window.
        settings += [
            ("alert.suppress", "1"),
            ("alert.suppress.fields", ",".join(group_fields)),
            ("alert.suppress.period", f"{schedule.window_seconds}s"),
        ]
    return Stanza(doc.title, tuple(settings))


def macros(ruleset: RuleSet) -> tuple[Stanza, ...]:
    stanzas = [
        Stanza(
            s.splunk_macro,
            (
                ("definition", s.splunk_macro_definition),
                ("description", f"Data source: {s.title}. Set the index here (local/macros.conf)."),
            ),
        )
        for s in SOURCES
    ]
    stanzas += [
        Stanza(
            filter_macro(doc.name),
            (
                ("definition", "search *"),
                ("description", f"Tuning for '{doc.title}': override in local/macros.conf."),
            ),
        )
        for doc in ruleset.docs
    ]
    return tuple(sorted(stanzas, key=lambda s: s.name))


def disposable_lookup(domains: DomainList) -> Lookup:
    """Wildcard rows walk parent domains; allowlisted rows come first with no output, so they
    win (max_matches = 1 takes the first matching row)."""
    rows: list[tuple[str, str]] = []
    for domain in sorted(domains.allowlisted):
        rows += [(domain, ""), (f"*.{domain}", "")]
    for domain in sorted(domains.domains):
        rows += [(domain, domain), (f"*.{domain}", domain)]
    filename = f"{DISPOSABLE_LOOKUP}.csv"
    transform = Stanza(
        DISPOSABLE_LOOKUP,
        (
            ("filename", filename),
            ("match_type", "WILDCARD(domain)"),
            ("case_sensitive_match", "false"),
            ("max_matches", "1"),
        ),
    )
    return Lookup(
        DISPOSABLE_LOOKUP, filename, ("domain", "disposable_domain"), tuple(rows), transform
    )


def threat_intel_lookup(networks: ValueList) -> Lookup:
    """The customer's threat-intelligence networks as a CIDR lookup (the searches test the
    creating session's address against it after the index search)."""
    rows = []
    for network, details in zip(
        networks.values, networks.details or [()] * len(networks.values), strict=True
    ):
        source = details[0] if details and details[0] else "listed"  # the search tests source=*
        confidence = details[1] if len(details) > 1 else ""
        rows.append((network, source, confidence))
    filename = f"{THREAT_INTEL_LOOKUP}.csv"
    transform = Stanza(
        THREAT_INTEL_LOOKUP,
        (("filename", filename), ("match_type", "CIDR(network)"), ("max_matches", "1")),
    )
    return Lookup(
        THREAT_INTEL_LOOKUP,
        filename,
        ("network", *THREAT_INTEL_COLUMNS),
        tuple(rows),
        transform,
    )


def make_app(
    ruleset: RuleSet,
    queries: dict[str, str],
    render: Callable[[RuleDoc], tuple[AlertContext, str, str]],
    domains: DomainList,
    version: str,
    build: int,
    threat_intel: ValueList,
) -> SplunkApp:
    searches = []
    problems: list[Problem] = []
    for doc in sorted((d for d in ruleset.docs if d.id in queries), key=lambda d: d.title):
        context, description, next_steps = render(doc)
        stanza = saved_search(ruleset, doc, queries, context, description, next_steps)
        for key, value in stanza.settings:
            try:
                conf_value(value)
            except ConfValueError as exc:
                reason = f"splunk: {key} cannot be stored in savedsearches.conf: {exc}"
                problems.append(Problem(doc.path, reason, rule=doc.id))
        searches.append(stanza)
    if problems:
        raise DacError(problems)
    return SplunkApp(
        app_id=APP_ID,
        label=APP_LABEL,
        version=version,
        description=(
            "Detections for MITRE ATT&CK T1585.002 with the analyst playbook in each notable."
        ),
        author="dac-t1585",
        build=build,
        saved_searches=tuple(searches),
        macros=macros(ruleset),
        lookups=(disposable_lookup(domains), threat_intel_lookup(threat_intel)),
    )
