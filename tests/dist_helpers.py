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

# Kibana's EQL rule create/import contract (RuleCreateProps, EQL branch) as far as we use it.
KIBANA_REQUIRED = {"name", "description", "risk_score", "severity", "type", "query", "language"}
KIBANA_KNOWN = KIBANA_REQUIRED | {
    "rule_id", "note", "setup", "index", "threat", "required_fields", "related_integrations",
    "interval", "from", "max_signals", "version", "tags", "author", "references",
    "false_positives", "license", "enabled", "meta", "new_terms_fields", "history_window_start",
    "building_block_type", "timestamp_override", "timestamp_override_fallback_disabled",
    "timestamp_field", "alert_suppression", "threat_index", "threat_query", "threat_language",
    "threat_indicator_path", "threat_mapping",
}  # fmt: skip


def copy_project(target: Path) -> Path:
    for name in ("sigma_rules", "playbooks", "lists"):
        shutil.copytree(ROOT / name, target / name)
    shutil.copy(ROOT / "versions.lock.json", target / "versions.lock.json")
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
