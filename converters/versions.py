"""Rule versions, bumped from a hash of each rule's content (the elastic/detection-rules model).

``versions.lock.json`` records, per rule id, the content hash and version last locked. A rule
whose hash differs from the lock gets the next version; ``dac lock`` records it."""

from __future__ import annotations

import json
from pathlib import Path

from converters.errors import DacError, Problem
from converters.loading.rules import RuleSet

LOCK_FILE = "versions.lock.json"


def read_lock(path: Path) -> dict[str, dict[str, object]]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DacError([Problem(path, f"malformed JSON: {exc.msg}", line=exc.lineno)]) from exc
    if not isinstance(data, dict):
        raise DacError([Problem(path, "the version lock must be a JSON object")])
    return data


def versions(ruleset: RuleSet, lock: dict[str, dict[str, object]]) -> dict[str, int]:
    result: dict[str, int] = {}
    for doc in ruleset.docs:
        entry = lock.get(doc.id)
        if entry is None:
            result[doc.id] = 1
            continue
        locked = int(str(entry.get("version", 1)))
        result[doc.id] = locked if entry.get("hash") == doc.content_hash else locked + 1
    return result


def stale(ruleset: RuleSet, lock: dict[str, dict[str, object]]) -> list[str]:
    """Rule ids whose content changed since the lock, or that the lock does not know."""
    return [d.id for d in ruleset.docs if lock.get(d.id, {}).get("hash") != d.content_hash]


def updated_lock(
    ruleset: RuleSet, lock: dict[str, dict[str, object]]
) -> dict[str, dict[str, object]]:
    current = versions(ruleset, lock)
    return {
        doc.id: {"name": doc.name, "hash": doc.content_hash, "version": current[doc.id]}
        for doc in sorted(ruleset.docs, key=lambda d: d.id)
    }


def write_lock(path: Path, lock: dict[str, dict[str, object]]) -> None:
    path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", encoding="utf-8")
