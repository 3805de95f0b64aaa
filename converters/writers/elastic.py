"""Stage 5 (Elastic): Kibana rules as NDJSON and the enrichment files, all through ``json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from converters.artifacts.kibana import KibanaRule
from converters.backends.eql import ENRICHMENT_ROOT
from converters.domains import DomainList
from converters.sources import address_fields
from converters.targets.enrichment import ERROR_FIELD, INDEX, PIPELINE, POLICY, Enrichment
from converters.writers.templates import artifact_environment


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
    readme = (
        artifact_environment("elastic")
        .get_template("enrichment_README.md.j2")
        .render(
            fields=enrichment.fields,
            domain_count=len(domains.domains),
            package_version=domains.package_version,
            root=ENRICHMENT_ROOT,
            index=INDEX,
            policy=POLICY,
            pipeline=PIPELINE,
            error_field=ERROR_FIELD,
            datasets=sorted({s.elastic_dataset for s, _ in address_fields()}),
        )
    )
    (folder / "README.md").write_text(readme, encoding="utf-8")
