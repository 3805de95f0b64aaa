"""Which rules a hunt runs, and which log files it reads."""

from __future__ import annotations

import stat
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from converters.hunt.limits import DEFAULT_LIMITS, Limits
from converters.hunt.readers import (
    FILE_FORMATS,
    FileFormat,
    InputError,
    UnknownFormat,
    check_file,
    sniff,
)
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
    """The files named, and the files inside the folders named (hidden ones left out). Named
    pipes, devices and sockets in a folder are listed too, for file_formats to refuse by
    name: left out, a pipe would be data silently not read."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if not p.name.startswith(".") and _listed(p))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _listed(path: Path) -> bool:
    """Anything in a folder but folders and broken links."""
    try:
        return not stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False


@dataclass
class Sorted:
    """The files a hunt reads, with their formats; what stops it; what it passes over."""

    found: list[tuple[Path, FileFormat]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)


def file_formats(
    paths: Sequence[Path],
    forced: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    lenient: Collection[Path] = (),
) -> Sorted:
    """Each file with its format (``forced`` for all, else detected); and one message per
    file that cannot be read, is no regular file (a named pipe, a device: refused before it
    is opened, which could block) or whose format is unknown. A file of unknown format among
    ``lenient`` (found in a folder, not named) is passed over instead, with its message."""
    result = Sorted()
    for path in paths:
        try:
            check_file(path)
            fmt = FILE_FORMATS[forced] if forced else sniff(path, limits)
        except UnknownFormat as exc:
            (result.passed_over if path in lenient else result.problems).append(f"{path}: {exc}")
            continue
        except InputError as exc:
            result.problems.append(f"{path}: {exc}")
            continue
        result.found.append((path, fmt))
    return result
