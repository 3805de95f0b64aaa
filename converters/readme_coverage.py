"""`make coverage`: rebuild the coverage table and copy it into the README between its
markers (tests/test_coverage.py checks that the two agree)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from converters.build import Project, build
from converters.errors import DacError

START = "<!-- coverage:start -->\n"
END = "<!-- coverage:end -->"


def update_readme(root: Path) -> bool:
    """Rewrite the README's table from a fresh build; whether anything changed."""
    with tempfile.TemporaryDirectory(prefix="dac-coverage-") as scratch:
        table = (build(Project.at(root), Path(scratch) / "dist") / "coverage.md").read_text(
            encoding="utf-8"
        )
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    updated = f"{head}{START}{table}{END}{tail}"
    if updated == text:
        return False
    readme.write_text(updated, encoding="utf-8")
    return True


def main() -> None:
    try:
        changed = update_readme(Path.cwd())
    except DacError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    print("README.md: coverage table " + ("updated" if changed else "already current"))


if __name__ == "__main__":
    main()
