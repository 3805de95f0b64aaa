"""`make changelog`: the rule lists of CHANGELOG.md's current release, generated.

CHANGELOG.md holds one section per release (``## <version>``, newest first). Each section
may carry hand-written notes; its rule lists sit between ``<!-- rules:start -->`` and
``<!-- rules:end -->`` and are written from the rules and the versions the build gives them
(versions.lock.json, plus one for a rule changed since), compared with what the older
sections listed:

- ``- `name` 1: title (indicator)``: a rule added in this release, at its version;
- ``- `name` 1 -> 2: title (indicator)``: a rule whose version this release bumps;
- ``- `name` (was 2)``: a rule removed.

Only the current release's lists (the version in pyproject.toml) are rewritten; older
sections are history. A test and `dac validate` say when they are stale."""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from converters.errors import DacError
from converters.loading.rules import RuleDoc, RuleSet, load_rules
from converters.versions import LOCK_FILE, read_lock, versions
from converters.writers.templates import artifact_environment

CHANGELOG = "CHANGELOG.md"
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->"
_LISTED = re.compile(r"^- `(?P<name>[a-z0-9_]+)` (?:\d+ -> )?(?P<version>\d+)\b", re.MULTILINE)
_REMOVED = re.compile(r"^- `(?P<name>[a-z0-9_]+)` \(was \d+\)", re.MULTILINE)
_SECTION = re.compile(r"^## \[?(?P<version>[^\s\]]+)", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    added: list[tuple[RuleDoc, int]]
    bumped: list[tuple[RuleDoc, int, int]]
    removed: list[tuple[str, int]]


def release_version(root: Path) -> str:
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return str(project["project"]["version"])


def _sections(text: str) -> list[tuple[str, str]]:
    """(version, body) per ``## `` section, newest first."""
    marks = list(_SECTION.finditer(text))
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return [(m["version"], text[m.start() : end]) for m, end in zip(marks, ends, strict=True)]


def released(text: str, current: str) -> dict[str, int]:
    """Each rule's version as the releases before ``current`` left it."""
    known: dict[str, int] = {}
    for version, body in reversed(_sections(text)):
        if version == current:
            continue
        for match in _LISTED.finditer(body):
            known[match["name"]] = int(match["version"])
        for match in _REMOVED.finditer(body):
            known.pop(match["name"], None)
    return known


def entry(ruleset: RuleSet, lock: dict[str, dict[str, object]], before: dict[str, int]) -> Entry:
    current = versions(ruleset, lock)
    docs = sorted(ruleset.docs, key=lambda d: d.name)
    names = {d.name for d in docs}
    return Entry(
        added=[(d, current[d.id]) for d in docs if d.name not in before],
        bumped=[
            (d, before[d.name], current[d.id])
            for d in docs
            if d.name in before and current[d.id] > before[d.name]
        ],
        removed=[(n, v) for n, v in sorted(before.items()) if n not in names],
    )


def render(found: Entry) -> str:
    env = artifact_environment("changelog")
    return env.get_template("rules.md.j2").render(entry=found)


def expected(root: Path, rules: Path | None = None, ruleset: RuleSet | None = None) -> str:
    """CHANGELOG.md with the current release's rule lists as the rules make them."""
    path = root / CHANGELOG
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Changelog\n"
    version = release_version(root)
    ruleset = ruleset or load_rules(rules or root / "sigma_rules")
    lists = render(entry(ruleset, read_lock(root / LOCK_FILE), released(text, version)))
    block = f"{START}{lists}{END}"
    sections = _sections(text)
    if sections and sections[0][0] == version:
        body = sections[0][1]
        if START in body and END in body:
            head, rest = body.split(START, 1)
            new_body = head + block + rest.split(END, 1)[1]
        else:
            new_body = body.rstrip("\n") + f"\n\n{block}\n\n"
        return text.replace(body, new_body, 1)
    first = _SECTION.search(text)
    at = first.start() if first else len(text)
    joiner = "" if text[:at].endswith("\n\n") else "\n"
    return f"{text[:at]}{joiner}## {version}\n\n{block}\n\n{text[at:]}"


def main() -> None:
    root = Path.cwd()
    try:
        text = expected(root)
    except DacError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    path = root / CHANGELOG
    changed = not path.is_file() or path.read_text(encoding="utf-8") != text
    if changed:
        path.write_text(text, encoding="utf-8")
    print(f"{CHANGELOG}: rule lists " + ("updated" if changed else "already current"))


if __name__ == "__main__":
    main()
