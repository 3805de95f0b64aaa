"""Pipelines per data source and target, assembled from converters.sources."""

from __future__ import annotations

from collections.abc import Mapping

from sigma.processing.conditions import (
    IncludeFieldCondition,
    LogsourceCondition,
    RuleProcessingCondition,
)
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldMappingTransformation,
    MapStringTransformation,
    SetStateTransformation,
)

from converters.pipelines.placeholders import (
    DisposableDomainPlaceholderTransformation,
    LookupPlaceholderTransformation,
)
from converters.pipelines.strict import KnownLogsourceTransformation, StrictFieldsTransformation
from converters.pipelines.valuelists import ValueListTransformation
from converters.sources import SOURCES, DataSource
from converters.valuelists import ValueList

TARGETS = ("splunk", "elastic", "sqlite")

# Lists Splunk matches through a CIDR lookup after the search rather than in it: a feed of
# tens of thousands of networks does not fit in a query (converters/backends/splunk.py).
SPLUNK_LOOKUP_LISTS = frozenset({"threat_intel_ips"})
# Lists Kibana matches through an indicator-match rule against the threat-intelligence
# indices instead (converters/targets/kibana.py): the query only asks that the field be there.
ELASTIC_INDICATOR_LISTS = frozenset({"threat_intel_ips"})


def expanded_lists(target: str, names: frozenset[str]) -> frozenset[str]:
    """The lists ``target`` writes into its queries (the others it reads in the SIEM)."""
    kept = {"splunk": SPLUNK_LOOKUP_LISTS, "elastic": ELASTIC_INDICATOR_LISTS}.get(target)
    return names - (kept or frozenset())


# The reference engine's table keeps every source's events; this column says which.
SQLITE_SOURCE_COLUMN = "dac_source"


def _value_map(mapping: Mapping[str, tuple[str, ...]]) -> dict[str, str | list[str]]:
    """A raw value -> the one value, or every value, the target's query tests for it."""
    return {raw: list(values) if len(values) > 1 else values[0] for raw, values in mapping.items()}


def _field_map(source: DataSource, target: str, evaluated: bool) -> dict[str, str]:
    if target == "splunk":
        return source.splunk_map(evaluated=evaluated)
    if target == "elastic":
        return source.elastic_map()
    return {name: name for name in source.field_names()}


def source_pipeline(
    source: DataSource, target: str, *, evaluated: bool = True
) -> ProcessingPipeline:
    """``evaluated``: Splunk multivalue stand-ins map to the per-field value that this
    package's backend evaluates; a stock backend (sigma-cli) needs the add-on's own field."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; known: {', '.join(TARGETS)}")

    def scope() -> list[RuleProcessingCondition]:
        # pySigma binds each condition object to one processing item: a new one per item.
        return [LogsourceCondition(**source.logsource)]

    prefix = f"dac_{target}_{source.name}"
    items: list[ProcessingItem] = [
        ProcessingItem(
            StrictFieldsTransformation(source=source, target=target),
            rule_conditions=scope(),
            identifier=f"{prefix}_strict_fields",
        ),
        ProcessingItem(
            SetStateTransformation("dac_source", source.name),
            rule_conditions=scope(),
            identifier=f"{prefix}_state",
        ),
    ]
    if target == "splunk" and evaluated:
        items.append(
            ProcessingItem(
                LookupPlaceholderTransformation(names=SPLUNK_LOOKUP_LISTS),
                rule_conditions=scope(),
                identifier=f"{prefix}_lookup_placeholder",
            )
        )
    address_fields = frozenset(f.sigma for f in source.fields if f.address_key)
    items.append(
        ProcessingItem(
            DisposableDomainPlaceholderTransformation(address_fields=address_fields),
            rule_conditions=scope(),
            identifier=f"{prefix}_disposable_placeholder",
        )
    )
    if target == "elastic":
        for sigma_field, mapping in source.elastic_value_maps.items():
            items.append(
                ProcessingItem(
                    MapStringTransformation(_value_map(mapping)),
                    rule_conditions=scope(),
                    field_name_conditions=[IncludeFieldCondition([sigma_field])],
                    identifier=f"{prefix}_values_{sigma_field}",
                )
            )
    items.append(
        ProcessingItem(
            FieldMappingTransformation(dict(_field_map(source, target, evaluated))),  # type: ignore[arg-type]
            rule_conditions=scope(),
            identifier=f"{prefix}_fields",
        )
    )
    scope_condition = {
        "elastic": {"event.dataset": source.elastic_dataset},
        "sqlite": {SQLITE_SOURCE_COLUMN: source.name},
    }.get(target)
    if scope_condition:
        # Splunk scopes through the data-source macro instead (see the Splunk backend).
        items.append(
            ProcessingItem(
                AddConditionTransformation(scope_condition),  # type: ignore[arg-type]
                rule_conditions=scope(),
                identifier=f"{prefix}_scope",
            )
        )
    return ProcessingPipeline(
        name=f"dac-t1585 {target} pipeline for {source.title}",
        priority=20,
        items=items,
        allowed_backends=frozenset(),
    )


def pipeline_for(
    target: str, lists: dict[str, ValueList] | None = None, *, indicators: bool = False
) -> ProcessingPipeline:
    """Every data source's pipeline for one target, each guarded by its logsource; the value
    lists are expanded first, for every source; a rule no source takes is refused.
    ``indicators``: a threat-intelligence list item asks only that its field be there (the
    query of a Kibana indicator-match rule)."""
    pipeline = source_pipeline(SOURCES[0], target)
    for source in SOURCES[1:]:
        pipeline = pipeline + source_pipeline(source, target)
    known = tuple(", ".join(f"{k}: {v}" for k, v in source.logsource.items()) for source in SOURCES)
    pipeline = pipeline + ProcessingPipeline(
        name="dac-t1585 known logsources",
        priority=30,
        items=[ProcessingItem(KnownLogsourceTransformation(known=known), identifier="dac_known")],
    )
    if lists is not None:
        expand = ProcessingPipeline(
            name="dac-t1585 value lists",
            priority=10,
            items=[
                ProcessingItem(
                    ValueListTransformation(
                        lists=lists,
                        keep=SPLUNK_LOOKUP_LISTS if target == "splunk" else frozenset(),
                        present=ELASTIC_INDICATOR_LISTS if indicators else frozenset(),
                    ),
                    identifier="dac_lists",
                )
            ],
        )
        pipeline = expand + pipeline
    return pipeline
