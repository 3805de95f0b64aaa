"""Reading a built dist/: exactly what `make build` wrote, located through manifest.json."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from converters.targets.enrichment import PIPELINE


class DistError(Exception):
    """dist/ is missing, incomplete or unreadable: build it first."""


@dataclass(frozen=True)
class Stanza:
    name: str
    settings: dict[str, str]


@dataclass(frozen=True)
class SplunkDist:
    app_id: str
    label: str
    saved_searches: tuple[Stanza, ...]
    macros: tuple[Stanza, ...]
    transforms: tuple[Stanza, ...]
    lookups: dict[str, list[list[str]]]  # file name -> rows, header first


@dataclass(frozen=True)
class Enrichment:
    bulk_lines: tuple[str, ...]  # the bulk body, action and source lines alternating
    index: str
    policy_name: str
    policy: dict[str, Any]
    pipeline_id: str
    pipeline: dict[str, Any]
    digest: str  # of the document list: tells whether the deployed index is current


@dataclass(frozen=True)
class ElasticDist:
    rules: tuple[dict[str, Any], ...]
    enrichment: Enrichment | None


def _manifest(dist: Path) -> dict[str, Any]:
    path = dist / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DistError(
            f"{path}: not found; run `make build` (or `dac build --out {dist}`)"
        ) from None
    except (OSError, ValueError) as exc:
        raise DistError(f"{path}: unreadable: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
        raise DistError(f"{path}: no targets")
    return data


def parse_conf(path: Path) -> list[Stanza]:
    """The .conf files the build writes: ``[stanza]``, ``key = value``, values continued by
    a trailing backslash (the line break is part of the value), ``#`` comment lines."""
    stanzas: list[Stanza] = []
    settings: dict[str, str] | None = None
    pending: tuple[str, list[str]] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if pending is not None:
            key, parts = pending
            if line.endswith("\\"):
                parts.append(line[:-1])
                continue
            parts.append(line)
            assert settings is not None
            settings[key] = "\n".join(parts)
            pending = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            settings = {}
            stanzas.append(Stanza(stripped[1:-1], settings))
            continue
        key, sep, value = line.partition("=")
        if not sep or settings is None:
            raise DistError(f"{path}:{number}: not a setting inside a stanza")
        key, value = key.strip(), value.strip()
        if value.endswith("\\"):
            pending = (key, [value[:-1]])
        else:
            settings[key] = value
    if pending is not None:
        raise DistError(f"{path}: the file ends inside a continued value")
    return stanzas


def _ui_label(app: Path) -> str:
    for stanza in parse_conf(app / "default" / "app.conf"):
        if stanza.name == "ui" and "label" in stanza.settings:
            return stanza.settings["label"]
    return app.name


def read_splunk(dist: Path) -> SplunkDist:
    target = _manifest(dist)["targets"].get("splunk")
    if not isinstance(target, dict) or "app" not in target:
        raise DistError(f"{dist}/manifest.json: no Splunk app")
    app = dist / str(target["app"])
    try:
        default = app / "default"
        lookups = {}
        for path in sorted((app / "lookups").glob("*.csv")):
            with path.open(encoding="utf-8", newline="") as handle:
                lookups[path.name] = [list(row) for row in csv.reader(handle)]
        return SplunkDist(
            app_id=app.name,
            label=_ui_label(app),
            saved_searches=tuple(parse_conf(default / "savedsearches.conf")),
            macros=tuple(parse_conf(default / "macros.conf")),
            transforms=tuple(parse_conf(default / "transforms.conf")),
            lookups=lookups,
        )
    except OSError as exc:
        raise DistError(f"{app}: {exc.strerror or exc}: {exc.filename or ''}") from None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DistError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DistError(f"{path}: not JSON: {exc}") from None


def _enrichment(folder: Path) -> Enrichment:
    policy = _json(folder / "enrich_policy.json")
    pipeline = _json(folder / "ingest_pipeline.json")
    try:
        text = (folder / "disposable_domains.ndjson").read_text(encoding="utf-8")
    except OSError as exc:
        raise DistError(f"{folder}: {exc.strerror or exc}") from None
    lines = tuple(line for line in text.split("\n") if line.strip())
    if len(lines) % 2 or not lines:
        raise DistError(f"{folder}/disposable_domains.ndjson: expected action/source line pairs")
    try:
        actions = [json.loads(line) for line in lines[::2]]
        indices = {a["index"]["_index"] for a in actions}
        policy_match = policy["match"]
        policies = {p["enrich"]["policy_name"] for p in pipeline["processors"] if "enrich" in p}
    except (ValueError, KeyError, TypeError):
        raise DistError(f"{folder}: not the enrichment files the build writes") from None
    if len(indices) != 1 or len(policies) != 1 or not policy_match:
        raise DistError(f"{folder}: expected one index, one match policy and one pipeline")
    index = str(indices.pop())
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    # The pipeline's name appears in no file but the README's install steps; the build's
    # constant is the same name.
    return Enrichment(lines, index, str(policies.pop()), policy, PIPELINE, pipeline, digest)


def read_elastic(dist: Path) -> ElasticDist:
    target = _manifest(dist)["targets"].get("elastic")
    if not isinstance(target, dict) or "rules" not in target:
        raise DistError(f"{dist}/manifest.json: no Elastic rules")
    path = dist / str(target["rules"])
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DistError(f"{path}: {exc.strerror or exc}") from None
    rules = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rule = json.loads(line)
        except ValueError as exc:
            raise DistError(f"{path}:{number}: not JSON: {exc}") from None
        if not isinstance(rule, dict) or not rule.get("rule_id"):
            raise DistError(f"{path}:{number}: not a rule with a rule_id")
        rules.append(rule)
    folder = target.get("enrichment")
    enrichment = _enrichment(dist / str(folder)) if folder else None
    return ElasticDist(tuple(rules), enrichment)
