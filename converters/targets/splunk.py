"""Stage 4 (Splunk): rules, queries and playbook text -> the app model."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from converters import attack
from converters.alerts import disposable_fields, target_field
from converters.artifacts.splunk import SplunkApp, Stanza
from converters.backends.absence import KEY as ABSENCE_KEY
from converters.backends.new_terms import new_terms_of
from converters.backends.splunk import (
    THREAT_INTEL_LOOKUP,
    THREAT_INTEL_MACRO,
    disposable_output,
    filter_macro,
)
from converters.domains import DomainList
from converters.errors import DacError, Problem
from converters.incidents import incident_of
from converters.loading.rules import RuleDoc, RuleSet
from converters.playbook.model import AlertContext
from converters.playbook.render import splunk_text as literal
from converters.sources import SOURCES
from converters.targets.splunk_lookups import disposable_lookup, threat_intel_lookup
from converters.timing import schedule_for
from converters.valuelists import ValueList
from converters.writers.conf import ConfValueError, conf_value

APP_ID = "dac_t1585"
APP_LABEL = "T1585.002 Email Account Detections"
SECURITY_DOMAIN = "identity"
# Risk per level, as Splunk ES risk-based alerting scores it (0-100).
RISK_SCORE = {"informational": 10, "low": 25, "medium": 50, "high": 75, "critical": 100}


def _risk(ruleset: RuleSet, doc: RuleDoc, entity_fields: list[str]) -> str:
    """Risk objects as Splunk's content writes them: accounts as ``user``, addresses and host
    names as ``system``; a listed disposable domain the alert names as a threat object."""
    objects: list[dict[str, object]] = []
    for name in entity_fields:
        kind = _risk_type(ruleset, doc, name)
        if kind is not None:
            objects.append(
                {
                    "risk_object_field": name,
                    "risk_object_type": kind,
                    "risk_score": RISK_SCORE[doc.level],
                }
            )
    for name in sorted({disposable_output(f) for f in disposable_fields(doc)}):
        objects.append({"threat_object_field": name, "threat_object_type": "domain"})
    return json.dumps(objects, separators=(",", ":"))


_HOST_FIELDS = frozenset({"dst_hostname", "cs-host", "query"})


def _risk_type(ruleset: RuleSet, doc: RuleDoc, splunk_name: str) -> str | None:
    """user, system or None (a value that is neither an account nor a machine)."""
    for base in ruleset.base_rules_of(doc):
        for source in ruleset.sources_of(base):
            for field in source.fields:
                if splunk_name not in (field.splunk_result, field.sigma):
                    continue
                produced = source.elastic_field(field.elastic)
                address = field.sigma.rsplit(".", 1)[-1].lower().endswith(("ip", "ipaddress"))
                if (produced and produced.type == "ip") or address or field.sigma in _HOST_FIELDS:
                    return "system"
                if _identity(field.sigma):
                    return "user"
                return None
    # A correlation's group under an alias name: an identity unless it names an address.
    return "system" if "ip" in splunk_name.lower() else "user"


def _identity(sigma_name: str) -> bool:
    last = sigma_name.rsplit(".", 1)[-1].lower()
    return last in {
        "email", "userid", "objectid", "userprincipalname", "user_email", "account",
        "senderaddress", "recipientaddress", "address", "username", "cs-username", "c-username",
    }  # fmt: skip


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
                    "name": f"Events of {literal(base.title)} for the account",
                    "search": f"{literal(_event_search(queries[base.id]))} "
                    f'"{raw}"="$result.{ABSENCE_KEY}$"',
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
                "name": f"Events of {literal(base.title)}",
                "search": " ".join([literal(_event_search(queries[base.id])), *narrowing]),
                "earliest_offset": "$info_min_time$",
                "latest_offset": "$info_max_time$",
            }
        )
    return json.dumps(drilldowns, separators=(",", ":"))


def _metadata(doc: RuleDoc, version: int) -> str:
    """What Splunk's content generator writes for ES to track a detection's version."""
    published = datetime.fromisoformat(str(doc.document["date"])).replace(tzinfo=UTC)
    return json.dumps(
        {
            "detection_id": doc.id,
            "deprecated": "0",
            "detection_version": str(version),
            "publish_time": published.timestamp(),
        },
        separators=(",", ":"),
    )


def saved_search(
    ruleset: RuleSet,
    doc: RuleDoc,
    queries: Mapping[str, str],
    context: AlertContext,
    text: tuple[str, str],
    version: int,
    ship_disabled: bool = False,
) -> Stanza:
    description, next_steps = text
    schedule = schedule_for(doc, ruleset)
    group_fields = [e.field for e in context.entities if e.field != "event_count"]
    # The drilldown narrows the raw events, which lack the fields the search evaluates.
    raw_fields = [f for f in group_fields if not f.startswith("dac_")]
    # A building block's search lives on inside the rules that read it; its own notables
    # would flood the queue, so it ships disabled (enable it to hunt with it).
    disabled = ship_disabled or doc.building_block
    settings: list[tuple[str, str]] = [
        ("description", " ".join(str(doc.document["description"]).split())),
        ("search", queries[doc.id]),
        ("disabled", "1" if disabled else "0"),
        ("enableSched", "1"),
        ("cron_schedule", schedule.splunk_cron),
        ("schedule_window", "auto"),
        ("dispatch.earliest_time", schedule.splunk_earliest),
        ("dispatch.latest_time", schedule.splunk_latest),
    ]
    if schedule.splunk_index_earliest and schedule.splunk_index_latest:
        # A single-event search reads the records indexed in its slot, whenever they
        # happened within the lag (converters.timing).
        settings += [
            ("dispatch.index_earliest", schedule.splunk_index_earliest),
            ("dispatch.index_latest", schedule.splunk_index_latest),
        ]
    settings += [
        ("counttype", "number of events"),
        ("relation", "greater than"),
        ("quantity", "0"),
        ("alert.digest_mode", "0"),
        ("alert.track", "0"),
        ("action.correlationsearch.enabled", "1"),
        ("action.correlationsearch.detection_type", "ebd"),
        ("action.correlationsearch.label", doc.title),
        ("action.correlationsearch.annotations", _annotations(doc)),
        ("action.correlationsearch.metadata", _metadata(doc, version)),
        ("action.notable", "1"),
        ("action.notable.param.rule_title", f"{literal(doc.title)} ($result.{group_fields[0]}$)"),
        ("action.notable.param.rule_description", description),
        ("action.notable.param.security_domain", SECURITY_DOMAIN),
        ("action.notable.param.severity", doc.level),
        ("action.notable.param.nes_fields", ",".join(group_fields)),
        (
            "action.notable.param.next_steps",
            json.dumps({"version": 1, "data": next_steps}, ensure_ascii=False),
        ),
        (
            "action.notable.param.drilldown_searches",
            _drilldowns(ruleset, doc, queries, raw_fields),
        ),
        ("action.risk", "1"),
        ("action.risk.param._risk", _risk(ruleset, doc, group_fields)),
        ("action.risk.param._risk_message", f"{literal(doc.title)}: $result.{group_fields[0]}$"),
        # The score is per risk object (in _risk), as Splunk's content sets it.
        ("action.risk.param._risk_score", "0"),
        ("action.risk.param.verbose", "0"),
    ]
    if doc.building_block:
        settings = [(k, v) for k, v in settings if not k.startswith(_ANALYST_ACTIONS)]
    suppress = _suppress_fields(ruleset, doc, group_fields)
    if suppress:
        settings += [
            ("alert.suppress", "1"),
            ("alert.suppress.fields", ",".join(suppress)),
            ("alert.suppress.period", f"{_suppress_seconds(ruleset, doc)}s"),
        ]
    return Stanza(doc.title, tuple(settings))


# A building block is no notable and no risk event, enabled or not: the correlations that
# count its events inline its search (| multisearch), so it never needs to run; enabled to
# hunt with it, its results stay in the search's own results.
_ANALYST_ACTIONS = ("action.notable", "action.risk")


def _suppress_seconds(ruleset: RuleSet, doc: RuleDoc) -> int:
    """Correlations, new terms, absences: the window and the dispatch overlap; single-event
    rules: the rule's incident period and the dispatch overlap (converters/incidents.py)."""
    if doc.is_correlation or doc.new_terms or doc.absence:
        return schedule_for(doc, ruleset).suppress_seconds
    return incident_of(doc, ruleset).siem_seconds


