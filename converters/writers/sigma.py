"""Stage 5 (Sigma): every rule as standard Sigma, with its thresholds written in.

The committed rules take their windows and sizes from sigma_rules/thresholds.yml, which other
Sigma tools (sigma-cli, SIEM importers) do not read; these files are what those tools convert.
Filters are written beside the rules they tune, one file per rule folder as committed.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from converters.loading.rules import RuleSet


def write_sigma(ruleset: RuleSet, out: Path) -> None:
    for doc in (*ruleset.docs, *ruleset.filters):
        relative = (
            doc.path.relative_to(ruleset.root)
            if doc.path.is_relative_to(ruleset.root)
            else Path(doc.path.name)
        )
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(doc.document, sort_keys=False, allow_unicode=True, width=100)
        target.write_text(text, encoding="utf-8")
