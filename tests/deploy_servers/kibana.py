"""A fake Kibana detection engine API (OpenAPI version 2023-10-31), per space
(``/s/<space>/api/...``; the default space has no prefix):

- ``POST /api/detection_engine/rules/_import?overwrite=true``: multipart/form-data with a
  ``file`` part named ``*.ndjson``, one rule per line. Answers 200 with ``success``,
  ``success_count``, ``rules_count``, ``errors`` ([{rule_id, error: {status_code, message}}])
  and the exceptions and action-connector counters. Without overwrite, an existing rule_id is
  a 409 error in ``errors``.
- ``GET /api/detection_engine/rules/_find``: ``filter`` (KQL on ``alert.attributes.*``),
  ``page`` (from 1), ``per_page``, ``sort_field``, ``sort_order``; answers ``page``,
  ``perPage``, ``total``, ``data``.
- ``GET`` / ``DELETE /api/detection_engine/rules?rule_id=|id=``: the rule, or 404.

Writes need a ``kbn-xsrf`` header, everything ``Authorization: ApiKey <key>``. Rule objects are
checked against the create contract (RuleCreateProps, EQL and query branches): required keys,
enums, ranges, and no key outside the schema (Kibana would drop it silently). Stored rules
come back with the server's fields (``id``, ``revision``, ``immutable``, ``rule_source``,
``required_fields[].ecs``...), as Kibana returns them."""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import uuid
from typing import Any

from tests.deploy_servers.base import Answer, FakeServer, Reject, Seen, Violation, query, words

REQUIRED = {"name", "description", "risk_score", "severity", "type"}
# BaseCreateProps' optional and defaultable keys, then the EQL and query branches' own.
OPTIONAL = words(
    """
    rule_id version tags enabled risk_score_mapping severity_mapping interval from to
    actions exceptions_list author false_positives references max_signals threat setup
    related_integrations required_fields rule_name_override timestamp_override
    timestamp_override_fallback_disabled timeline_id timeline_title license note
    building_block_type output_index namespace meta investigation_fields throttle
    response_actions query language index data_view_id filters event_category_override
    tiebreaker_field timestamp_field alert_suppression saved_id
    """
)
# NewTermsRuleRequiredFields: only a new_terms rule takes them, and it needs both.
NEW_TERMS = {"new_terms_fields", "history_window_start"}
# ThreatMatchRuleRequiredFields (threat_query, threat_mapping, threat_index) and its optional
# fields: only a threat_match rule takes them.
THREAT_MATCH_REQUIRED = {"threat_query", "threat_mapping", "threat_index"}
THREAT_MATCH = THREAT_MATCH_REQUIRED | words(
    "threat_filters threat_indicator_path threat_language concurrent_searches items_per_search"
)
SEVERITY = {"low", "medium", "high", "critical"}
TYPES = {"eql", "query", "threshold", "new_terms", "esql", "threat_match", "machine_learning"}


def check_rule(rule: Any) -> list[str]:
    """Contract problems of one rule object for create/import."""
    if not isinstance(rule, dict):
        return ["not an object"]
    problems = [f"missing {k}" for k in sorted(REQUIRED - set(rule))]
    kind = rule.get("type")
    own = {"new_terms": NEW_TERMS, "threat_match": THREAT_MATCH}.get(str(kind), set())
    needed = {"new_terms": NEW_TERMS, "threat_match": THREAT_MATCH_REQUIRED}.get(str(kind), set())
    problems += [f"unknown key {k}" for k in sorted(set(rule) - REQUIRED - OPTIONAL - own)]
    problems += [f"{kind} rule without {k}" for k in sorted(needed - set(rule))]
    if kind == "new_terms" and not 1 <= len(rule.get("new_terms_fields") or []) <= 3:
        problems.append("new_terms_fields must hold one to three fields")
    if not rule.get("rule_id"):
        problems.append("import needs rule_id")
    if rule.get("severity") not in SEVERITY:
        problems.append(f"severity {rule.get('severity')!r}")
    score = rule.get("risk_score")
    if not isinstance(score, int) or not 0 <= score <= 100:
        problems.append(f"risk_score {score!r}")
    if rule.get("type") not in TYPES:
        problems.append(f"type {rule.get('type')!r}")
    if rule.get("type") == "eql" and (rule.get("language") != "eql" or not rule.get("query")):
        problems.append("an eql rule needs language eql and a query")
    for entry in rule.get("exceptions_list", []):
        if not {"id", "list_id", "type", "namespace_type"} <= set(entry):
            problems.append(f"exceptions_list entry {entry}")
    for action in rule.get("actions", []):
        if not {"action_type_id", "id", "params"} <= set(action):
            problems.append(f"action {action}")
    if not isinstance(rule.get("tags", []), list):
        problems.append("tags must be an array")
    return problems


