"""`dac new` and what `dac validate` then says: a new rule is complete (every required key, a
fresh id, its name its file name), passes its own test cases from the start, and validate
lists exactly what is left (its TODOs, the lock, README coverage, CHANGELOG) until a newcomer
has done it; then everything is green. Every data source's stub is checked."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from converters.authoring.stubs import STUBS
from converters.cli import main
from converters.compile import compile_target
from converters.domains import load_domains
from converters.engine import EqlEngine, SqliteEngine, load_records, sigma_rows
from converters.hunt.readers import read_csv, sniff
from converters.loading.rules import RuleSet, load_rules
from converters.readme_coverage import update_readme
from converters.sources import SOURCES
from tests.dist_helpers import copy_repository

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {
    "title", "id", "name", "status", "description", "references", "author", "date", "tags",
    "indicator", "falsepositives", "level", "logsource", "detection",
}  # fmt: skip


def dac(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--root", str(root)])
    return result.exit_code, result.output


def warnings(output: str) -> list[str]:
    """The lines under validate's "warning:" heading."""
    listed = output.split("\nwarning: ", 1)[1].splitlines()[1:]
    return [line.strip() for line in listed if line.startswith("  ")]


def records(path: Path) -> list[dict[str, Any]]:
    """A case's events read as `dac hunt` and tests/test_rule_behaviour.py read them."""
    if path.suffix == ".json":
        return load_records(path)
    read = read_csv if path.suffix == ".csv" else sniff(path).read
    found = []
    with path.open("rb") as stream:
        for line, item in read(stream):
            assert not isinstance(item, str), f"{path}:{line}: {item}"
            found.append(dict(item))
    return found


def run_cases(root: Path, ruleset: RuleSet, name: str) -> list[tuple[str, int, int, int | None]]:
    """(case, expected, SQLite alerts, EQL alerts or None for an ES|QL rule) per case."""
    doc = ruleset.by_name(name)
    sqlite, elastic = compile_target(ruleset, "sqlite"), compile_target(ruleset, "elastic")
    domains = load_domains(root)
    document = yaml.safe_load((root / "tests" / "cases" / f"{name}.yml").read_text())
    assert document["rule"] == name
    results = []
    for case in document["cases"]:
        events = records(root / "tests" / "events" / case["events"])
        engine = SqliteEngine(domains)
        engine.load(row for record in events for row in sigma_rows(record))
        alerts = engine.run(sqlite.by_rule[doc.id])
        if doc.is_correlation:
            group = {k: str(v).lower() for k, v in case.get("group", {}).items()}
            assert all(a.group == group for a in alerts), alerts
        eql = None
        if elastic.languages.get(doc.id) == "eql":
            eql_engine = EqlEngine(domains)
            eql_engine.load_records(events)
            eql = len(eql_engine.run(elastic.by_rule[doc.id]))
        results.append((case["name"], case["expect"], len(alerts), eql))
    return results


def assert_cases_pass(root: Path, ruleset: RuleSet, name: str) -> None:
    results = run_cases(root, ruleset, name)
    assert {expect for _, expect, _, _ in results} == {0, 1}, results
    for case, expect, sql, eql in results:
        assert sql == expect and eql in (None, expect), (name, case, expect, sql, eql)


@pytest.fixture(scope="module")
def every_stub(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RuleSet]:
    """A copy with one new rule per data source, and correlations of two of them."""
    root = copy_repository(tmp_path_factory.mktemp("stubs"))
    for stub in STUBS:
        assert dac(root, "new", stub.source, f"new_{stub.source}")[0] == 0
    for kind in ("event_count", "value_count"):
        code, output = dac(
            root, "new", "signup", f"new_signup_{kind}", "--correlation", kind,
            "--of", "new_mail_signup",
        )  # fmt: skip
        assert code == 0, output
    return root, load_rules(root / "sigma_rules")


@pytest.mark.parametrize("source", [s.name for s in SOURCES])
def test_new_rule_of_every_source_passes_its_cases(
    source: str, every_stub: tuple[Path, RuleSet]
) -> None:
    root, ruleset = every_stub
    assert_cases_pass(root, ruleset, f"new_{source}")


@pytest.mark.parametrize("kind", ["event_count", "value_count"])
def test_new_correlation_passes_its_cases(kind: str, every_stub: tuple[Path, RuleSet]) -> None:
    root, ruleset = every_stub
    name = f"new_signup_{kind}"
    doc = ruleset.by_name(name)
    assert doc.document["correlation"]["type"] == kind
    assert doc.document["correlation"]["rules"] == ["new_mail_signup"]
    # Its numbers come from thresholds.yml, written with a TODO on each.
    assert doc.threshold is not None and doc.document["correlation"]["timespan"] == "1h"
    assert_cases_pass(root, ruleset, name)


