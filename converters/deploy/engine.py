"""The cycle every target goes through: plan, apply, read back. The read-back decides each
item's final status, so a write whose answer was lost but which took effect is reported
applied, and one that was acknowledged but did not land (Kibana drops unknown keys) failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from converters.deploy.answers import HttpError
from converters.deploy.report import Action, Item, Report, Status

Advance = Callable[[Item], None]


class TargetError(Exception):
    """The target's state could not be read or a precondition failed; nothing was written."""


class Target(Protocol):
    name: str
    where: str

    def plan(self, prune: bool) -> list[Item]: ...

    def apply(self, changes: list[Item], advance: Advance) -> None: ...

    def close(self) -> None: ...


def run(
    target: Target,
    mode: str,
    prune: bool = False,
    start: Callable[[int], Advance] | None = None,
) -> Report:
    """``mode`` is "deploy", "dry-run" or "verify". ``start(total)`` opens a progress display
    for the writes and returns the function that advances it."""
    report = Report(target.name, mode, target.where)
    try:
        report.items = target.plan(prune)
    except (HttpError, TargetError) as exc:
        report.errors.append(f"reading the target: {exc}")
        return report
    changes = report.changes
    if mode != "deploy" or not changes:
        return report
    advance = start(len(changes)) if start else (lambda item: None)
    target.apply(changes, advance)
    _confirm(target, report, prune)
    return report


def _confirm(target: Target, report: Report, prune: bool) -> None:
    try:
        now = {item.key: item for item in target.plan(prune)}
    except (HttpError, TargetError) as exc:
        report.errors.append(f"reading the target back after the writes: {exc}")
        for item in report.changes:
            if item.status is Status.APPLIED:
                item.status = Status.UNCONFIRMED
        return
    for item in report.changes:
        if item.status is Status.NOT_ATTEMPTED:
            continue
        after = now.get(item.key)
        if item.action is Action.DELETE:
            done = after is None
        else:
            done = after is not None and after.action in (Action.UNCHANGED, Action.KEEP)
        if done:
            if item.status is not Status.APPLIED:
                item.detail = _join(item.detail, f"applied (the target confirms; {item.error})")
                item.error = ""
            item.status = Status.APPLIED
        elif item.status is Status.APPLIED or not item.error:
            if item.action is Action.DELETE:
                still = "it is still there"
            elif after is None:
                still = "it is missing"
            else:
                still = f"{after.action} needed ({after.detail or 'content differs'})"
            item.fail(f"accepted, but reading back shows {still}")


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
