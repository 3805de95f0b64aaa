"""The pipelines as sigma-cli plugins: one per data source and target, plus one per target.

sigma-cli lists each pipeline by its ``name`` (``sigma list pipelines`` fails on one without)
and the backends it allows; the factory's docstring describes it. For the stock Splunk
backend the data-source macro is added as a query template, since that backend does not know
our macros; ``dac build`` uses its own backend instead."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingPipeline, QueryPostprocessingItem
from sigma.processing.postprocessing import QuerySimpleTemplateTransformation

from converters.pipelines.build import pipeline_for, source_pipeline
from converters.sources import SOURCES, DataSource

# The stock backends each target's field names suit (sigma-cli's -t identifiers).
BACKENDS: dict[str, frozenset[str]] = {
    "splunk": frozenset({"splunk"}),
    "elastic": frozenset({"eql", "lucene", "esql", "elastalert"}),
    "sqlite": frozenset({"sqlite"}),
}
PRIORITY = 20
PLUGIN_MODULE = "sigma.pipelines.dac"


def _splunk_for_cli(source: DataSource) -> ProcessingPipeline:
    pipeline = source_pipeline(source, "splunk", evaluated=False)
    pipeline.postprocessing_items.append(
        QueryPostprocessingItem(
            QuerySimpleTemplateTransformation(f"`{source.splunk_macro}` {{query}}"),
            rule_condition_linking=any,
            rule_conditions=[LogsourceCondition(**source.logsource)],
            identifier=f"dac_splunk_{source.name}_macro",
        )
    )
    return pipeline


def _factory(
    build: Callable[[], ProcessingPipeline], target: str, name: str, description: str
) -> Callable[[], ProcessingPipeline]:
    def make() -> ProcessingPipeline:
        pipeline = build()
        # Pipelines joined with `+` lose their name, priority and backends: set them here.
        pipeline.name = name
        pipeline.priority = PRIORITY
        pipeline.allowed_backends = BACKENDS[target]
        return pipeline

    make.__doc__ = description
    # sigma-cli names the plugin after the module under sigma.pipelines that defines it.
    make.__module__ = PLUGIN_MODULE
    return make


def _register() -> dict[str, Callable[[], ProcessingPipeline]]:
    found: dict[str, Callable[[], ProcessingPipeline]] = {}
    for source in SOURCES:
        found[f"dac_splunk_{source.name}"] = _factory(
            partial(_splunk_for_cli, source),
            "splunk",
            f"dac-t1585 Splunk: {source.title}",
            f"{source.title}: the Splunk add-on's field names ({source.splunk_sourcetype}), "
            f"each query prefixed with the data-source macro `{source.splunk_macro}`.",
        )
        found[f"dac_elastic_{source.name}"] = _factory(
            partial(source_pipeline, source, "elastic"),
            "elastic",
            f"dac-t1585 Elastic: {source.title}",
            f"{source.title}: the field names of Elastic's {source.elastic_integration} "
            f"integration, scoped to event.dataset {source.elastic_dataset}.",
        )
    found["dac_elastic"] = _factory(
        partial(pipeline_for, "elastic"),
        "elastic",
        "dac-t1585 Elastic: every data source",
        "Every data source's Elastic field names, each applied to its own logsource; a rule "
        "of an unknown logsource is refused.",
    )
    found["dac_sqlite"] = _factory(
        partial(pipeline_for, "sqlite"),
        "sqlite",
        "dac-t1585 SQLite reference engine: every data source",
        "The raw field names the embedded reference engine (tests, dac hunt) stores, with "
        "each rule scoped to its data source's rows.",
    )
    return found


pipelines = _register()

__all__ = ["pipelines"]
