"""How `dac` commands print problems: for people, one uncut line each (editors and CI logs jump
to ``file:line``); for machines (``--json``), one JSON document on stdout."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from converters.console import Console
from converters.errors import Problem
from converters.textsafe import visible

out = Console()
err = Console(stderr=True)


def problem_json(problem: Problem, severity: str) -> dict[str, Any]:
    return {
        "severity": severity,
        "file": str(problem.path) if problem.path else None,
        "line": problem.line,
        "rule": problem.rule,
        "reason": problem.reason,
        "text": str(problem),
    }


def print_json(document: dict[str, Any]) -> None:
    # Plain print: rich would wrap or colour it; JSON escapes every control character.
    print(json.dumps(document, indent=2, ensure_ascii=False))


def print_problems(errors: Sequence[Problem], warnings: Sequence[Problem] = ()) -> None:
    """Errors first (what is wrong), then warnings (what is left to do), to stderr."""
    for problems, label, noun, style in (
        (errors, "error:", "problem", "bold red"),
        (warnings, "warning:", "thing", "bold yellow"),
    ):
        if not problems:
            continue
        count = len(problems)
        what = f"{count} {noun}{'s' if count != 1 else ''}"
        summary = f"{what} found" if noun == "problem" else f"{what} still to do"
        err.print(Text.assemble((label, style), f" {summary}"))
        for problem in problems:
            err.print(Text(f"  {visible(str(problem))}"), soft_wrap=True)
