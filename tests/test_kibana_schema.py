"""Every Kibana rule against Kibana's own OpenAPI schema of the create/import API
(rule_schemas.schema.yaml#/components/schemas/RuleCreateProps, one branch per rule type), read
from ``../shared/schemas/kibana`` beside the repository. The schema files are not copied into
the repository; where they are absent these tests are skipped and the hand-written contract in
tests/dist_helpers.py (checked by tests/test_build_elastic.py) stands in for them, which these
tests also hold to the schema.

OpenAPI 3.0 schema objects are read as JSON Schema draft 2020-12 (the keywords used here mean
the same), with ``nullable: true`` rewritten as a union with null. The schema leaves objects
open, while Kibana drops unknown keys silently, so the keys each branch declares are checked
separately."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.dist_helpers import (
    KIBANA_ENUMS,
    KIBANA_REQUIRED,
    KIBANA_SHARED,
    KIBANA_TYPES,
    ROOT,
    built_dist,
    kibana_rules,
)

SCHEMAS = ROOT.parent / "shared" / "schemas" / "kibana"
RULE_SCHEMAS = (
    SCHEMAS / "x-pack/solutions/security/plugins/security_solution/common/api/detection_engine"
    "/model/rule_schema/rule_schemas.schema.yaml"
)
COMMON = RULE_SCHEMAS.with_name("common_attributes.schema.yaml")
# RuleCreateProps' branch per rule type (its discriminator is `type`).
BRANCHES = {
    "eql": "EqlRuleCreateProps",
    "query": "QueryRuleCreateProps",
    "saved_query": "SavedQueryRuleCreateProps",
    "threshold": "ThresholdRuleCreateProps",
    "threat_match": "ThreatMatchRuleCreateProps",
    "machine_learning": "MachineLearningRuleCreateProps",
    "new_terms": "NewTermsRuleCreateProps",
    "esql": "EsqlRuleCreateProps",
}

pytestmark = pytest.mark.skipif(
    not RULE_SCHEMAS.is_file(),
    reason=f"Kibana's OpenAPI schemas are not beside the repository ({SCHEMAS} is missing); "
    "the hand-written contract in tests/dist_helpers.py is checked instead",
)


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema object as JSON Schema 2020-12: ``nullable`` becomes a union."""
    if isinstance(node, dict):
        converted = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") is True:
            return {"anyOf": [converted, {"type": "null"}]}
        return converted
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


def _resources() -> list[tuple[str, Resource[Any]]]:
    """Every schema file under its file:// URI, against which cross-file $refs resolve. All
    are loaded once: a registry that retrieved them on demand would read them again for each
    validation."""
    return [
        (
            path.resolve().as_uri(),
            DRAFT202012.create_resource(_json_schema(yaml.safe_load(path.read_text("utf-8")))),
        )
        for path in sorted(SCHEMAS.rglob("*.schema.yaml"))
    ]


def _ref(path: Path, name: str) -> dict[str, str]:
    return {"$ref": f"{path.resolve().as_uri()}#/components/schemas/{name}"}


@pytest.fixture(scope="module")
def registry() -> Registry[Any]:
    return Registry().with_resources(_resources())


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return kibana_rules(built_dist(tmp_path_factory))


def _validator(registry: Registry[Any], name: str) -> Draft202012Validator:
    return Draft202012Validator(_ref(RULE_SCHEMAS, name), registry=registry)


def _declared_keys(registry: Registry[Any], name: str) -> set[str]:
    """The properties a branch declares, through its allOf/anyOf and $refs."""
    keys: set[str] = set()
    resolver = registry.resolver()

    def walk(schema: Any, resolver: Any) -> None:
        if not isinstance(schema, dict):
            return
        keys.update(schema.get("properties", {}))
        for part in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(part, []):
                walk(sub, resolver)
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            walk(resolved.contents, resolved.resolver)

    walk(_ref(RULE_SCHEMAS, name), resolver)
    return keys


def test_every_rule_is_valid_create_props(
    registry: Registry[Any], rules: list[dict[str, Any]]
) -> None:
    create = _validator(registry, "RuleCreateProps")
    for rule in rules:
        branch = _validator(registry, BRANCHES[rule["type"]])
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in branch.iter_errors(rule)
        ]
        assert not errors, (rule["name"], errors)
        assert create.is_valid(rule), rule["name"]


def test_every_key_of_every_rule_is_one_its_branch_declares(
    registry: Registry[Any], rules: list[dict[str, Any]]
) -> None:
    for rule in rules:
        unknown = set(rule) - _declared_keys(registry, BRANCHES[rule["type"]])
        assert not unknown, (rule["name"], unknown)


def test_the_schema_refuses_what_kibana_refuses(
    registry: Registry[Any], rules: list[dict[str, Any]]
) -> None:
    """The schema is read and its references resolved: a broken rule does not pass."""
    rule = next(r for r in rules if r["type"] == "eql")
    branch = _validator(registry, "EqlRuleCreateProps")
    for broken in (
        {**rule, "severity": "urgent"},
        {**rule, "risk_score": 101},
        {**rule, "language": "kuery"},
        {**rule, "related_integrations": [{"package": "o365"}]},  # RelatedIntegration.version
        {**rule, "required_fields": [{"name": "source.ip", "type": ""}]},  # NonEmptyString
        {**rule, "investigation_fields": {"field_names": []}},  # minItems 1
        {k: v for k, v in rule.items() if k != "description"},
    ):
        assert not branch.is_valid(broken), set(broken) ^ set(rule) or broken


def test_the_hand_written_contract_agrees_with_the_schema(registry: Registry[Any]) -> None:
    for kind, (languages, own) in KIBANA_TYPES.items():
        declared = _declared_keys(registry, BRANCHES[kind])
        assert KIBANA_REQUIRED | KIBANA_SHARED | own <= declared, kind
        for language in languages:
            probe = {"type": kind, "language": language}
            language_schema = _validator(registry, BRANCHES[kind])
            assert not any(
                "language" in e.absolute_path for e in language_schema.iter_errors(probe)
            ), (kind, language)
    for key, values in KIBANA_ENUMS.items():
        name = {
            "severity": "Severity",
            "building_block_type": "BuildingBlockType",
            "threat_language": "KqlQueryLanguage",
        }[key]
        schema = registry.resolver().lookup(_ref(COMMON, name)["$ref"]).contents
        assert set(schema.get("enum", values)) == values, key
