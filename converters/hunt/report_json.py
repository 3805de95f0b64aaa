"""`dac hunt --json`: the whole hunt as one JSON document on stdout, for CI.

Alerts are the JSONL records (``--out``); files carry their counts and the records skipped
with file and line; rules that did not run say why; files passed over say why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from converters.hunt.output import Reported
from converters.hunt.run import HuntResult
from converters.loading.rules import RuleSet


def hunt_document(
    result: HuntResult | None,
    alerts: Sequence[Reported],
    ruleset: RuleSet,
    not_run: Mapping[str, str],
    passed_over: Sequence[str],
    errors: Sequence[str] = (),
) -> dict[str, Any]:
    files = [
        {
            "file": str(f.path),
            "format": f.format,
            "records": f.records,
            "parsed": f.parsed,
            "skipped": f.skipped,
            "events": f.events,
            "problems": [{"line": line, "reason": reason} for line, reason in f.problems],
            "repaired": f.repaired,
            "error": f.error,
        }
        for f in (result.files if result else [])
    ]
    failed = [*errors, *(f"{f['file']}: {f['error']}" for f in files if f["error"])]
    return {
        "ok": not failed,
        "errors": failed,
        "files": files,
        "passed_over": list(passed_over),
        "not_run": [
            {"rule_id": rule_id, "title": ruleset.by_id(rule_id).title, "reason": reason}
            for rule_id, reason in not_run.items()
        ],
        "alerts": [a.record for a in alerts],
    }