def test_new_rule_from_start_to_green(tmp_path: Path) -> None:
    """The README's checklist, as a newcomer follows it."""
    root = copy_repository(tmp_path)
    code, output = dac(root, "new", "gws", "my_rule")
    assert code == 0, output
    rule = root / "sigma_rules" / "google_workspace" / "my_rule.yml"
    cases = root / "tests" / "cases" / "my_rule.yml"
    events = [root / "tests" / "events" / "gws" / f"my_rule{s}.json" for s in ("", "_benign")]
    for path in (rule, cases, *events):
        assert path.is_file() and str(path.relative_to(root)) in output

    document = yaml.safe_load(rule.read_text())
    assert set(document) >= REQUIRED and document["name"] == rule.stem == "my_rule"
    lock = (root / "versions.lock.json").read_text()
    assert uuid.UUID(document["id"]).version == 4 and document["id"] not in lock
    assert document["indicator"] == "bulk-account-creation"  # the source's usual one

    # It validates (exit 0) and lists exactly what is left: its TODOs, lock, README, CHANGELOG.
    code, output = dac(root, "validate")
    assert code == 0, output
    todo_lines = {
        (path, number)
        for path in (rule, cases)
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if "TODO" in text
    }
    listed = warnings(output)
    assert {(root / w.split(":")[0], int(w.split(":")[1].split()[0])) for w in listed
            if "still to do" in w} == todo_lines  # fmt: skip
    assert len(todo_lines) == 8
    others = [w for w in listed if "still to do" not in w]
    assert len(others) == 3, others
    assert "my_rule.yml [rule" in others[0] and "run `dac lock`" in others[0]
    assert others[1].startswith(f"{root / 'README.md'}:") and "make coverage" in others[1]
    assert "CHANGELOG.md" in others[2] and "make changelog" in others[2]
    assert f"warning: {len(listed)} things still to do" in output
    assert dac(root, "validate", "--strict")[0] == 1

    # A newcomer's minimal edits: decide each TODO, then lock and regenerate.
    text = rule.read_text()
    text = re.sub(r"  # TODO:.*", "", text)
    text = text.replace("TODO: what the rule detects", "An admin created an account; what")
    text = text.replace('"TODO: the benign activity', '"Onboarding; the benign activity')
    text = text.replace('event.name: "CREATE_USER"', "event.name: USERS_BULK_UPLOAD")
    rule.write_text(text)
    cases.write_text(cases.read_text().replace("TODO: ", "Decided: "))
    for path, name in zip(events, ("USERS_BULK_UPLOAD", "CREATE_USER"), strict=True):
        path.write_text(re.sub(r'"name": "(CREATE_USER|CHANGE_PASSWORD)"', f'"name": "{name}"',
                               path.read_text()))  # fmt: skip
    assert dac(root, "lock")[0] == 0
    update_readme(root)
    from converters.changelog import expected

    (root / "CHANGELOG.md").write_text(expected(root))
    code, output = dac(root, "validate", "--strict")
    assert code == 0 and "warning" not in output, output
    assert "- `my_rule` 1: My Rule (bulk-account-creation)" in (root / "CHANGELOG.md").read_text()
    assert "`my_rule`" in (root / "README.md").read_text()
    assert_cases_pass(root, load_rules(root / "sigma_rules"), "my_rule")


def test_shipped_repository_validates_without_warnings() -> None:
    code, output = dac(ROOT, "validate", "--strict")
    assert code == 0, output
    assert "warning" not in output and "error" not in output


def test_new_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    code, output = dac(root, "new", "gmail_typo", "x_rule")
    assert code == 2 and "gws_admin" in output and "signup" in output  # the choices
    code, output = dac(root, "new", "gws", "gws_user_created")
    assert code == 1 and "already exists; gws_user_created is taken" in output
    code, output = dac(root, "new", "gws", "Bad-Name")
    assert code == 1 and "lower_snake_case" in output
    code, output = dac(root, "new", "gws", "my_burst", "--correlation", "event_count")
    assert code == 1 and "--of" in output
    code, output = dac(
        root, "new", "gws", "my_burst", "--correlation", "event_count", "--of", "m365_user_added"
    )
    assert code == 1 and "reads m365_audit, not gws_admin" in output
    assert not (root / "sigma_rules" / "google_workspace" / "my_burst.yml").exists()
    assert not (root / "tests" / "cases" / "my_burst.yml").exists()


def test_validate_names_a_misnamed_file_and_a_rule_without_cases(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    folder = root / "sigma_rules" / "google_workspace"
    (folder / "gws_user_created.yml").rename(folder / "gws_created.yml")
    (root / "tests" / "cases" / "gws_users_bulk_upload.yml").unlink()
    code, output = dac(root, "validate")
    assert code == 1, output
    assert "error: 1 problem found" in output
    assert (f"{folder / 'gws_created.yml'} [rule 568458f5-be84-4491-8099-75cb20c13dd7]: the "
            "file is named gws_created.yml but holds rule 'gws_user_created': rename it to "
            "gws_user_created.yml") in output  # fmt: skip
    assert "gws_users_bulk_upload.yml [rule" in output
    assert "no test cases: write tests/cases/gws_users_bulk_upload.yml" in output


def test_validate_warns_of_alert_text_the_analyst_should_not_read(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    rule = root / "sigma_rules" / "google_workspace" / "gws_user_created.yml"
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace("in the Google Workspace", "where event.name|contains the"))
    code, output = dac(root, "validate")
    assert code == 0, output
    assert any("alert text:" in w and "sigma-syntax" in w for w in warnings(output)), output
