"""Stage 4 (Elastic): a Kibana detection rule (EQL, ES|QL or new_terms type) as Kibana's
create/import API takes it.

Kibana drops unknown keys silently, so this model is the only place the keys are spelt."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RequiredField:
    name: str
    type: str


@dataclass(frozen=True)
class RelatedIntegration:
    package: str
    version: str  # a semver range of the package versions that hold the data streams read
    # The package's integration (policy template), for a package with several.
    integration: str | None = None


@dataclass(frozen=True)
class InvestigationFields:
    """The fields Kibana highlights in the alert's flyout (and offers for exceptions)."""

    field_names: tuple[str, ...]


@dataclass(frozen=True)
class KibanaRule:
    rule_id: str
    name: str
    description: str
    note: str
    setup: str
    type: str
    language: str
    query: str
    index: tuple[str, ...] | None
    severity: str
    risk_score: int
    threat: tuple[dict[str, Any], ...]
    required_fields: tuple[RequiredField, ...]
    related_integrations: tuple[RelatedIntegration, ...]
    interval: str
    from_: str
    max_signals: int
    version: int
    tags: tuple[str, ...]
    author: tuple[str, ...]
    references: tuple[str, ...]
    false_positives: tuple[str, ...]
    license: str
    enabled: bool
    meta: dict[str, Any]
    # new_terms rules only (None is left out of the rule).
    new_terms_fields: tuple[str, ...] | None = None
    history_window_start: str | None = None
    # "default" for a building block: Kibana hides its alerts from the alerts table.
    building_block_type: str | None = None
    # Late data (converters.timing): read by ingest time, keep @timestamp where a document
    # has no event.ingested; an EQL sequence still orders its events by event time.
    timestamp_override: str | None = None
    timestamp_override_fallback_disabled: bool | None = None
    timestamp_field: str | None = None
    # One alert per group while a late record can still extend the same window.
    alert_suppression: dict[str, Any] | None = None
    # threat_match rules only: the events' address field joined with indicator documents.
    threat_index: tuple[str, ...] | None = None
    threat_query: str | None = None
    threat_language: str | None = None
    threat_indicator_path: str | None = None
    threat_mapping: tuple[dict[str, Any], ...] | None = None
    investigation_fields: InvestigationFields | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return {k: _without_none(v) for k, v in data.items() if v is not None}


def _without_none(value: Any) -> Any:
    """Unset optional keys left out at every level (Kibana reads null as a value), tuples as
    lists."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value


SEVERITY = {
    "informational": ("low", 21),
    "low": ("low", 21),
    "medium": ("medium", 47),
    "high": ("high", 73),
    "critical": ("critical", 99),
}
