"""Stage 2: processing pipelines, one per data source and target (splunk, elastic, sqlite)."""

from converters.pipelines.build import TARGETS, pipeline_for, source_pipeline

__all__ = ["TARGETS", "pipeline_for", "source_pipeline"]
