"""The command line for people and CI: the repository found from any folder inside it, every
command in `dac --help`, JSON for machines, whole lines in logs, and `dac show` printing
exactly what the build ships."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from converters.cli import main
from tests.dist_helpers import built_dist, copy_repository, kibana_rules, read_conf

ROOT = Path(__file__).resolve().parent.parent
DAC = Path(sys.executable).parent / "dac"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_root_is_found_from_a_folder_inside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "sigma_rules" / "google_workspace")
    result = invoke("validate", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # Paths stay relative to the working folder, as an editor opens them.
    files = {r["file"] for r in report["rules"]}
    assert "../../sigma_rules/google_workspace/gws_user_created.yml" in files


def test_outside_a_repository_the_error_names_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["validate"], ["build"], ["lock"], ["show", "x"], ["new", "gws", "x_y"]):
        result = invoke(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "no dac repository" in result.output and "--root" in result.output
    assert not list(tmp_path.iterdir())  # nothing written


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    summary, listing = result.output.split("\nOptions:", 1)
    for name in main.commands:
        assert f"  dac {name}" in summary, name
        assert f"\n  {name} " in listing, name
    assert {"hunt", "deploy", "verify", "new", "show"} <= set(main.commands)


def test_validate_json_for_ci(tmp_path: Path) -> None:
    result = invoke("validate", "--json", "--root", str(ROOT))
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["errors"] == [] and report["warnings"] == []
    assert len(report["rules"]) == len(list(ROOT.glob("tests/cases/*.yml")))

    root = copy_repository(tmp_path)
    rule = root / "sigma_rules" / "m365" / "m365_user_added.yml"
    rule.write_text(rule.read_text().replace("level: ", "level: severe\nx_level: ", 1))
    (root / "tests" / "cases" / "m365_user_logged_in.yml").unlink()
    result = invoke("validate", "--json", "--root", str(root))
    assert result.exit_code == 1
    report = json.loads(result.stdout)  # stdout holds the JSON document only
    assert report["ok"] is False
    reasons = {(p["file"], p["severity"], p["reason"]) for p in report["errors"]}
    assert (str(rule), "error", "unknown key 'x_level' for a rule") in reasons
    first = report["errors"][0]
    assert set(first) == {"severity", "file", "line", "rule", "reason", "text"}
    assert isinstance(first["line"], int) and first["rule"]


def test_validate_json_lists_warnings_and_strict_fails(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    (root / "tests" / "cases" / "m365_user_logged_in.yml").unlink()
    result = invoke("validate", "--json", "--root", str(root))
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"] is True
    assert [w["reason"] for w in report["warnings"]] == [
        "no test cases: write tests/cases/m365_user_logged_in.yml (`dac new` writes a start)"
    ]
    strict = invoke("validate", "--json", "--strict", "--root", str(root))
    assert strict.exit_code == 1 and json.loads(strict.stdout)["ok"] is False


def test_build_json_lists_the_written_files(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = invoke("build", "--json", "--root", str(ROOT), "--out", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert report == {"ok": True, "out": str(out), "files": on_disk}
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) | {"manifest.json"} == set(on_disk)

    broken = copy_repository(tmp_path / "broken")
    rule = broken / "sigma_rules" / "m365" / "m365_user_added.yml"
    rule.write_text(rule.read_text().replace("status: experimental", "status: maybe"))
    result = invoke("build", "--json", "--root", str(broken), "--out", str(tmp_path / "d2"))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and "status 'maybe'" in report["errors"][0]["reason"]


def test_lines_are_whole_when_output_is_not_a_terminal(tmp_path: Path) -> None:
    """CI logs: rich would wrap at 80 columns without a terminal; every row and problem is
    one line, however long."""
    root = copy_repository(tmp_path / ("a-long-folder-name-" * 4).rstrip("-"))
    (root / "tests" / "cases" / "message_trace_disposable_sender_many_recipients.yml").unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    result = subprocess.run(
        [str(DAC), "validate", "--root", str(root)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    name = "message_trace_disposable_sender_many_recipients"
    row = next(line for line in result.stdout.splitlines() if f" {name} " in line)
    assert "disposable-email-domain" in row and "correlation" in row and len(row) > 80
    problem = next(line for line in result.stderr.splitlines() if "no test cases" in line)
    assert len(problem) > 200 and problem.strip().startswith(str(root))
    assert problem.endswith("(`dac new` writes a start)")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_dist(tmp_path_factory)


@pytest.mark.parametrize(
    "name",
    ["gws_bulk_user_creation", "m365_forwarding_disposable_domain", "gws_user_never_signed_in"],
)
def test_show_prints_what_the_build_ships(name: str, dist: Path) -> None:
    result = invoke("show", name, "--json", "--root", str(ROOT))
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)["targets"]
    (kibana,) = [r for r in kibana_rules(dist) if r["meta"]["dac_sigma_name"] == name]
    conf = read_conf(dist / "splunk" / "dac_t1585" / "default" / "savedsearches.conf")
    # A stanza is titled after the rule; a value's line breaks are continued with "\\".
    search = {k: v.replace("\\\n", "\n") for k, v in conf[kibana["name"]].items()}
    assert shown["splunk"]["query"] == search["search"]
    assert shown["splunk"]["notable_description"] == search["action.notable.param.rule_description"]
    steps = json.loads(search["action.notable.param.next_steps"])["data"]
    assert shown["splunk"]["next_steps"] == steps
    assert shown["elastic"]["query"] == kibana["query"]
    assert shown["elastic"]["language"] == kibana["language"]
    assert shown["elastic"]["description"] == kibana["description"]
    assert shown["elastic"]["investigation_guide"] == kibana["note"]

    text = invoke("show", name, "--root", str(ROOT)).output
    for part in (search["search"], kibana["query"], steps.splitlines()[0], kibana["note"][:200]):
        assert part in text


def test_show_a_building_block_has_no_notable_as_the_build_ships_none(dist: Path) -> None:
    result = invoke("show", "m365_user_added", "--json", "--root", str(ROOT))
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)["targets"]["splunk"]
    conf = read_conf(dist / "splunk" / "dac_t1585" / "default" / "savedsearches.conf")
    stanza = conf["Microsoft 365 User Account Added"]
    assert stanza["search"].replace("\\\n", "\n") == shown["query"]
    assert "action.notable" not in stanza and "notable_description" not in shown
    assert "no notable" in shown["notable"] and "m365_bulk_user_creation" in shown["notable"]


def test_show_one_target_a_skipped_target_and_an_unknown_rule() -> None:
    path = ROOT / "sigma_rules" / "entra" / "entra_user_without_hr_attributes.yml"
    result = invoke("show", str(path), "--target", "elastic", "--root", str(ROOT))
    assert result.exit_code == 0, result.output
    assert "--- elastic: skipped ---" in result.output and "splunk" not in result.output
    by_id = invoke("show", "568458f5-be84-4491-8099-75cb20c13dd7", "--root", str(ROOT))
    assert by_id.output.startswith("gws_user_created: ")
    assert "--- splunk: SPL (savedsearches.conf search) ---" in by_id.output
    assert "--- elastic: EQL (Kibana eql rule) ---" in by_id.output
    unknown = invoke("show", "no_such_rule", "--root", str(ROOT))
    assert unknown.exit_code == 1 and "no rule named 'no_such_rule'" in unknown.output


def test_build_and_deploy_find_dist_at_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_repository(tmp_path)
    monkeypatch.chdir(root / "sigma_rules" / "m365")
    result = invoke("build", "--json")
    assert result.exit_code == 0, result.output
    assert Path(json.loads(result.stdout)["out"]).resolve() == (root / "dist").resolve()
    assert (root / "dist" / "manifest.json").is_file()
    assert not (root / "sigma_rules" / "m365" / "dist").exists()

    (root / "dist" / "manifest.json").unlink()
    monkeypatch.setenv("DAC_SPLUNK_URL", "https://127.0.0.1:9")
    monkeypatch.setenv("DAC_SPLUNK_TOKEN", "not-a-token")
    plan = invoke("deploy", "splunk", "--dry-run")
    assert plan.exit_code == 2  # dist/ unusable: nothing sent
    assert "../../dist/manifest.json: not found" in plan.output
