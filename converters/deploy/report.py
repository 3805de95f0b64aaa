"""The plan and the report: one item per deployable object, with what was decided and what
happened. The same items feed the table, the --json document and the exit status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    KEEP = "keep"  # present and customer-owned (tuned): never overwritten
    DELETE = "delete"  # --prune: ours, no longer shipped
    EXTRA = "extra"  # ours, no longer shipped, and --prune not given

    @property
    def writes(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.DELETE)

    @property
    def drift(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.DELETE, Action.EXTRA)


class Status(StrEnum):
    PLANNED = "planned"  # not written (yet): a dry run or a verify
    APPLIED = "applied"  # written, and the target now matches dist
    FAILED = "failed"  # attempted; the target does not match dist
    NOT_ATTEMPTED = "not-attempted"  # skipped because something it needs failed
    UNCONFIRMED = "unconfirmed"  # attempted, but the target could not be read back


@dataclass
class Item:
    kind: str  # "saved search", "macro", "rule", "ingest pipeline", ...
    name: str
    action: Action
    detail: str = ""
    status: Status = Status.PLANNED
    error: str = ""
    # Target-specific data the apply step needs (the dist object, the deployed id, ...).
    payload: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def fail(self, error: str) -> None:
        self.status = Status.FAILED
        self.error = error

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": str(self.action),
            "status": str(self.status) if self.action.writes else None,
            "detail": self.detail,
            "error": self.error,
        }


@dataclass
class Report:
    target: str
    mode: str  # "deploy", "dry-run" or "verify"
    where: str  # URL and namespace, for the reader
    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # problems not tied to one item
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        actions = Counter(str(i.action) for i in self.items)
        statuses = Counter(str(i.status) for i in self.items if i.action.writes)
        return {
            **{str(a): actions.get(str(a), 0) for a in Action},
            **{str(s): statuses.get(str(s), 0) for s in Status if s is not Status.PLANNED},
        }

    @property
    def changes(self) -> list[Item]:
        return [i for i in self.items if i.action.writes]

    @property
    def drift(self) -> list[Item]:
        return [i for i in self.items if i.action.drift]

    @property
    def ok(self) -> bool:
        if self.errors:
            return False
        if self.mode == "verify":
            return not self.drift
        if self.mode == "dry-run":
            return True
        return all(i.status is Status.APPLIED for i in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "mode": self.mode,
            "where": self.where,
            "ok": self.ok,
            "summary": self.counts(),
            "items": [i.to_json() for i in self.items],
            "errors": list(self.errors),
            "notes": list(self.notes),
        }
