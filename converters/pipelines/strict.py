"""Refuse rule fields that a target's pipeline does not map: such a query would silently
match nothing in the SIEM."""

from __future__ import annotations

from dataclasses import dataclass, field

from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaTransformationError
from sigma.processing.transformations.base import PreprocessingTransformation
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule

from converters.sources import DataSource


def detection_fields(rule: SigmaRule) -> list[str]:
    found: list[str] = []

    def walk(detection: SigmaDetection) -> None:
        for item in detection.detection_items:
            if isinstance(item, SigmaDetection):
                walk(item)
            elif (
                isinstance(item, SigmaDetectionItem)
                and item.field is not None
                and item.field not in found
            ):
                found.append(item.field)

    for detection in rule.detection.detections.values():
        walk(detection)
    return found


@dataclass
class StrictFieldsTransformation(PreprocessingTransformation):
    """Fails the rule when it uses a field the data source does not define for the target."""

    source: DataSource | None = None
    target: str = ""
    _known: frozenset[str] = field(default_factory=frozenset, init=False)

    def __post_init__(self) -> None:
        assert self.source is not None
        self._known = frozenset(self.source.field_names())

    def _fail(self, kind: str, name: str) -> None:
        assert self.source is not None
        raise SigmaTransformationError(
            f"{kind} {name!r} has no {self.target} mapping for data source "
            f"{self.source.name!r} (known fields: {', '.join(sorted(self._known))})"
        )

    def apply(self, rule: SigmaRule | SigmaCorrelationRule) -> None:
        super().apply(rule)
        if isinstance(rule, SigmaRule):
            for name in detection_fields(rule):
                if name not in self._known:
                    self._fail("field", name)
            for name in rule.fields:
                if name not in self._known:
                    self._fail("output field", name)
        else:
            for name in rule.group_by or []:
                if name not in self._known and not _is_alias(rule, name):
                    self._fail("group-by field", name)


def _is_alias(rule: SigmaCorrelationRule, name: str) -> bool:
    aliases = getattr(rule, "aliases", None)
    return aliases is not None and name in getattr(aliases, "aliases", {})


@dataclass
class KnownLogsourceTransformation(PreprocessingTransformation):
    """Fails a rule that no data source's pipeline took (none set the ``dac_source`` state):
    a stock backend would write it unscoped and unmapped, so it would search everything for
    names no index has. Runs last in the combined pipelines sigma-cli uses."""

    known: tuple[str, ...] = ()

    def apply(self, rule: SigmaRule | SigmaCorrelationRule) -> None:
        super().apply(rule)
        if isinstance(rule, SigmaCorrelationRule):
            return  # scoped through the rules it reads
        if "dac_source" not in self._pipeline.state:  # type: ignore[union-attr]  # set by apply
            logsource = {
                key: value
                for key, value in (
                    ("category", rule.logsource.category),
                    ("product", rule.logsource.product),
                    ("service", rule.logsource.service),
                )
                if value
            }
            raise SigmaTransformationError(
                f"logsource {logsource} has no dac-t1585 data source (known: "
                f"{'; '.join(self.known)})"
            )
