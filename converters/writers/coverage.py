"""Stage 5 (coverage): the coverage table as markdown, the Navigator layer as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from converters.coverage import Coverage, IndicatorRow
from converters.writers.templates import artifact_environment


def _md_cell(value: object) -> str:
    """Table-safe text: a pipe would end the cell, a newline the row."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _md_code(value: object) -> str:
    return f"`{value}`"


def _checked(count: int, row: IndicatorRow, target: str) -> str:
    if not count:
        return "0"
    return f"{count} ({'verified' if row.verified.get(target) else 'inferred'})"


def coverage_markdown(coverage: Coverage) -> str:
    env = artifact_environment("coverage")
    env.filters["md_cell"] = _md_cell
    env.filters["md_code"] = _md_code
    env.filters["checked"] = _checked
    return env.get_template("coverage.md.j2").render(coverage=coverage)


def write_coverage(coverage: Coverage, layer: dict[str, Any], out: Path) -> None:
    (out / "coverage.md").write_text(coverage_markdown(coverage), encoding="utf-8")
    text = json.dumps(layer, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / "attack-navigator-layer.json").write_text(text, encoding="utf-8")