class FakeKibana(FakeServer):
    def __init__(self, api_key: str, spaces: tuple[str, ...] = ("default",)) -> None:
        super().__init__()
        self.api_key = api_key
        self.rules: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in spaces}
        self.reject: dict[str, str] = {}  # rule_id -> import error message
        self.drop_on_store: set[str] = set()  # keys the server loses (as unknown keys are)

    # -- test helpers ---------------------------------------------------------------------

    def put(self, rule: dict[str, Any], space: str = "default") -> dict[str, Any]:
        stored = self._store(space, rule)
        return stored

    def rule(self, rule_id: str, space: str = "default") -> dict[str, Any]:
        return self.rules[space][rule_id]

    # -- contract -------------------------------------------------------------------------

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"ApiKey {self.api_key}"

    def error_body(self, status: int, message: str) -> Any:
        return {"statusCode": status, "error": "Error", "message": message}

    def route(self, seen: Seen) -> Answer:
        parts = seen.segments
        space = "default"
        if parts[:1] == ["s"]:
            space, parts = parts[1], parts[2:]
        if space not in self.rules:
            raise Reject(404, self.error_body(404, f"space {space} not found"))
        if parts[:3] != ["api", "detection_engine", "rules"]:
            raise Reject(404, self.error_body(404, "Not Found"))
        if seen.method != "GET" and not seen.headers.get("kbn-xsrf"):
            raise Violation("Request must contain a kbn-xsrf header.")
        if seen.headers.get("elastic-api-version", "2023-10-31") != "2023-10-31":
            raise Violation("unknown Elastic-Api-Version")
        rest = parts[3:]
        if rest == ["_import"] and seen.method == "POST":
            return self._import(seen, space)
        if rest == ["_find"] and seen.method == "GET":
            return self._find(seen, space)
        if not rest and seen.method in ("GET", "DELETE"):
            rule = self._lookup(seen, space)
            if seen.method == "DELETE":
                del self.rules[space][rule["rule_id"]]
            return Answer(200, rule)
        raise Violation(f"unsupported {seen.method} {seen.path}")

    def _lookup(self, seen: Seen, space: str) -> dict[str, Any]:
        rule_id, object_id = query(seen, "rule_id"), query(seen, "id")
        if bool(rule_id) == bool(object_id):
            raise Violation("exactly one of id and rule_id")
        for rule in self.rules[space].values():
            if rule["rule_id"] == rule_id or rule["id"] == object_id:
                return rule
        which = f'rule_id: "{rule_id}"' if rule_id else f'id: "{object_id}"'
        raise Reject(404, {"message": f"{which} not found", "status_code": 404})

    def _import(self, seen: Seen, space: str) -> Answer:
        overwrite = query(seen, "overwrite") == "true"
        text = self._ndjson_file(seen)
        errors: list[dict[str, Any]] = []
        count = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            count += 1
            rule = json.loads(line)
            problems = check_rule(rule)
            if problems:
                raise Violation(f"rule {rule.get('rule_id')}: {'; '.join(problems)}")
            rule_id = rule["rule_id"]
            if rule_id in self.reject:
                errors.append(_error(rule_id, 400, self.reject[rule_id]))
            elif rule_id in self.rules[space] and not overwrite:
                errors.append(_error(rule_id, 409, f'rule_id: "{rule_id}" already exists'))
            else:
                self._store(space, rule)
        body = {
            "success": not errors,
            "success_count": count - len(errors),
            "rules_count": count,
            "errors": errors,
            "exceptions_success": True,
            "exceptions_success_count": 0,
            "exceptions_errors": [],
            "action_connectors_success": True,
            "action_connectors_success_count": 0,
            "action_connectors_errors": [],
            "action_connectors_warnings": [],
        }
        return Answer(200, body)

    def _ndjson_file(self, seen: Seen) -> str:
        kind = seen.headers.get("content-type", "")
        if not kind.startswith("multipart/form-data"):
            raise Violation(f"_import needs multipart/form-data, got {kind!r}")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + seen.body
        )
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                filename = part.get_filename() or ""
                if not filename.endswith(".ndjson"):
                    raise Violation(f"the file must be .ndjson, got {filename!r}")
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode("utf-8")
        raise Violation("no 'file' part in the multipart body")

    def _find(self, seen: Seen, space: str) -> Answer:
        page = int(query(seen, "page") or 1)
        per_page = int(query(seen, "per_page") or 20)
        if page < 1 or per_page < 0:
            raise Violation("page from 1, per_page from 0")
        rules = list(self.rules[space].values())
        wanted = query(seen, "filter")
        if wanted:
            match = re.fullmatch(r'alert\.attributes\.tags:\s*"([^"]*)"', wanted)
            if not match:
                raise Violation(f"filter not understood by this fake: {wanted}")
            rules = [r for r in rules if match.group(1) in r.get("tags", [])]
        rules.sort(key=lambda r: (r["created_at"], r["id"]))
        chunk = rules[(page - 1) * per_page : page * per_page]
        return Answer(200, {"page": page, "perPage": per_page, "total": len(rules), "data": chunk})

    def _store(self, space: str, rule: dict[str, Any]) -> dict[str, Any]:
        old = self.rules[space].get(rule["rule_id"])
        stored = {k: v for k, v in rule.items() if k not in self.drop_on_store}
        stored.setdefault("enabled", False)
        stored.setdefault("exceptions_list", [])
        stored.setdefault("actions", [])
        stored["required_fields"] = [{**f, "ecs": True} for f in stored.get("required_fields", [])]
        serial = len(self.seen) + sum(len(r) for r in self.rules.values())
        stored.update(
            id=old["id"] if old else str(uuid.uuid4()),
            created_at=old["created_at"] if old else f"2026-01-01T00:00:{serial:05d}Z",
            updated_at="2026-01-02T00:00:00Z",
            created_by="ci",
            updated_by="ci",
            revision=(old["revision"] + 1) if old else 0,
            immutable=False,
            rule_source={"type": "internal"},
            risk_score_mapping=[],
            severity_mapping=[],
        )
        self.rules[space][rule["rule_id"]] = stored
        return stored


def _error(rule_id: str, status: int, message: str) -> dict[str, Any]:
    return {"rule_id": rule_id, "error": {"status_code": status, "message": message}}