def _suppress_fields(ruleset: RuleSet, doc: RuleDoc, group_fields: list[str]) -> list[str]:
    """A burst a late record extends, seen again by a later run; an account whose absence a
    rerun decides again; a combination whose earlier event came late and is "first" again:
    one notable per group within the window and the lag."""
    if doc.absence:
        return [ABSENCE_KEY]
    if doc.is_correlation:
        return group_fields
    terms = new_terms_of(doc.document)
    if terms:
        source = ruleset.sources_of(doc)[0]
        return [f.splunk_result for f in map(source.field, terms.fields) if f is not None]
    if doc.building_block:
        return []
    # A single event: one notable per entity within the rule's period.
    source = ruleset.sources_of(doc)[0]
    return [target_field(source, name, "splunk") for name in incident_of(doc, ruleset).fields]


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
    stanzas += threat_intel_macros()
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


def threat_intel_macros() -> list[Stanza]:
    """How a search tests an address against threat intelligence: the package's CIDR lookup
    (lists/threat_intel_ips.csv) by default; with Enterprise Security, define the first macro
    in local/macros.conf as the second (ES's ip_intel collection: its threat_key names the
    source, its weight stands for the confidence)."""
    args = ("address", "source", "confidence")
    signature = f"{THREAT_INTEL_MACRO}({len(args)})"
    package = (
        f"lookup {THREAT_INTEL_LOOKUP} network AS $address$ "
        "OUTPUT source AS $source$ confidence AS $confidence$"
    )
    es = "lookup ip_intel ip AS $address$ OUTPUTNEW threat_key AS $source$ weight AS $confidence$"
    return [
        Stanza(
            signature,
            (
                ("args", ",".join(args)),
                ("definition", package),
                (
                    "description",
                    "Threat intelligence: the package's CIDR lookup. With Enterprise Security, "
                    f"define it in local/macros.conf as `{THREAT_INTEL_MACRO}_es($address$,"
                    "$source$,$confidence$)`.",
                ),
            ),
        ),
        Stanza(
            f"{THREAT_INTEL_MACRO}_es({len(args)})",
            (
                ("args", ",".join(args)),
                ("definition", es),
                ("description", "Threat intelligence from Enterprise Security's ip_intel."),
            ),
        ),
    ]


def make_app(
    ruleset: RuleSet,
    queries: dict[str, str],
    render: Callable[[RuleDoc], tuple[AlertContext, str, str]],
    domains: DomainList,
    version: str,
    build: int,
    threat_intel: ValueList,
    rule_versions: Mapping[str, int],
    ship_disabled: bool = False,
) -> SplunkApp:
    searches = []
    problems: list[Problem] = []
    for doc in sorted((d for d in ruleset.docs if d.id in queries), key=lambda d: d.title):
        context, description, next_steps = render(doc)
        stanza = saved_search(
            ruleset,
            doc,
            queries,
            context,
            (description, next_steps),
            rule_versions[doc.id],
            ship_disabled,
        )
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
