"""Stage 5 (Elastic): Kibana rules as NDJSON and the enrichment files, all through ``json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from converters.artifacts.kibana import KibanaRule
from converters.backends.eql import ENRICHMENT_ROOT
from converters.domains import DomainList
from converters.targets.enrichment import INDEX, PIPELINE, POLICY, Enrichment


def _dump(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def write_rules(rules: Sequence[KibanaRule], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [_dump(rule.to_dict()) for rule in sorted(rules, key=lambda r: r.rule_id)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_enrichment(enrichment: Enrichment, domains: DomainList, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    docs = "\n".join(_dump(d) for d in enrichment.documents) + "\n"
    (folder / "disposable_domains.ndjson").write_text(docs, encoding="utf-8")
    for name, data in (
        ("enrich_policy.json", enrichment.policy),
        ("ingest_pipeline.json", enrichment.pipeline),
    ):
        (folder / name).write_text(
            json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    root = Path(str(resources.files("converters") / "templates" / "elastic"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    readme = env.get_template("enrichment_README.md.j2").render(
        fields=enrichment.fields,
        domain_count=len(domains.domains),
        package_version=domains.package_version,
        root=ENRICHMENT_ROOT,
        index=INDEX,
        policy=POLICY,
        pipeline=PIPELINE,
    )
    (folder / "README.md").write_text(readme, encoding="utf-8")
