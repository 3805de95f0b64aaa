"""`dac new SOURCE NAME`: a rule that validates and passes its tests as written, with its test
cases and example events, every line still to be decided marked ``TODO`` (which `dac
validate` lists until they are gone)."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from converters.authoring.events import events_text, examples
from converters.authoring.stubs import Stub, data_source, source_names, stub_for
from converters.errors import DacError, Problem
from converters.loading.rules import load_rules, rule_files
from converters.loading.schema import INDICATORS
from converters.loading.thresholds import THRESHOLDS_FILE
from converters.writers.templates import artifact_environment

# As converters.loading.schema requires: it names Splunk macros.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
CORRELATIONS = ("event_count", "value_count")
AUTHOR = "dac-t1585 detection engineering"
# The example correlation: this many records within the window make an attack.
BURST, WINDOW = 5, "1h"


@dataclass(frozen=True)
class Request:
    """What `dac new` was asked for; None: the default, marked TODO in the rule."""

    source: str
    name: str
    title: str | None = None
    indicator: str | None = None
    level: str | None = None
    correlation: str | None = None
    of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """Where the new rule's files go."""

    rule: Path
    cases: Path
    attack: Path
    benign: Path
    thresholds: Path

    @classmethod
    def of(cls, root: Path, rules: Path, stub: Stub, name: str) -> Layout:
        events = root / "tests" / "events" / stub.events
        return cls(
            rule=rules / stub.folder / f"{name}.yml",
            cases=root / "tests" / "cases" / f"{name}.yml",
            attack=events / f"{name}{stub.suffix}",
            benign=events / f"{name}_benign{stub.suffix}",
            thresholds=rules / THRESHOLDS_FILE,
        )


def _yaml_value(value: Any) -> str:
    # JSON scalars and flow mappings are YAML, and quote what YAML would misread.
    return json.dumps(value, ensure_ascii=False)


def _refuse(path: Path, reason: str) -> DacError:
    return DacError([Problem(path, reason)])


def _check(request: Request, root: Path, rules: Path) -> tuple[Stub, Layout]:
    stub = stub_for(request.source)
    if stub is None:
        known = ", ".join(source_names())
        raise _refuse(rules, f"unknown source {request.source!r}; one of: {known}")
    layout = Layout.of(root, rules, stub, request.name)
    if not NAME_PATTERN.match(request.name):
        raise _refuse(layout.rule, "NAME must be lower_snake_case, 3 to 63 characters")
    if request.correlation and not request.of:
        raise _refuse(layout.rule, "a correlation names the rule(s) it counts with --of")
    if request.of and not request.correlation:
        raise _refuse(layout.rule, "--of is for a correlation (--correlation)")
    taken = [p for p in rule_files(rules) if p.stem == request.name]
    for path in [*taken, layout.rule, layout.cases, layout.attack, layout.benign]:
        if path.exists():
            raise _refuse(path, f"already exists; {request.name} is taken")
    return stub, layout


def _default_indicator(rules: Path, stub: Stub) -> str:
    """The indicator most rules of the source already implement."""
    logsource = data_source(stub).logsource
    seen: Counter[str] = Counter()
    for path in rule_files(rules):
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # dac validate reports it
        for doc in docs:
            if isinstance(doc, dict) and doc.get("logsource") == logsource:
                seen[str(doc.get("indicator"))] += 1
    found = [name for name, _ in seen.most_common() if name in INDICATORS]
    return found[0] if found else INDICATORS[0]


def _correlation(request: Request, rules: Path, stub: Stub) -> tuple[dict[str, Any], str]:
    """The correlation block and the indicator of the rules it counts."""
    ruleset = load_rules(rules)
    problems: list[Problem] = []
    indicator = ""
    for ref in request.of:
        try:
            base = ruleset.ref(ref)
        except KeyError:
            problems.append(Problem(rules, f"--of {ref}: no such rule"))
            continue
        if base.is_correlation:
            problems.append(Problem(base.path, f"--of {ref}: name single-event rules"))
            continue
        sources = [s.name for s in ruleset.sources_of(base)]
        if sources != [stub.source]:
            reason = f"--of {ref} reads {', '.join(sources)}, not {stub.source}"
            problems.append(Problem(base.path, reason))
        indicator = indicator or base.indicator
    if problems:
        raise DacError(problems)
    names = [ruleset.ref(ref).name for ref in request.of]
    field = stub.distinct if request.correlation == "value_count" else None
    block = {"type": request.correlation, "rules": names, "group_by": stub.group, "field": field}
    return block, indicator


def create(
    root: Path, request: Request, *, rules: Path | None = None, today: date | None = None
) -> list[Path]:
    """Write the rule, its cases and example events (and its thresholds entry, for a
    correlation); the files written. Nothing is written when any of them exists."""
    rules = rules or root / "sigma_rules"
    stub, layout = _check(request, root, rules)
    correlation: dict[str, Any] | None = None
    indicator = request.indicator
    if request.correlation:
        correlation, base_indicator = _correlation(request, rules, stub)
        indicator = indicator or base_indicator
    env = artifact_environment("authoring")
    env.filters["yaml_value"] = _yaml_value
    rule = env.get_template("rule.yml.j2").render(
        title=request.title or request.name.replace("_", " ").title(),
        title_todo=request.title is None,
        id=uuid.uuid4(),
        name=request.name,
        author=AUTHOR,
        date=(today or date.today()).isoformat(),
        indicator=indicator or _default_indicator(rules, stub),
        indicator_todo=request.indicator is None,
        indicators=INDICATORS,
        logsource=data_source(stub).logsource,
        field=stub.field,
        value=stub.value,
        correlation=correlation,
        level=request.level or "medium",
        level_todo=request.level is None,
    )
    if correlation:  # a burst, and a look-alike one record short of the count
        attack, benign = examples(stub, stub.value, BURST), examples(stub, stub.value, BURST - 1)
    else:  # a record, and the same record with the look-alike value
        attack, benign = examples(stub, stub.value, 1), examples(stub, stub.benign, 1)
    events = root / "tests" / "events"
    cases = env.get_template("cases.yml.j2").render(
        name=request.name,
        attack=layout.attack.relative_to(events).as_posix(),
        benign=layout.benign.relative_to(events).as_posix(),
        expect=1,
        group={stub.group: stub.group_value} if correlation else None,
    )
    writes = [
        (layout.rule, rule),
        (layout.cases, cases),
        (layout.attack, events_text(stub, attack)),
        (layout.benign, events_text(stub, benign)),
    ]
    for path, text in writes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    written = [path for path, _ in writes]
    if correlation:
        entry = env.get_template("threshold.yml.j2").render(
            name=request.name, timespan=WINDOW, count=BURST
        )
        with layout.thresholds.open("a", encoding="utf-8") as stream:
            stream.write(entry)
        written.append(layout.thresholds)
    return written


__all__ = ["CORRELATIONS", "Request", "create"]
