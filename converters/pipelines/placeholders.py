"""The ``%disposable_email_domains%`` placeholder: "this address is at a disposable provider".

No target can hold 10,000 domains in one query, so each backend expresses the test its own way
(Splunk: a lookup after the search; Elastic: a field set by ingest-time enrichment; SQLite: a
SQL function). This transformation only marks the detection item, keeping the rule's own field
name so that every backend can find the field's definition in converters.sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigma.exceptions import SigmaTransformationError
from sigma.modifiers import SigmaExpandModifier
from sigma.processing.transformations.base import DetectionItemTransformation
from sigma.rule import SigmaDetection, SigmaDetectionItem
from sigma.types import SigmaString

DISPOSABLE_PLACEHOLDER = "disposable_email_domains"
# A rule field cannot contain ":"; the field mappings therefore leave marked items alone.
VIRTUAL_PREFIX = "dac_disposable:"


def marked_field(name: str) -> str | None:
    """The rule's field behind a marked detection item, or None for an ordinary field."""
    return name[len(VIRTUAL_PREFIX) :] if name.startswith(VIRTUAL_PREFIX) else None


@dataclass
class DisposableDomainPlaceholderTransformation(DetectionItemTransformation):
    """Marks items whose value is the disposable-domain placeholder; refuses any other."""

    address_fields: frozenset[str] = frozenset()

    def apply_detection_item(
        self, detection_item: SigmaDetectionItem
    ) -> SigmaDetection | SigmaDetectionItem | None:
        if (detection_item.field or "").startswith(LOOKUP_PREFIX):
            return None  # a list a lookup tests, marked before this step
        values = detection_item.value
        with_placeholder = [
            v for v in values if isinstance(v, SigmaString) and v.contains_placeholder()
        ]
        if not with_placeholder:
            return None
        for value in with_placeholder:
            names = {p.name for p in value.s if hasattr(p, "name") and not isinstance(p, str)}
            if names != {DISPOSABLE_PLACEHOLDER} or len(value.s) != 1:
                raise SigmaTransformationError(
                    f"unsupported placeholder in field {detection_item.field!r}: only the whole "
                    f"value '%{DISPOSABLE_PLACEHOLDER}%' is known"
                )
        extra = [m.__name__ for m in detection_item.modifiers if m is not SigmaExpandModifier]
        if len(values) != 1 or extra:
            raise SigmaTransformationError(
                f"field {detection_item.field!r}: '%{DISPOSABLE_PLACEHOLDER}%' must be the only "
                "value, with no modifier but expand"
            )
        field = detection_item.field or ""
        if field not in self.address_fields:
            raise SigmaTransformationError(
                f"field {field!r} is not an address field of this data source, so no target "
                f"can test it against '%{DISPOSABLE_PLACEHOLDER}%'"
            )
        detection_item.field = VIRTUAL_PREFIX + field
        self.processing_item_applied(detection_item)
        return None


LOOKUP_PREFIX = "dac_lookup:"


def lookup_marked(name: str) -> tuple[str, str] | None:
    """(list, rule field) behind an item a lookup tests, or None."""
    if not name.startswith(LOOKUP_PREFIX):
        return None
    list_name, _, field = name[len(LOOKUP_PREFIX) :].partition(":")
    return list_name, field


@dataclass
class LookupPlaceholderTransformation(DetectionItemTransformation):
    """Marks ``field|expand: '%<list>%'`` items of the lists a target tests through a lookup
    (the value-list expansion left them alone), keeping the rule's field name."""

    names: frozenset[str] = frozenset()

    def apply_detection_item(
        self, detection_item: SigmaDetectionItem
    ) -> SigmaDetection | SigmaDetectionItem | None:
        values = detection_item.value
        if len(values) != 1 or not isinstance(values[0], SigmaString):
            return None
        parts = values[0].s
        name = getattr(parts[0], "name", None) if len(parts) == 1 else None
        if name not in self.names:
            return None
        detection_item.field = f"{LOOKUP_PREFIX}{name}:{detection_item.field or ''}"
        self.processing_item_applied(detection_item)
        return None
