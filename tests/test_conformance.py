"""Every rule answers to the records collectors really store.

- Each data source names, per shape and per target, the captured records and ingest
  pipelines its field names were checked against (converters/datasources/<source>.py).
- tests/conformance/<source>/<shape>*: one scenario per source, written anew in every shape
  the source is held in (the Reports API, Elastic's and the Splunk add-on's Google Workspace
  records, Azure Monitor exports, the Reporting Web Service's JSON, ...); `dac hunt` reads each
  whole, skips nothing, and raises the alerts of tests/conformance/expect.yml.
- The Elastic form of every rule reads only fields, and compares only values, that the
  integration's pipeline produces (the source module's table).
- The Splunk searches' exact-value expressions read from the add-on's record what the
  reference engine reads from the same record (tests/spl_eval.py).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaString

from converters.compile import Queries
from converters.domains import DomainList
from converters.engine.records import canonical, load_records, sigma_rows
from converters.hunt.readers import sniff
from converters.hunt.run import Hunter
from converters.loading.rules import RuleDoc, RuleSet
from converters.sources import SOURCES, DataSource
from converters.valuelists import ValueList
from tests import spl_eval

CONFORMANCE = Path(__file__).resolve().parent / "conformance"
EXPECT = yaml.safe_load((CONFORMANCE / "expect.yml").read_text(encoding="utf-8"))


def _fixtures() -> list[Any]:
    params = []
    for source in SOURCES:
        for shape in source.shapes:
            for path in sorted((CONFORMANCE / source.name).glob(f"{shape.name}.*")):
                params.append(pytest.param(source, shape.name, path, id=path.name))
    return params


def _own_rules(ruleset: RuleSet, source: DataSource) -> list[RuleDoc]:
    """The rules that read this source only (building blocks included)."""
    return [d for d in ruleset.docs if [s.name for s in ruleset.sources_of(d)] == [source.name]]


def test_every_source_names_its_shapes_and_evidence() -> None:
    for source in SOURCES:
        assert source.shapes, source.name
        for shape in source.shapes:
            assert shape.evidence, (source.name, shape.name)
            # Each shape has its scenario, written in that shape.
            assert list((CONFORMANCE / source.name).glob(f"{shape.name}.*")), shape.name
        for evidence in (source.elastic_evidence, source.splunk_evidence):
            assert evidence is not None and evidence.captures, source.name
        captures = [c for s in source.shapes for c in s.evidence]
        captures += [*source.elastic_evidence.captures, *source.splunk_evidence.captures]  # type: ignore[union-attr]
        for capture in captures:
            # A repository path at a commit, a documentation address, or our own README.
            assert capture.commit or capture.where.startswith(("https://", "README", "public")), (
                source.name,
                capture.where,
            )
        assert {f.name for f in source.elastic_fields} >= {"event.dataset"}
    names = {path.name for path in CONFORMANCE.iterdir() if path.is_dir()}
    assert names == {s.name for s in SOURCES}, "a fixture folder for a source that does not exist"


@pytest.mark.parametrize(("source", "shape", "path"), _fixtures())
def test_each_shape_raises_the_planted_alerts(
    source: DataSource,
    shape: str,
    path: Path,
    ruleset: RuleSet,
    domains: DomainList,
    lists: dict[str, ValueList],
) -> None:
    expected = EXPECT[source.name]
    expected = expected.get("shapes", {}).get(shape, expected)
    hunter = Hunter(ruleset, domains, _own_rules(ruleset, source), lists)
    result = hunter.run([(path, sniff(path))])
    (report,) = result.files
    assert report.error is None, report.error
    assert report.skipped == 0 and report.parsed == report.records > 0, report.problems
    assert set(report.sources) == {source.name}
    assert Counter(a.doc.name for a in result.alerts) == expected["alerts"], expected["why"]


def _comparisons(rule: SigmaRule) -> list[tuple[str, list[str]]]:
    """(field, plain string values) of every detection item; placeholders and other value
    kinds give no values."""
    found: list[tuple[str, list[str]]] = []

    def walk(detection: SigmaDetection) -> None:
        for item in detection.detection_items:
            if isinstance(item, SigmaDetection):
                walk(item)
            elif isinstance(item, SigmaDetectionItem) and item.field:
                values = [
                    v.to_plain()
                    for v in item.value
                    if isinstance(v, SigmaString)
                    and not v.contains_placeholder()
                    and not v.contains_special()
                ]
                found.append((item.field, values))

    for detection in rule.detection.detections.values():
        walk(detection)
    return found


def test_elastic_rules_read_only_what_the_integrations_produce(
    ruleset: RuleSet, eql_queries: Queries
) -> None:
    parsed = {str(rule.id): rule for rule in ruleset.fresh_collection()}
    checked = 0
    for doc in ruleset.docs:
        if doc.id not in eql_queries.by_rule:
            continue  # the rule opts out of Elastic (its reason is in the manifest)
        for base in ruleset.base_rules_of(doc):
            source = ruleset.sources_of(base)[0]
            rule = parsed[base.id]
            assert isinstance(rule, SigmaRule)
            names = [f for f, _v in _comparisons(rule)]
            names += [str(f) for f in (base.new_terms or {}).get("fields", [])]
            if doc.is_correlation:
                names += [
                    g for g in doc.document["correlation"].get("group-by", []) if source.field(g)
                ]
            for name in names:
                field = source.field(name)
                assert field is not None, (doc.name, name)
                produced = source.elastic_field(field.elastic)
                assert produced is not None, (
                    f"{doc.name}: {field.elastic} is not among the fields the "
                    f"{source.elastic_integration} pipeline produces ({source.name})"
                )
                checked += 1
            for name, values in _comparisons(rule):
                produced = source.elastic_field(source.field(name).elastic)  # type: ignore[union-attr]
                if produced is None or produced.values is None:
                    continue
                allowed = {v.lower() for v in produced.values}
                for value in values:
                    mapped = source.elastic_value_maps.get(name, {}).get(value, (value,))
                    # The queries compare without case (EQL ':' and like~).
                    assert any(m.lower() in allowed for m in mapped), (
                        f"{doc.name}: {produced.name} never holds {value!r} "
                        f"(the integration writes {sorted(produced.values)})"
                    )
    assert checked > 50


_SPATH = re.compile(r"\| spath output=(\S+) path=(\S+)")


def _splunk_view(source: DataSource, record: dict[str, Any]) -> dict[str, spl_eval.Value]:
    """The event as the add-on holds it, after the source's first search stage."""
    fields = spl_eval.splunk_fields(record)
    found = _SPATH.fullmatch(source.splunk_prelude) if source.splunk_prelude else None
    if found:
        fields[found.group(1)] = spl_eval.spath(record, found.group(2))
    return fields


@pytest.mark.parametrize(
    ("source_name", "fixture"),
    [
        ("gws_admin", "splunk-event.ndjson"),
        ("gws_login", "splunk-event.ndjson"),
        ("m365_audit", "management-api.json"),
        ("entra_audit", "azure-monitor.json"),
    ],
)
def test_splunk_exact_values_are_what_the_reference_engine_reads(
    source_name: str, fixture: str
) -> None:
    source = next(s for s in SOURCES if s.name == source_name)
    exact = [f for f in source.fields if f.splunk_exact]
    assert exact
    seen = Counter[str]()
    for record in load_records(CONFORMANCE / source_name / fixture):
        # What the add-on stores: the record itself (Entra: the diagnostic record).
        view = _splunk_view(source, record)
        (row,) = sigma_rows(canonical(record)[1])
        for field in exact:
            value = spl_eval.evaluate(str(field.splunk_exact), view)
            wanted = row.get(field.sigma)
            if isinstance(wanted, list):
                wanted = " ".join(wanted)  # the searches join a list field's values
            assert value == wanted, (field.sigma, value, wanted, record)
            seen[field.sigma] += value is not None
    assert any(seen.values()), "no exact field held a value in the fixture"
