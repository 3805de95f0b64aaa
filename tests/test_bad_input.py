"""Bad input: `dac validate` and `dac build` name the file, the line, the rule and the reason,
exit non-zero, and leave dist/ as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOOD_RULE = ROOT / "sigma_rules" / "google_workspace" / "gws_user_created.yml"
RULE_ID = "568458f5-be84-4491-8099-75cb20c13dd7"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("sigma_rules", "playbooks", "lists"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "versions.lock.json", tmp_path / "versions.lock.json")
    # A previous build, as its manifest describes it: the only kind of folder a build replaces.
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "previous-build.txt").write_text("the last good build\n")
    (dist / "manifest.json").write_text(
        json.dumps({"generator": "dac-t1585 0.1.0", "files": ["previous-build.txt"]})
    )
    return tmp_path


def edit_rule(project: Path, old: str, new: str) -> Path:
    path = project / "sigma_rules" / "google_workspace" / "gws_user_created.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def run(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--root", str(project)])
    return result.exit_code, result.output


def assert_fails(project: Path, *expected: str) -> None:
    for command in (["validate"], ["build", "--out", str(project / "dist")]):
        code, output = run(project, *command)
        assert code == 1, output
        for text in expected:
            assert text in output, f"{command}: {text!r} not in:\n{output}"
        # The previous build is untouched and nothing half-written sits beside it.
        assert sorted(p.name for p in (project / "dist").iterdir()) == [
            "manifest.json",
            "previous-build.txt",
        ]
        assert not [p for p in project.iterdir() if p.name.startswith(".dist.")]


def test_good_project_validates_and_builds(project: Path) -> None:
    code, output = run(project, "validate")
    assert code == 0, output
    code, output = run(project, "build", "--out", str(project / "dist"))
    assert code == 0, output
    assert (project / "dist" / "manifest.json").is_file()
    assert not (project / "dist" / "previous-build.txt").exists()


def test_malformed_yaml(project: Path) -> None:
    path = edit_rule(
        project,
        "  selection:\n    event.name: CREATE_USER",
        "  selection:\n    event.name: [CREATE_USER",
    )
    assert_fails(project, f"{path}:", "malformed YAML")


def test_malformed_yaml_names_the_line(project: Path) -> None:
    path = edit_rule(project, "level: informational", "level: [informational")
    code, output = run(project, "validate")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "level:" in text)
    assert code == 1
    assert f"{path}:{line}" in output or f"{path}:{line + 1}" in output, output


def test_duplicate_id(project: Path) -> None:
    copy = project / "sigma_rules" / "google_workspace" / "copy.yml"
    text = GOOD_RULE.read_text(encoding="utf-8").replace("name: gws_user_created", "name: gws_copy")
    copy.write_text(text, encoding="utf-8")
    assert_fails(project, str(copy), RULE_ID, "duplicate id")


def test_unknown_logsource(project: Path) -> None:
    path = edit_rule(project, "service: google_workspace.admin", "service: google_workspace.drive")
    assert_fails(project, str(path), RULE_ID, "unknown logsource")


def test_unknown_modifier(project: Path) -> None:
    path = edit_rule(project, "event.name: CREATE_USER", "event.name|sortof: CREATE_USER")
    assert_fails(project, str(path), RULE_ID, "sortof")


def test_unsupported_placeholder(project: Path) -> None:
    path = edit_rule(
        project,
        "event.name: CREATE_USER",
        "event.name: CREATE_USER\n    actor.email|expand: '%admins%'",
    )
    assert_fails(project, str(path), RULE_ID, "unsupported placeholder", "actor.email")


def test_field_without_mapping(project: Path) -> None:
    path = edit_rule(
        project,
        "event.name: CREATE_USER",
        "event.name: CREATE_USER\n    parameters.ORG_UNIT_NAME: /Sales",
    )
    assert_fails(project, str(path), RULE_ID, "parameters.ORG_UNIT_NAME", "no splunk mapping")


def test_unknown_key_and_indicator(project: Path) -> None:
    path = edit_rule(
        project, "indicator: bulk-account-creation", "indicator: bulk-creation\nseverity: high"
    )
    assert_fails(project, str(path), RULE_ID, "unknown key 'severity'", "indicator 'bulk-creation'")


def test_broken_playbook(project: Path) -> None:
    playbook = project / "playbooks" / "T1585.002.yml"
    playbook.write_text(playbook.read_text(encoding="utf-8") + "surprise: 1\n", encoding="utf-8")
    assert_fails(project, str(playbook), "surprise")


def test_every_problem_is_reported_at_once(project: Path) -> None:
    edit_rule(project, "level: informational", "level: severe")
    other = project / "sigma_rules" / "m365" / "m365_user_added.yml"
    other.write_text(other.read_text().replace("status: experimental", "status: maybe"))
    code, output = run(project, "validate")
    assert code == 1
    assert "level 'severe'" in output and "status 'maybe'" in output
    assert "2 problems found" in output
