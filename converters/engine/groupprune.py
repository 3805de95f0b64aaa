"""A temporal correlation needs every one of its rules in a group: the raw rows of a group
some rule never reaches cannot be in one of its alerts, and are dropped before the steps run.

``gws_escalation_bulk_and_disposable`` is a temporal correlation of a bulk-creation event
count and a routing rule, grouped by the admin: the event count of every admin (10,000
windows for a provisioning account) was computed, then joined with routings that account
never made. Here the raw step keeps only the groups in which every rule of the temporal node
has a row; the event count then runs over the admins who also routed mail.

The query is read as converters.backends' SQLite correlation writes it (pySigma's SQLite
backend); any other text is left whole (None). Recognised: a final node whose qualified
windows need as many distinct slots as it has arms (temporal, temporal_ordered), each arm
one rule's raw rows (``WHERE bN``) or a child correlation's alerts whose own arms are raw
rows; every group a payload's one field ``f0``, lowered if text, the child's payload its
group. A group of a child's alert is then the group of its raw rows, so the groups a slot
can reach are those of its rules' raw rows. A group outside their intersection has no row
any alert of the final node can read, and nothing else in the query reads the raw rows
when the observation horizon is unused (``stepwise.run_stepwise`` checks that).
"""

from __future__ import annotations

import re

# The backend's group of an input row: its payload's f0, lowered if text (also read by
# converters.engine.eventcount).
GROUP = (
    "CASE WHEN typeof(json_extract(s.payload, '$.f0'))='text' THEN lower(json_extract(s.payload, "
    "'$.f0')) ELSE json_extract(s.payload, '$.f0') END"
)
_ARM_HEAD = rf"SELECT s\.\*, (?P<slot>[0-9]+) AS slot, {re.escape(GROUP)} AS g0, NULL AS v FROM "
_RAW_ARM = re.compile(
    _ARM_HEAD + r"\(SELECT 'e:' \|\| eid AS eid, ts, payload, json_array\(eid\) AS evidence, "
    r"'\[\]' AS children FROM (?P<raw>[A-Za-z0-9_]+) WHERE (?P<flag>b[0-9]+)\) s"
)
_CHILD_ARM = re.compile(
    _ARM_HEAD + r"\(SELECT DISTINCT 'c:' \|\| c\.alert_id AS eid, c\.end AS ts, "
    r"json_patch\(r\.payload, c\.payload\) AS payload, c\.evidence, json_array\(c\.alert_id\) "
    r"AS children FROM (?P<child>[A-Za-z0-9_]+)_alerts c JOIN json_each\(c\.evidence\) e JOIN "
    r"\(SELECT eid, payload FROM (?P<raw>[A-Za-z0-9_]+)\) r ON r\.eid=e\.value\) s"
)
_FINAL = re.compile(r"SELECT .* FROM (?P<node>[A-Za-z0-9_]+)_alerts ORDER BY [a-z_, ]+", re.DOTALL)
_QUALIFIED = re.compile(
    r"SELECT \* FROM (?P<node>[A-Za-z0-9_]+)_measured WHERE metric >= (?P<n>[0-9]+)"
)
_MEASURED_SLOTS = "(SELECT COUNT(DISTINCT m.slot) FROM "
_CHILD_PAYLOAD = " json_object('f0', `g0`) AS payload FROM "


def pruning(ctes: list[tuple[str, str]], final: str, raw: str) -> str | None:
    """A DELETE of the raw step's rows (its table ``raw``) in no group every slot of the final
    node reaches; None when the query is not of the recognised shape."""
    bodies = dict(ctes)
    found = _FINAL.fullmatch(final)
    body = bodies.get(raw, "")
    # The raw payload: one field, f0.
    if found is None or body.count("json_object('f0', ") != 1 or "'f1', " in body:
        return None
    node = found["node"]
    qualified = [
        bodies[n] for n in bodies if n.startswith(f"{node}_t") and n.endswith("_qualified")
    ]
    measured = [bodies[n] for n in bodies if n.startswith(f"{node}_t") and n.endswith("_measured")]
    arms = _arms(bodies.get(f"{node}_input", ""))
    if not arms or len(qualified) != 1 or len(measured) != 1:
        return None
    need = _QUALIFIED.fullmatch(qualified[0])
    if need is None or _MEASURED_SLOTS not in measured[0] or int(need["n"]) != len(arms):
        return None
    slots: list[list[str]] = []
    for arm in arms:
        if arm[0] == "raw" and arm[1] == raw:
            slots.append([arm[2]])
            continue
        if arm[0] != "child" or arm[1] != raw:
            return None
        child = arm[2]
        alerts = bodies.get(f"{child}_alerts", "")
        inner = _arms(bodies.get(f"{child}_input", ""))
        if _CHILD_PAYLOAD + f"{child}_merged" not in alerts or not inner:
            return None
        if any(kind != "raw" or source != raw for kind, source, _ in inner):
            return None
        slots.append([flag for _, _, flag in inner])
    group = GROUP.replace("s.payload", "payload")
    selects = [f"SELECT {group} AS g FROM {raw} WHERE ({' OR '.join(f)})" for f in slots]
    kept = f"SELECT g FROM ({' INTERSECT '.join(selects)}) WHERE g IS NOT NULL"
    return f"DELETE FROM temp.{raw} WHERE ({group}) IS NULL OR ({group}) NOT IN ({kept})"


def _arms(body: str) -> list[tuple[str, str, str]]:
    """A node's input arms: ("raw", raw step, flag) or ("child", raw step, child node); []
    when one arm is of neither shape."""
    arms: list[tuple[str, str, str]] = []
    for text in body.split(" UNION ALL ") if body else []:
        raw, child = _RAW_ARM.fullmatch(text), _CHILD_ARM.fullmatch(text)
        if raw is not None:
            slot, arm = raw["slot"], ("raw", raw["raw"], raw["flag"])
        elif child is not None:
            slot, arm = child["slot"], ("child", child["raw"], child["child"])
        else:
            return []
        if int(slot) != len(arms):  # slots numbered from 0, in order
            return []
        arms.append(arm)
    return arms
