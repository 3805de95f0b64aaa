"""What a data source is: its fields and where each target keeps them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Field:
    """One rule field and where each target keeps it."""

    sigma: str
    splunk: str
    elastic: str
    # SPL expression giving the exact value where ``splunk`` is a multivalue stand-in
    # (event parameters are name/value lists in the Splunk add-ons).
    splunk_exact: str | None = None
    # Key of the Elastic ingest-time disposable-domain enrichment for address fields.
    address_key: str | None = None
    description: str = ""
    # The targets index it as a number (the raw log may carry it as a string).
    numeric: bool = False
    # Where splunk_exact is set: what the index search tests instead (a superset: the field
    # is there); default: the add-on's field has a value.
    splunk_presence: str | None = None

    @property
    def splunk_present(self) -> str:
        return self.splunk_presence or f'"{self.splunk}"=*'

    @property
    def splunk_result(self) -> str:
        """Where an alert's result holds the field's exact value: the add-on field itself,
        or, for a multivalue stand-in, the field the search evaluates from splunk_exact."""
        if self.splunk_exact is None:
            return self.splunk
        return "dac_" + re.sub(r"\W+", "_", self.sigma).lower()


def json_list_value(list_field: str, name_key: str, value_keys: tuple[str, ...], name: str) -> str:
    """SPL: the value of the element named ``name`` in a list the search took whole with
    ``spath output=<list_field>`` (one JSON object per element), from the first of
    ``value_keys`` it has. Used where the add-on's per-key multivalue fields do not line up
    (value kinds mixed, null values left out)."""

    def get(key: str) -> str:
        return f'json_extract({list_field}, "{key}")'

    values = ", ".join(get(k) for k in value_keys)
    first = f"coalesce({values})" if len(value_keys) > 1 else values
    return f'mvindex(mvmap({list_field}, if({get(name_key)}=="{name}", {first}, null())), 0)'


@dataclass(frozen=True)
class Capture:
    """A public record, ingest pipeline or vendor sample that shows how the data really looks:
    where it is (repository and path, or a documentation address), the commit read, and what
    it shows. Named so that a reader can check every field against it."""

    where: str
    shows: str
    commit: str = ""


@dataclass(frozen=True)
class Shape:
    """A shape in which SIEMs or exports hold the source's records, which ``dac hunt`` reads
    (converters.engine.shapes makes them canonical). tests/conformance/<source>/<name>.* holds
    true-positive records written anew in this shape."""

    name: str
    title: str
    evidence: tuple[Capture, ...]


@dataclass(frozen=True)
class ElasticField:
    """A field the Elastic integration's ingest pipeline produces, its mapping type, and, for a
    field that rules compare with fixed values, the values it takes (None: any value)."""

    name: str
    type: str
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TargetEvidence:
    """What shows a target's field names: the captures read, and whether every field a rule
    uses was seen in one (False: some are inferred, as the source module says)."""

    captures: tuple[Capture, ...]
    verified: bool


@dataclass(frozen=True)
class ContainmentCommand:
    """A command that contains what a rule of these indicators found. ``{field}`` names a rule
    field whose value the alert fills in; the command is shown, never run."""

    action: str
    template: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class DataSource:
    """A Sigma logsource and its targets' storage."""

    name: str
    title: str
    # The Sigma logsource the source serves; a generic source (proxy, firewall) names only a
    # category, a product log names product and service.
    product: str | None
    service: str | None
    raw_format: str
    splunk_macro: str
    splunk_macro_definition: str
    splunk_sourcetype: str
    elastic_indices: tuple[str, ...]
    elastic_dataset: str
    elastic_integration: str
    elastic_integration_version: str
    fields: tuple[Field, ...]
    # Sigma value -> Elastic values, per Sigma field, where the integration rewrites values:
    # first what it writes for exactly that raw value, then what other spellings of the value
    # (which it leaves alone) look like; a query tests them all.
    elastic_value_maps: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Fields that identify the alert's entities, in reading order: (label, sigma field).
    entities: tuple[tuple[str, str], ...] = ()
    containment: tuple[ContainmentCommand, ...] = ()
    category: str | None = None
    # Where each shape and field was checked (converters/datasources/<source>.py says more).
    shapes: tuple[Shape, ...] = ()
    elastic_fields: tuple[ElasticField, ...] = ()
    elastic_evidence: TargetEvidence | None = None
    splunk_evidence: TargetEvidence | None = None
    # A search stage every search of the source runs first, after the index search (the
    # Google Workspace parameters' extraction).
    splunk_prelude: str = ""
    # How late records may reach the SIEM after the event (minutes), and the vendor's page
    # that says so: every schedule and look-back reading the source is derived from it
    # (converters.timing).
    delivery_lag_minutes: int = 0
    delivery_lag_reference: Capture | None = None
    # Kibana related_integrations: the package's integration (policy template) that collects
    # the data stream, where the package has several; Kibana matches installed integrations by
    # policy template name, not by data stream. None for a package with one.
    elastic_policy_template: str | None = None
    # False where no Fleet package collects the data (an ingest setup of your own): the
    # Kibana rule then names no related integration for the source.
    elastic_fleet_package: bool = True

    def serves(self, product: str | None, service: str | None, category: str | None) -> bool:
        return (self.product, self.service, self.category) == (product, service, category)

    @property
    def logsource(self) -> dict[str, str]:
        """The Sigma logsource mapping of this source."""
        keys = (("category", self.category), ("product", self.product), ("service", self.service))
        return {key: value for key, value in keys if value is not None}

    def field(self, sigma_name: str) -> Field | None:
        for f in self.fields:
            if f.sigma == sigma_name:
                return f
        return None

    def field_names(self) -> list[str]:
        return [f.sigma for f in self.fields]

    def splunk_map(self, *, evaluated: bool = True) -> dict[str, str]:
        # A multivalue stand-in is searched through the exact value the query evaluates
        # (converters.backends.splunk): a comparison must not match a sibling parameter.
        return {f.sigma: f.splunk_result if evaluated else f.splunk for f in self.fields}

    def elastic_map(self) -> dict[str, str]:
        return {f.sigma: f.elastic for f in self.fields}

    def elastic_field(self, name: str) -> ElasticField | None:
        """What the integration produces under ``name``, or None when it was not seen."""
        for known in self.elastic_fields:
            if known.name == name:
                return known
        return None
