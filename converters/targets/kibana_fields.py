"""Stage 4 (Elastic): the fields a Kibana rule reads, with the mapping types the Elastic
integrations give them (``DataSource.elastic_fields``), for the rule's ``required_fields``.

Kibana shows required fields next to the rule and flags the ones missing from the indices;
a wrong type there misleads the analyst, so each type comes from the data source's table of
what its integration produces. A field a rule reads that the table does not list is a build
error: the table is the evidence that the field exists (tests/test_conformance.py checks the
detection fields against it too)."""

from __future__ import annotations

from converters.alerts import detection_fields, disposable_fields
from converters.artifacts.kibana import RequiredField
from converters.backends.eql import ENRICHMENT_ROOT
from converters.backends.new_terms import new_terms_of
from converters.errors import DacError, Problem
from converters.loading.rules import RuleDoc, RuleSet
from converters.sources import DataSource

# The rule id in Kibana's alerts index, which a correlation of correlations reads.
ALERT_RULE_ID = "kibana.alert.rule.rule_id"
# The disposable-domain enrichment is this package's own (converters.targets.enrichment): it
# writes the listed domain, a keyword.
ENRICHMENT_TYPE = "keyword"


def reads_alerts(ruleset: RuleSet, doc: RuleDoc) -> bool:
    """A correlation of correlations: in Elastic it reads the inner rules' alerts."""
    refs = doc.document.get("correlation", {}).get("rules", [])
    return any(ruleset.ref(r).is_correlation for r in refs)


def _group_fields(doc: RuleDoc, base: RuleDoc) -> list[str]:
    """The Sigma fields a correlation groups ``base``'s events by (an alias names the field
    per rule)."""
    correlation = doc.document.get("correlation") or {}
    aliases = correlation.get("aliases") or {}
    names = []
    for group in correlation.get("group-by", []):
        alias = aliases.get(group)
        names.append(str(alias.get(base.name, group)) if isinstance(alias, dict) else str(group))
    return names


def _sigma_fields(doc: RuleDoc, base: RuleDoc) -> list[str]:
    """The Sigma fields of ``base`` that ``doc``'s query reads."""
    names = list(detection_fields(base))
    terms = new_terms_of(base.document)
    if terms:
        names += terms.fields
    if doc.is_correlation:
        names += _group_fields(doc, base)
        condition = doc.document["correlation"].get("condition", {})
        if "field" in condition:  # value_count counts the distinct values of a field
            names.append(str(condition["field"]))
    if doc.absence:
        # The two rules' events are joined on match: keys in the rule's own source, values
        # in the follow-up rule's.
        match = dict(doc.absence["match"])
        names += [str(k) for k in match] if base is doc else [str(v) for v in match.values()]
    return names


def _elastic_names(ruleset: RuleSet, doc: RuleDoc) -> list[tuple[str, DataSource | None]]:
    """(Elastic field, the source whose table types it; None: this package's own field)."""
    if reads_alerts(ruleset, doc):
        found: list[tuple[str, DataSource | None]] = [(ALERT_RULE_ID, None)]
        for base in ruleset.base_rules_of(doc):
            source = ruleset.sources_of(base)[0]
            for group in doc.document["correlation"].get("group-by", []):
                field = source.field(group)
                if field:
                    found.append((field.elastic, source))
        return found
    found = []
    for base in ruleset.base_rules_of(doc):
        source = ruleset.sources_of(base)[0]
        found.append(("event.dataset", source))
        disposable = set(disposable_fields(base))
        for sigma_name in _sigma_fields(doc, base):
            field = source.field(sigma_name)
            if field is None:  # a keyword-only detection item names no field
                continue
            found.append((field.elastic, source))
            if field.address_key and sigma_name in disposable:
                found.append((f"{ENRICHMENT_ROOT}.{field.address_key}", None))
    return found


def required_fields(ruleset: RuleSet, doc: RuleDoc) -> tuple[RequiredField, ...]:
    """Every field the rule's query reads, with its mapping type, sorted by name. A field of
    a source's array (an address list) has the type of its elements, as in the mapping."""
    types: dict[str, set[str]] = {}
    missing: dict[str, DataSource] = {}
    for name, source in _elastic_names(ruleset, doc):
        if source is None:
            types.setdefault(name, set()).add(ENRICHMENT_TYPE)
            continue
        produced = source.elastic_field(name)
        if produced is None:
            missing.setdefault(name, source)
            continue
        types.setdefault(name, set()).add(produced.type)
    problems = [
        Problem(
            doc.path,
            f"elastic: the rule reads {name}, which is not among the fields the "
            f"{source.elastic_integration} integration produces for {source.name} "
            "(DataSource.elastic_fields): add it there, with its mapping type and the record "
            "that shows it",
            rule=doc.id,
        )
        for name, source in missing.items()
    ]
    for name, kinds in sorted(types.items()):
        if len(kinds) > 1:
            problems.append(
                Problem(
                    doc.path,
                    f"elastic: {name} has different mapping types in the sources the rule "
                    f"reads ({', '.join(sorted(kinds))})",
                    rule=doc.id,
                )
            )
    if problems:
        raise DacError(problems)
    return tuple(RequiredField(name, next(iter(kinds))) for name, kinds in sorted(types.items()))
