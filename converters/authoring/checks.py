"""What `dac validate` says beyond "it compiles": is the change finished?

Errors make the repository wrong or misleading whatever else is done: a rule file named
unlike the rule it holds (reviewers, the case file and the Splunk macros go by the name).
Warnings are work still to do before `make test` passes, none of which changes what the build
writes: a rule without test cases (or without a case that alerts and one that must not), a
case file of no rule or naming missing events, a ``TODO`` left by `dac new`, a rule changed
since versions.lock.json (`dac lock`), and a README coverage table that differs from the
rules (`make coverage`) or a CHANGELOG.md whose current rule lists do (`make changelog`).
`dac validate --strict` counts warnings as errors (CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from converters.changelog import CHANGELOG
from converters.changelog import expected as changelog_text
from converters.errors import Problem
from converters.loading.rules import RuleSet, rule_files
from converters.loading.thresholds import THRESHOLDS_FILE
from converters.versions import LOCK_FILE, read_lock, stale

TODO = "TODO"
README_START, README_END = "<!-- coverage:start -->\n", "<!-- coverage:end -->"


def _documents(path: Path) -> list[Any]:
    try:
        return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # the loader reports unreadable files


def file_name_errors(rules: Path) -> list[Problem]:
    """A single-document rule file is named after its rule (``<name>.yml``); a filter may
    also drop its name's ``filter_`` prefix."""
    problems: list[Problem] = []
    for path in rule_files(rules):
        docs = _documents(path)
        if len(docs) != 1 or not isinstance(docs[0], dict) or "name" not in docs[0]:
            continue
        name = str(docs[0]["name"])
        allowed = {name, name.removeprefix("filter_")} if "filter" in docs[0] else {name}
        if path.stem not in allowed:
            rule = str(docs[0].get("id") or name)
            problems.append(
                Problem(path, f"the file is named {path.name} but holds rule {name!r}: rename "
                        f"it to {name}.yml", rule=rule)
            )  # fmt: skip
    return problems


def _todos(path: Path, rule: str | None = None) -> list[Problem]:
    """One warning per line still holding a TODO marker, quoting it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for number, text in enumerate(lines, 1):
        if TODO in text:
            said = text[text.index(TODO) :].removeprefix(TODO).lstrip(": ").rstrip("\"'")
            found.append(Problem(path, f"still to do: {said}", rule=rule, line=number))
    return found


def _case_warnings(root: Path, ruleset: RuleSet) -> list[Problem]:
    cases = root / "tests" / "cases"
    if not cases.is_dir():
        reason = "no test cases folder: no rule is tested (README: Writing a rule)"
        return [Problem(cases, reason)]
    names = {doc.name: doc for doc in ruleset.docs}
    found: list[Problem] = []
    for doc in sorted(ruleset.docs, key=lambda d: d.name):
        path = cases / f"{doc.name}.yml"
        if not path.is_file():
            found.append(Problem(doc.path, f"no test cases: write tests/cases/{doc.name}.yml "
                                 "(`dac new` writes a start)", rule=doc.id))  # fmt: skip
    events = root / "tests" / "events"
    for path in sorted(cases.glob("*.yml")):
        tested = names.get(path.stem)
        if tested is None:
            found.append(Problem(path, f"test cases of no rule: no rule is named {path.stem}"))
            continue
        doc = tested
        found += _todos(path, doc.id)
        document = (_documents(path) or [{}])[0]
        listed = document.get("cases") if isinstance(document, dict) else None
        listed = [c for c in listed or [] if isinstance(c, dict)]
        expects = [c.get("expect") for c in listed]
        if not any(isinstance(e, int) and e > 0 for e in expects):
            found.append(Problem(path, "no case that alerts (expect: 1 or more)", rule=doc.id))
        if 0 not in expects:
            found.append(Problem(path, "no case that must stay quiet (expect: 0)", rule=doc.id))
        for case in listed:
            spec = case.get("events")
            for item in [spec] if isinstance(spec, str) else spec or []:
                if not (events / str(item)).exists():
                    reason = f"case {case.get('name')}: no events at tests/events/{item}"
                    found.append(Problem(path, reason, rule=doc.id))
    return found


def _coverage_warning(root: Path, table: str | None) -> list[Problem]:
    readme = root / "README.md"
    if table is None or not readme.is_file():
        return []
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return []
    shown = text.split(README_START, 1)[1].split(README_END, 1)[0]
    if shown == table:
        return []
    line = text[: text.index(README_START)].count("\n") + 1
    reason = "the coverage table differs from the rules: run `make coverage`"
    return [Problem(readme, reason, line=line)]


def warnings(
    root: Path, rules: Path, ruleset: RuleSet, coverage_table: str | None
) -> list[Problem]:
    """Work left before `make test` passes; ``coverage_table``: the table a build wrote."""
    found: list[Problem] = []
    files = {doc.path: doc.id for doc in sorted(ruleset.docs, key=lambda d: d.name)}
    for path, rule_id in files.items():
        found += _todos(path, rule_id)
    found += _todos(rules / THRESHOLDS_FILE)
    found += _case_warnings(root, ruleset)
    lock = read_lock(root / LOCK_FILE)
    for rule_id in stale(ruleset, lock):
        doc = ruleset.by_id(rule_id)
        change = "changed since" if rule_id in lock else "not yet in"
        found.append(Problem(doc.path, f"{change} {LOCK_FILE}: run `dac lock`", rule=rule_id))
    found += _coverage_warning(root, coverage_table)
    found += _changelog_warning(root, ruleset)
    return found


def _changelog_warning(root: Path, ruleset: RuleSet) -> list[Problem]:
    path = root / CHANGELOG
    if not path.is_file() or not (root / "pyproject.toml").is_file():
        return []
    if path.read_text(encoding="utf-8") == changelog_text(root, ruleset=ruleset):
        return []
    reason = "the current release's rule lists differ from the rules: run `make changelog`"
    return [Problem(path, reason)]
