"""Problems reported to the user: always with the file, the rule and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as known."""

    path: Path | None
    reason: str
    rule: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.path) if self.path else "<input>"
        if self.line is not None:
            where += f":{self.line}"
        rule = f" [rule {self.rule}]" if self.rule else ""
        return f"{where}{rule}: {self.reason}"


class DacError(Exception):
    """One or more problems that stop a command; the message lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
