"""The CI workflow: lint, tests and the build as an artifact on every change; on pull
requests the deploy plan when its credentials are set; on main the tested build deployed;
every action pinned by a full commit SHA."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
WORKFLOW: dict[str, Any] = yaml.safe_load(TEXT)
JOBS: dict[str, Any] = WORKFLOW["jobs"]


def _runs(job: dict[str, Any]) -> list[str]:
    return [str(step["run"]) for step in job["steps"] if "run" in step]


def test_every_action_is_pinned_by_commit() -> None:
    uses = re.findall(r"uses: (\S+)(.*)", TEXT)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"actions/[a-z-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (action, comment)


def test_lint_tests_and_build_run_on_every_change() -> None:
    assert set(WORKFLOW[True]) == {"pull_request", "push"}  # YAML reads `on` as True
    assert "make lint" in _runs(JOBS["lint"])
    assert ".venv/bin/dac validate --strict" in _runs(JOBS["lint"])
    assert "make test" in _runs(JOBS["test"])
    build = JOBS["build"]
    assert "make build" in _runs(build) and "if" not in build
    (upload,) = [s for s in build["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "dist/" and upload["with"]["if-no-files-found"] == "error"


def test_pull_requests_get_the_plan_when_credentials_exist() -> None:
    plans = [s for s in JOBS["build"]["steps"] if "--dry-run" in s.get("run", "")]
    assert {s["run"] for s in plans} == {
        ".venv/bin/dac deploy splunk --dry-run",
        ".venv/bin/dac deploy elastic --dry-run",
    }
    for step in plans:
        condition = step["if"]
        assert "github.event_name == 'pull_request'" in condition
        assert re.search(r"env\.DAC_\w+ != ''", condition)  # skipped without credentials


def test_main_deploys_the_tested_build() -> None:
    deploy = JOBS["deploy"]
    assert set(deploy["needs"]) == {"lint", "test", "build"}
    assert deploy["environment"] == "production"
    steps = [s.get("uses", "") + s.get("run", "") for s in deploy["steps"]]
    download = next(i for i, s in enumerate(steps) if "download-artifact" in s)
    first_deploy = next(i for i, s in enumerate(steps) if "dac deploy" in s)
    assert download < first_deploy and not any("make build" in s for s in steps)
