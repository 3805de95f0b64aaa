"""Stage 4 (Elastic): rules, queries and playbook text -> Kibana detection rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from converters import attack
from converters.alerts import entities_for, target_field
from converters.artifacts.kibana import (
    SEVERITY,
    InvestigationFields,
    KibanaRule,
    RelatedIntegration,
)
from converters.backends.absence import KEY as ABSENCE_KEY
from converters.backends.eql import ENRICHMENT_ROOT
from converters.backends.new_terms import history_window_start, kibana_fields, new_terms_of
from converters.incidents import incident_of
from converters.loading.rules import RuleDoc, RuleSet
from converters.sources import DataSource
from converters.targets.kibana_fields import reads_alerts, required_fields
from converters.timing import Schedule, schedule_for

MAX_SIGNALS = 100


def threat(doc: RuleDoc) -> tuple[dict[str, Any], ...]:
    """Kibana's ``threat`` array from the rule's ATT&CK tags, grouped by tactic."""
    known = attack.load()
    tactics, techniques = attack.split_tags(doc.tags)
    entries: list[dict[str, Any]] = []
    for shortname in tactics:
        tactic = known.tactics[shortname]
        grouped: dict[str, dict[str, Any]] = {}
        for technique_id in techniques:
            technique = known.techniques[technique_id]
            if shortname not in technique.tactics:
                continue
            parent_id = technique.parent_id or technique.id
            parent = known.techniques[parent_id]
            entry = grouped.setdefault(
                parent_id,
                {"id": parent.id, "name": parent.name, "reference": parent.url, "subtechnique": []},
            )
            if technique.parent_id:
                entry["subtechnique"].append(
                    {"id": technique.id, "name": technique.name, "reference": technique.url}
                )
        entries.append(
            {
                "framework": "MITRE ATT&CK",
                "tactic": {"id": tactic.id, "name": tactic.name, "reference": tactic.url},
                "technique": list(grouped.values()),
            }
        )
    return tuple(entries)


def related_integrations(sources: Sequence[DataSource]) -> tuple[RelatedIntegration, ...]:
    """The Fleet packages (and, in a package of several, the integration) that collect the
    rule's data streams, with the versions that hold them; a source no Fleet package collects
    is left out (Kibana would report it as never installed)."""
    found: list[RelatedIntegration] = []
    for source in sources:
        if not source.elastic_fleet_package:
            continue
        entry = RelatedIntegration(
            source.elastic_integration,
            source.elastic_integration_version,
            source.elastic_policy_template,
        )
        if entry not in found:
            found.append(entry)
    return tuple(found)


def investigation_fields(ruleset: RuleSet, doc: RuleDoc) -> InvestigationFields | None:
    """The alert's entities (the fields the investigation guide names first), in Elastic's
    names; None when the alert has none (Kibana wants at least one field)."""
    names = tuple(dict.fromkeys(e.field for e in entities_for(ruleset, doc, "elastic")))
    return InvestigationFields(names) if names else None


def _setup_line(source: DataSource) -> str:
    if not source.elastic_fleet_package:
        return (
            f"- data stream `{source.elastic_dataset}`: no Fleet integration collects it; set up "
            "its ingest as the dac-t1585 README describes"
        )
    template = source.elastic_policy_template
    return (
        f"- `{source.elastic_integration}` {source.elastic_integration_version}"
        + (f", integration `{template}`" if template else "")
        + f" (data stream `{source.elastic_dataset}`)"
    )


def setup_text(ruleset: RuleSet, doc: RuleDoc) -> str:
    sources = ruleset.sources_of(doc)
    lines = [
        "## Setup",
        "",
        "Install the Elastic integration(s) this rule reads:",
        "",
        *(_setup_line(s) for s in sources),
    ]
    if reads_alerts(ruleset, doc):
        inner = ", ".join(f"`{ruleset.ref(r).title}`" for r in doc.document["correlation"]["rules"])
        lines += [
            "",
            "This rule reads the alerts of the rules it combines, in Kibana's alerts index: "
            f"deploy and enable {inner} in the same space.",
        ]
    if any(f.name.startswith(ENRICHMENT_ROOT) for f in required_fields(ruleset, doc)):
        lines += [
            "",
            "This rule reads the disposable-domain enrichment `dac.disposable_email.*`, set at",
            "ingest time. Load `dist/elastic/enrichment/` (enrich source documents, enrich policy",
            "and the `dac-disposable-email` ingest pipeline) and call that pipeline from the",
            "integration's `@custom` pipeline, as `dist/elastic/enrichment/README.md` explains.",
        ]
    return "\n".join(lines)


def kibana_rule(
    ruleset: RuleSet,
    doc: RuleDoc,
    query: str,
    language: str,
    description: str,
    note: str,
    version: int,
    enabled: bool = True,
) -> KibanaRule:
    severity, risk = SEVERITY[doc.level]
    # A new-terms rule is Kibana's new_terms type; its query is Lucene (converters.compile).
    terms = new_terms_of(doc.document)
    terms_fields = kibana_fields(terms, ruleset.sources_of(doc)[0]) if terms else None
    schedule = schedule_for(doc, ruleset)
    sources = ruleset.sources_of(doc)
    _, techniques = attack.split_tags(doc.tags)
    indicator = language == "lucene" and not terms
    return KibanaRule(
        rule_id=doc.id,
        name=doc.title,
        description=description,
        note=note,
        setup=setup_text(ruleset, doc),
        type="new_terms" if terms else "threat_match" if indicator else language,
        language="lucene" if terms or indicator else language,
        query=query,
        # An ES|QL query names its indices in FROM; Kibana refuses `index` beside it.
        index=None if language == "esql" else tuple(i for s in sources for i in s.elastic_indices),
        severity=severity,
        risk_score=risk,
        threat=threat(doc),
        required_fields=required_fields(ruleset, doc),
        related_integrations=related_integrations(sources),
        interval=schedule.elastic_interval,
        from_=schedule.elastic_from,
        max_signals=MAX_SIGNALS,
        version=version,
        tags=(
            "Domain: Cloud",
            "Use Case: Identity and Access Audit",
            "Tactic: Resource Development",
            *(f"Technique: {t}" for t in techniques),
            f"Indicator: {doc.indicator}",
            *(f"Data Source: {s.elastic_integration}" for s in sources),
            "dac-t1585",
        ),
        author=(str(doc.document["author"]),),
        references=tuple(str(r) for r in doc.document["references"]),
        false_positives=tuple(str(f) for f in doc.document["falsepositives"]),
        license="Apache-2.0",
        enabled=enabled,
        meta={"dac_indicator": doc.indicator, "dac_sigma_name": doc.name},
        new_terms_fields=terms_fields,
        history_window_start=history_window_start(terms) if terms else None,
        building_block_type="default" if doc.building_block else None,
        investigation_fields=investigation_fields(ruleset, doc),
        # ES|QL rules select by @timestamp over a look-back that covers the lag instead.
        timestamp_override=None if language == "esql" else INGEST_TIME,
        timestamp_override_fallback_disabled=None if language == "esql" else False,
        timestamp_field="@timestamp" if language == "eql" and doc.is_correlation else None,
        alert_suppression=_suppression(
            ruleset, doc, terms_fields, schedule, aggregating=language == "esql"
        ),
        **(_indicator_match(ruleset, doc) if indicator else {}),
    )


INGEST_TIME = "event.ingested"
# Elastic's threat-intelligence integrations (ti_*): indicator documents, their address in
# threat.indicator.ip; the last 30 days, without the copies the latest-indicator transforms
# keep (as Elastic's own indicator-match rules read them).
THREAT_INDEX = ("logs-ti_*",)
THREAT_QUERY = (
    '@timestamp >= "now-30d/d" and event.category:threat and event.type:indicator and '
    'threat.indicator.ip:* and not labels.is_ioc_transform_source:"true"'
)


def _indicator_match(ruleset: RuleSet, doc: RuleDoc) -> dict[str, Any]:
    """The keys of a threat_match rule: each address field the rule tests against the
    threat-intelligence list, joined with threat.indicator.ip."""
    source = ruleset.sources_of(doc)[0]
    fields = [
        found.elastic
        for selection in doc.document["detection"].values()
        if isinstance(selection, dict)
        for key, value in selection.items()
        if value == "%threat_intel_ips%" and (found := source.field(key.split("|")[0]))
    ]
    return {
        "threat_index": THREAT_INDEX,
        "threat_query": THREAT_QUERY,
        "threat_language": "kuery",
        "threat_indicator_path": "threat.indicator",
        "threat_mapping": tuple(
            {"entries": [{"field": f, "type": "mapping", "value": "threat.indicator.ip"}]}
            for f in dict.fromkeys(fields)
        ),
    }


def correlation_group_fields(ruleset: RuleSet, doc: RuleDoc) -> list[str]:
    """The correlation's group as its Kibana alerts name it: an alias by its own name, a
    field by the Elastic name of the first rule read that has it."""
    correlation = doc.document["correlation"]
    aliases = correlation.get("aliases") or {}
    names = []
    for group in correlation.get("group-by", []):
        if group in aliases:
            names.append(str(group))
            continue
        fields = [
            field
            for base in ruleset.base_rules_of(doc)
            if (field := ruleset.sources_of(base)[0].field(str(group))) is not None
        ]
        names.append(fields[0].elastic if fields else str(group))
    return names


_MAX_GROUP_BY = 3  # Kibana's AlertSuppressionGroupBy


def _suppression(
    ruleset: RuleSet,
    doc: RuleDoc,
    terms_fields: tuple[str, ...] | None,
    schedule: Schedule,
    aggregating: bool = False,
) -> dict[str, Any] | None:
    """One alert per incident (converters/incidents.py). Correlations, new terms and
    absences: one alert per group for as long as a late record could make a later run find
    the same window again. Single-event rules: one per entity within the rule's period; not
    building blocks, whose every alert the rules that read the alerts index count."""
    incident = incident_of(doc, ruleset)
    minutes = -(-schedule.suppress_seconds // 60)
    if terms_fields:
        group = list(terms_fields)
    elif doc.absence:
        group = [ABSENCE_KEY]
    elif doc.is_correlation:
        group = correlation_group_fields(ruleset, doc)
    elif doc.building_block:
        return None
    else:
        source = ruleset.sources_of(doc)[0]
        group = [target_field(source, name, "elastic") for name in incident.fields]
        minutes = -(-incident.siem_seconds // 60)
    if not group or len(group) > _MAX_GROUP_BY:
        return None
    if aggregating:
        # An ES|QL row has no source ids to deduplicate on: the same evidence makes a row in
        # every run while it stays in the look-back, so the suppression outlasts the
        # look-back and a late-starting run (tests/test_schedule_replay.py).
        minutes = max(minutes, schedule.lookback_minutes + schedule.interval_minutes)
    elif doc.is_correlation:
        # An EQL sequence is new when its events differ: as the burst's first documents
        # leave a run's look-back, the next run pairs the rest anew. Its last record comes
        # up to the window and the lag after the first alert and stays a look-back, so the
        # suppression lasts all of that (a 150-message burst smeared over Gmail's lag gave
        # a second alert in the replay).
        window = -(-schedule.window_seconds // 60)
        lasting = window + schedule.lag_minutes + schedule.lookback_minutes
        minutes = max(minutes, lasting + schedule.interval_minutes)
    return {
        "group_by": group,
        "duration": {"value": minutes, "unit": "m"},
        "missing_fields_strategy": "suppress",
    }
