"""Which rules a hunt runs, and which log files it reads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from converters.hunt.limits import DEFAULT_LIMITS, Limits
from converters.hunt.readers import FILE_FORMATS, FileFormat, InputError, sniff
from converters.loading.rules import RuleDoc, RuleSet


class SelectionError(ValueError):
    """A --rule or --indicator that names nothing: a usage error."""


def select_rules(
    ruleset: RuleSet, rules: Sequence[str] = (), indicators: Sequence[str] = ()
) -> list[RuleDoc]:
    """Every rule, or those named (by name or id) and those of the indicators. Building
    blocks (an alert per sign-in or sent message) run only when named: the rules built on
    them read their events anyway."""
    if not rules and not indicators:
        return sorted((d for d in ruleset.docs if not d.building_block), key=lambda d: d.name)
    chosen: dict[str, RuleDoc] = {}
    for ref in rules:
        try:
            doc = ruleset.ref(ref)
        except KeyError:
            known = ", ".join(sorted(d.name for d in ruleset.docs))
            raise SelectionError(f"no rule named {ref!r}; the rules are: {known}") from None
        chosen[doc.id] = doc
    for indicator in indicators:
        docs = [d for d in ruleset.docs if d.indicator == indicator]
        if not docs:
            used = ", ".join(sorted({d.indicator for d in ruleset.docs}))
            raise SelectionError(
                f"no rule implements indicator {indicator!r}; the rules implement: {used}"
            )
        chosen.update((d.id, d) for d in docs if not d.building_block)
    return sorted(chosen.values(), key=lambda d: d.name)


def log_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and the files inside the folders named (hidden ones left out)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:])
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def file_formats(
    paths: Sequence[Path], forced: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[tuple[Path, FileFormat]], list[str]]:
    """Each file with its format (``forced`` for all, else detected); and one message per
    file that cannot be read or whose format is unknown."""
    found: list[tuple[Path, FileFormat]] = []
    problems: list[str] = []
    for path in paths:
        try:
            fmt = FILE_FORMATS[forced] if forced else sniff(path, limits)
        except InputError as exc:
            problems.append(f"{path}: {exc}")
            continue
        if forced and not path.is_file():
            problems.append(f"{path}: not a file")
            continue
        found.append((path, fmt))
    return found, problems
