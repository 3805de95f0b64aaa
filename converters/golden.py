"""Golden query files: ``python -m converters.golden`` (``make golden``) rewrites
tests/golden/ from the rules, so a diff shows every query change for review."""

from __future__ import annotations

import sys
from pathlib import Path

from converters import attack
from converters.compile import compile_target
from converters.errors import DacError
from converters.loading.rules import RuleSet, load_rules

GOLDEN_DIR = Path("tests/golden")
TARGETS = ("splunk", "elastic")


def expected_files(ruleset: RuleSet) -> dict[Path, str]:
    """Relative path -> content, for every rule and target."""
    files: dict[Path, str] = {}
    for target in TARGETS:
        compiled = compile_target(ruleset, target)
        for rule_id, query in compiled.by_rule.items():
            name = f"{ruleset.by_id(rule_id).name}.{compiled.languages[rule_id]}"
            files[Path(target) / name] = query + "\n"
    return files


def write(root: Path) -> int:
    attack.configure_pysigma_offline()
    ruleset = load_rules(root / "sigma_rules")
    folder = root / GOLDEN_DIR
    wanted = expected_files(ruleset)
    for stale in folder.rglob("*"):
        if stale.is_file() and stale.relative_to(folder) not in wanted:
            stale.unlink()
    for relative, content in wanted.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return len(wanted)


def main() -> None:
    try:
        count = write(Path("."))
    except DacError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    print(f"wrote {count} golden query files under {GOLDEN_DIR}")


if __name__ == "__main__":
    main()
