"""The pipelines as sigma-cli plugins: one per data source and target, plus one per target.

For the stock Splunk backend the data-source macro is added as a query template, since that
backend does not know our macros; ``dac build`` uses its own backend instead."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingPipeline, QueryPostprocessingItem
from sigma.processing.postprocessing import QuerySimpleTemplateTransformation

from converters.pipelines.build import pipeline_for, source_pipeline
from converters.sources import SOURCES, DataSource


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


def _factory(build: Callable[[], ProcessingPipeline]) -> Callable[[], ProcessingPipeline]:
    def make() -> ProcessingPipeline:
        return build()

    # sigma-cli shows the factory's docstring as the pipeline's description.
    make.__doc__ = build().name
    return make


def _register() -> dict[str, Callable[[], ProcessingPipeline]]:
    found: dict[str, Callable[[], ProcessingPipeline]] = {}
    for source in SOURCES:
        found[f"dac_splunk_{source.name}"] = _factory(partial(_splunk_for_cli, source))
        found[f"dac_elastic_{source.name}"] = _factory(partial(source_pipeline, source, "elastic"))
    found["dac_elastic"] = _factory(partial(pipeline_for, "elastic"))
    found["dac_sqlite"] = _factory(partial(pipeline_for, "sqlite"))
    return found


pipelines = _register()

__all__ = ["pipelines"]
