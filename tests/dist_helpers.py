"""What the build tests share: the repository, a built dist/, and readers for its files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import addonfactory_splunk_conf_parser_lib as conf_parser
import pytest

from converters.build import Project, build

ROOT = Path(__file__).resolve().parent.parent
APP = "dac_t1585"

# Kibana's rule create/import contract (RuleCreateProps: the keys every rule type shares, then
# one branch per type), written out for the keys and values this package sends, so that it is
# checked where Kibana's own schema files are not (tests/test_kibana_schema.py checks every rule
# against them where ../shared/schemas is present). Kibana drops an unknown key silently.
KIBANA_REQUIRED = {"name", "description", "risk_score", "severity", "type", "query", "language"}
KIBANA_SHARED = {
    "rule_id", "note", "setup", "threat", "required_fields", "related_integrations",
    "investigation_fields", "interval", "from", "max_signals", "version", "tags", "author",
    "references", "false_positives", "license", "enabled", "meta", "building_block_type",
    "timestamp_override", "timestamp_override_fallback_disabled",
}  # fmt: skip
# type -> (its query languages, the keys of its own branch)
KIBANA_TYPES: dict[str, tuple[set[str], set[str]]] = {
    "eql": ({"eql"}, {"index", "timestamp_field", "alert_suppression"}),
    "esql": ({"esql"}, {"alert_suppression"}),  # an ES|QL query names its indices in FROM
    "new_terms": (
        {"kuery", "lucene"},
        {"index", "new_terms_fields", "history_window_start", "alert_suppression"},
    ),
    "threat_match": (
        {"kuery", "lucene"},
        {
            "index", "threat_index", "threat_query", "threat_mapping", "threat_language",
            "threat_indicator_path", "alert_suppression",
        },
    ),
}  # fmt: skip
# What each type needs of its own keys.
KIBANA_TYPE_REQUIRED = {
    "new_terms": {"new_terms_fields", "history_window_start"},
    "threat_match": {"threat_index", "threat_query", "threat_mapping"},
}
KIBANA_ENUMS = {
    "severity": {"low", "medium", "high", "critical"},
    "building_block_type": {"default"},
    "threat_language": {"kuery", "lucene"},
}
# Objects inside a rule: key -> (required keys, allowed keys) of each object it holds.
KIBANA_OBJECTS = {
    "required_fields": ({"name", "type"}, {"name", "type"}),  # RequiredFieldInput
    "related_integrations": ({"package", "version"}, {"package", "version", "integration"}),
    "investigation_fields": ({"field_names"}, {"field_names"}),
    "alert_suppression": (
        {"group_by"},
        {"group_by", "duration", "missing_fields_strategy"},
    ),
    "threat_mapping": ({"entries"}, {"entries"}),
}


def kibana_contract_problems(rule: dict[str, Any]) -> list[str]:
    """What in one rule breaks the hand-written contract above."""
    problems = [f"missing {k}" for k in sorted(KIBANA_REQUIRED - set(rule))]
    if rule.get("type") not in KIBANA_TYPES:
        return [*problems, f"type {rule.get('type')!r}"]
    languages, own = KIBANA_TYPES[rule["type"]]
    allowed = KIBANA_REQUIRED | KIBANA_SHARED | own
    problems += [f"{rule['type']} rule: unknown key {k}" for k in sorted(set(rule) - allowed)]
    needed = KIBANA_TYPE_REQUIRED.get(rule["type"], set())
    problems += [f"{rule['type']} rule without {k}" for k in sorted(needed - set(rule))]
    if rule.get("language") not in languages:
        problems.append(f"{rule['type']} rule: language {rule.get('language')!r}")
    for key, values in KIBANA_ENUMS.items():
        if key in rule and rule[key] not in values:
            problems.append(f"{key} {rule[key]!r}")
    for key, (required, keys) in KIBANA_OBJECTS.items():
        value = rule.get(key)
        for item in value if isinstance(value, list) else [] if value is None else [value]:
            if not isinstance(item, dict) or not required <= set(item) <= keys:
                problems.append(f"{key}: {item!r}")
            elif any(not v for v in item.values()):  # NonEmptyString, minItems 1
                problems.append(f"{key}: empty value in {item!r}")
    return problems


def copy_project(target: Path) -> Path:
    for name in ("sigma_rules", "playbooks", "lists"):
        shutil.copytree(ROOT / name, target / name)
    shutil.copy(ROOT / "versions.lock.json", target / "versions.lock.json")
    return target


def copy_repository(target: Path) -> Path:
    """What `dac validate` and the tests read: rules, playbook, lists, tests' cases and
    events, the lock, README, CHANGELOG and pyproject."""
    for name in ("sigma_rules", "playbooks", "lists", "tests/cases", "tests/events"):
        shutil.copytree(ROOT / name, target / name)
    for name in ("versions.lock.json", "README.md", "CHANGELOG.md", "pyproject.toml"):
        shutil.copy(ROOT / name, target / name)
    return target


def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(Project.at(ROOT), tmp_path_factory.mktemp("build") / "dist")


def read_conf(path: Path) -> dict[str, dict[str, str]]:
    parser = conf_parser.TABConfigParser()
    parser.read_string(path.read_text(encoding="utf-8"))
    return {
        section: {k: v for k, v in parser.items(section) if k != "__name__"}
        for section in parser.sections()
    }


def kibana_rules(dist: Path) -> list[dict[str, Any]]:
    lines = (dist / "elastic" / "rules.ndjson").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]
