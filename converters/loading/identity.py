"""How rules are identified: an id is a UUID and a name is lower_snake_case, and both are
compared without letter case (a UUID is the same UUID in either case, and pySigma resolves
references by UUID), so ``ABC...`` and ``abc...`` are one id, a duplicate if two rules use it."""

from __future__ import annotations

import uuid


def rule_key(value: object) -> str:
    """The form two ids or names are compared in: a UUID canonical, anything else casefolded."""
    text = str(value)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text.casefold()


def canonical_id(value: object) -> str:
    """A rule id as every output writes it: the UUID in canonical (lower-case) form."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def same_rule(ref: object, name: object, rule_id: object) -> bool:
    """Whether a reference (by name or id, in any case) names this rule."""
    key = rule_key(ref)
    return key in (rule_key(name), rule_key(rule_id))
