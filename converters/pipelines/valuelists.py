"""``%<list>%`` placeholders: replaced by the list's values, as the field's own matches
(equality for identities, CIDR for IP ranges), in every target alike."""

from __future__ import annotations

from dataclasses import dataclass, field

from sigma.exceptions import SigmaTransformationError
from sigma.modifiers import SigmaExpandModifier
from sigma.processing.transformations.base import DetectionItemTransformation
from sigma.rule import SigmaDetection, SigmaDetectionItem
from sigma.types import SigmaCIDRExpression, SigmaString

from converters.valuelists import ValueList


def _list_name(value: object) -> str | None:
    if not isinstance(value, SigmaString) or not value.contains_placeholder():
        return None
    parts = value.s
    if len(parts) == 1 and hasattr(parts[0], "name"):
        return str(parts[0].name)
    return None


@dataclass
class ValueListTransformation(DetectionItemTransformation):
    lists: dict[str, ValueList] = field(default_factory=dict)
    # Lists the target matches through a lookup instead (Splunk: the threat-intel CIDRs).
    keep: frozenset[str] = frozenset()
    # Lists whose item only asks that the field hold a value (Kibana's indicator match joins
    # the value with the threat-intelligence indices).
    present: frozenset[str] = frozenset()

    def apply_detection_item(
        self, detection_item: SigmaDetectionItem
    ) -> SigmaDetection | SigmaDetectionItem | None:
        known = [n for v in detection_item.value if (n := _list_name(v)) in self.lists]
        if not known or known[0] in self.keep:
            return None
        if len(detection_item.value) != 1 or any(
            m is not SigmaExpandModifier for m in detection_item.modifiers
        ):
            raise SigmaTransformationError(
                f"field {detection_item.field!r}: a list placeholder must be the only value, "
                "with no modifier but expand"
            )
        value_list = self.lists[known[0]]
        if known[0] in self.present:
            detection_item.value = [SigmaString("*")]
            self.processing_item_applied(detection_item)
            return None
        if not value_list.values:
            # converters.emptylists leaves out what an empty list voids before conversion.
            raise SigmaTransformationError(
                f"the list {known[0]} is empty: no value stands in for it"
            )
        if value_list.kind == "cidr":
            detection_item.value = [SigmaCIDRExpression(v) for v in value_list.values]
        elif value_list.kind == "domain":
            # The domain itself and any subdomain ("*." is Sigma's wildcard, in every target).
            detection_item.value = [
                SigmaString(p + d) for d in value_list.values for p in ("", "*.")
            ]
        elif value_list.kind == "authority":
            # host:port of a CONNECT request: the domain or a subdomain, then any port.
            detection_item.value = [
                SigmaString(p + d + ":*") for d in value_list.values for p in ("", "*.")
            ]
        else:
            detection_item.value = [SigmaString(v) for v in value_list.values]
        self.processing_item_applied(detection_item)
        return None
