"""The coverage table and the ATT&CK Navigator layer: generated, complete, and shown in the
README as generated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from converters.build import Project, build
from converters.coverage import make_coverage, navigator_layer
from converters.errors import DacError
from converters.loading.rules import load_rules
from converters.playbook.model import load_playbook

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(Project.at(ROOT), tmp_path_factory.mktemp("coverage") / "dist")


def test_readme_shows_the_generated_table(dist: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- coverage:start -->\n", 1)[1].split("<!-- coverage:end -->", 1)[0]
    assert shown == (dist / "coverage.md").read_text(encoding="utf-8"), (
        "README coverage table is stale: copy dist/coverage.md into it"
    )


def test_every_indicator_and_log_source_is_listed(dist: Path) -> None:
    playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
    table = (dist / "coverage.md").read_text(encoding="utf-8")
    for indicator in playbook.indicators:
        assert f"| `{indicator.id}` |" in table
    for text in playbook.log_sources:
        assert f"| {text} |" in table


def test_covered_indicators_name_their_rules_and_targets() -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
    compiled = {"splunk": {d.id for d in ruleset.docs}, "elastic": set()}
    coverage = make_coverage(ROOT / "playbooks" / "coverage.yml", playbook, ruleset, compiled)
    bulk = [r for r in coverage.indicators if r.indicator == "bulk-account-creation"]
    assert {r.source for r in bulk} == {
        s.title
        for d in ruleset.docs
        if d.indicator == "bulk-account-creation"
        for s in ruleset.sources_of(d)
    }
    for row in bulk:
        reading = [
            d
            for d in ruleset.docs
            if d.indicator == "bulk-account-creation"
            and row.source in {s.title for s in ruleset.sources_of(d)}
        ]
        assert row.targets == {"splunk": len(reading), "elastic": 0}, row.source
    uncovered = [r for r in coverage.indicators if not r.rules]
    assert all(r.source == "" and r.note.startswith("Not covered") for r in uncovered)


def test_missing_coverage_entry_is_an_error(tmp_path: Path) -> None:
    plan = tmp_path / "coverage.yml"
    text = (ROOT / "playbooks" / "coverage.yml").read_text(encoding="utf-8")
    plan.write_text(text.replace("  - indicator: escalation\n", "  - indicator: escalation-typo\n"))
    ruleset = load_rules(ROOT / "sigma_rules")
    playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
    with pytest.raises(DacError, match="'escalation' needs an entry"):
        make_coverage(plan, playbook, ruleset, {})


def test_navigator_layer(dist: Path) -> None:
    layer = json.loads((dist / "attack-navigator-layer.json").read_text(encoding="utf-8"))
    assert layer["domain"] == "enterprise-attack"
    assert layer["versions"]["layer"] == "4.5"
    scores = {(t["techniqueID"], t["tactic"]): t["score"] for t in layer["techniques"]}
    ruleset = load_rules(ROOT / "sigma_rules")
    assert scores[("T1585.002", "resource-development")] == len(ruleset.docs)
    tagged = [d for d in ruleset.docs if "attack.t1114.003" in d.tags]
    assert scores[("T1114.003", "collection")] == len(tagged) >= 2
    assert layer == navigator_layer(ruleset)


def test_build_fails_without_the_plan(tmp_path: Path) -> None:
    for name in ("sigma_rules", "playbooks", "lists"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "playbooks" / "coverage.yml").unlink()
    with pytest.raises(DacError, match="coverage plan"):
        build(Project.at(tmp_path), tmp_path / "dist")
