"""Elastic: the Kibana detection rules through the detection engine API, in one space, and
optionally the disposable-domain enrichment through Elasticsearch (enrichment.py).

Rules are created and updated by ``_import?overwrite=true``, which is keyed by ``rule_id`` and
so safe to repeat. An update keeps what customers own on a deployed rule: its exceptions,
actions, response actions, timeline and whether it is enabled (investigation fields too, for a
rule that ships none; the rules name their entities there, so ours replace them).
--prune deletes only rules tagged ``dac-t1585`` that carry ``meta.dac_indicator``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from converters.deploy.answers import MESSAGE_LIMIT, HttpError, Reply, json_object, shorten
from converters.deploy.compare import json_diff
from converters.deploy.config import ElasticSettings
from converters.deploy.dist import ElasticDist
from converters.deploy.engine import Advance, TargetError
from converters.deploy.enrichment import EnrichmentTarget
from converters.deploy.http import Client, expect
from converters.deploy.redact import Redactor
from converters.deploy.report import Action, Item, Status

TAG = "dac-t1585"
MARKER = "dac_indicator"
API_VERSION = "2023-10-31"
RULES = "/api/detection_engine/rules"
PAGE = 100
IMPORT_BATCH = 100
# Fields a customer sets on a deployed rule; an update carries them over.
CUSTOMER_OWNED = (
    "enabled",
    "exceptions_list",
    "actions",
    "response_actions",
    "timeline_id",
    "timeline_title",
    "investigation_fields",
)
# Not compared: `enabled` is the customer's once the rule exists.
NOT_COMPARED = frozenset({"enabled"})


class KibanaTarget:
    name = "elastic"

    def __init__(
        self,
        settings: ElasticSettings,
        dist: ElasticDist,
        redact: Redactor,
        enrichment: bool,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.dist = dist
        redact.add(settings.api_key)
        redact.add(settings.elasticsearch_api_key)
        self.client = Client(
            settings.kibana_url,
            {
                "Authorization": f"ApiKey {settings.api_key.reveal()}",
                "kbn-xsrf": "dac-t1585",
                "Elastic-Api-Version": API_VERSION,
            },
            settings.tls.requests_verify(),
            settings.network,
            redact,
            sleep,
        )
        self.prefix = "" if settings.space == "default" else "/s/" + quote(settings.space, safe="")
        self.where = f"{settings.kibana_url} space={settings.space}"
        self.enrichment: EnrichmentTarget | None = None
        self._enrichment_plan: list[Item] = []
        if enrichment:
            if not settings.elasticsearch_url or dist.enrichment is None:
                raise TargetError("the enrichment needs DAC_ELASTICSEARCH_URL and a built dist")
            es = Client(
                settings.elasticsearch_url,
                {"Authorization": f"ApiKey {settings.elasticsearch_api_key.reveal()}"},
                settings.tls.requests_verify(),
                settings.network,
                redact,
                sleep,
            )
            self.enrichment = EnrichmentTarget(es, dist.enrichment)
            self.where += f", {settings.elasticsearch_url}"

    def close(self) -> None:
        self.client.close()
        if self.enrichment:
            self.enrichment.client.close()

    def _call(self, method: str, path: str, *ok: int, **kwargs: Any) -> Reply:
        reply = self.client.request(method, self.prefix + path, **kwargs)
        return expect(reply, method, self.prefix + path, self.client.redact, *ok)

    def _json(self, method: str, path: str, *ok: int, **kwargs: Any) -> dict[str, Any]:
        """The answer, which must be a JSON object."""
        reply = self._call(method, path, *ok, **kwargs)
        return json_object(reply, method, self.prefix + path, self.client.redact)

    # -- plan -----------------------------------------------------------------------------

    def plan(self, prune: bool) -> list[Item]:
        items = self.enrichment.plan() if self.enrichment else []
        self._enrichment_plan = list(items)
        tagged = {str(r.get("rule_id")): r for r in self._tagged()}
        for rule in self.dist.rules:
            rule_id = str(rule["rule_id"])
            deployed = tagged.get(rule_id) or self._read(rule_id)
            items.append(_plan_rule(rule, deployed))
        shipped = {str(r["rule_id"]) for r in self.dist.rules}
        for rule_id, deployed in sorted(tagged.items()):
            if rule_id not in shipped and _ours(deployed):
                items.append(
                    Item(
                        "rule",
                        rule_id,
                        Action.DELETE if prune else Action.EXTRA,
                        f"{deployed.get('name', '')}: deployed by dac-t1585, no longer shipped",
                        payload={"id": deployed.get("id")},
                    )
                )
        return items

    def _tagged(self) -> Iterator[dict[str, Any]]:
        """Every rule tagged dac-t1585 in the space, page by page."""
        page = 1
        seen = 0
        while True:
            params = {
                "filter": f'alert.attributes.tags:"{TAG}"',
                "page": page,
                "per_page": PAGE,
                "sort_field": "created_at",
                "sort_order": "asc",
            }
            body = self._json("GET", RULES + "/_find", 200, params=params)
            data, total = body.get("data"), body.get("total")
            if not isinstance(data, list) or not isinstance(total, int):
                raise TargetError("GET _find: the answer has no `data` list or no `total`")
            yield from (r for r in data if isinstance(r, dict))
            seen += len(data)
            if not data or seen >= total:
                return
            page += 1

    def _read(self, rule_id: str) -> dict[str, Any] | None:
        reply = self._call("GET", RULES, 200, 404, params={"rule_id": rule_id})
        if reply.status == 404:
            return None
        return json_object(reply, "GET", self.prefix + RULES, self.client.redact)

    # -- apply ----------------------------------------------------------------------------

    def apply(self, changes: list[Item], advance: Advance) -> None:
        # The enrichment steps depend on each other, unchanged ones included: they come from
        # the plan the changes were taken from.
        if self.enrichment and any(i.action.writes for i in self._enrichment_plan):
            self.enrichment.apply(self._enrichment_plan, advance)
        upserts = [i for i in changes if i.kind == "rule" and i.action is not Action.DELETE]
        for start in range(0, len(upserts), IMPORT_BATCH):
            self._import(upserts[start : start + IMPORT_BATCH], advance)
        for item in changes:
            if item.kind == "rule" and item.action is Action.DELETE:
                self._delete(item)
                advance(item)

    def _import(self, batch: list[Item], advance: Advance) -> None:
        lines = [json.dumps(item.payload["rule"], ensure_ascii=False) for item in batch]
        content = ("\n".join(lines) + "\n").encode()
        try:
            body = self._json(
                "POST",
                RULES + "/_import",
                200,
                params={"overwrite": "true"},
                files={"file": ("rules.ndjson", content, "application/x-ndjson")},
            )
        except HttpError as exc:
            for item in batch:
                item.fail(str(exc))
                advance(item)
            return
        errors = {}
        listed = body.get("errors")
        for error in listed if isinstance(listed, list) else []:
            if not isinstance(error, dict):
                continue
            found = error.get("error")
            detail: dict[str, Any] = found if isinstance(found, dict) else {}
            text = self.client.redact(str(detail.get("message", "rejected")))
            message = shorten(text, MESSAGE_LIMIT)  # masked first: no cut inside a secret
            errors[str(error.get("rule_id"))] = (
                f"import: HTTP {detail.get('status_code')}: {message}"
            )
        for item in batch:
            if item.name in errors:
                item.fail(errors[item.name])
            else:
                item.status = Status.APPLIED
            advance(item)

    def _delete(self, item: Item) -> None:
        try:
            self._call("DELETE", RULES, 200, 404, params={"id": str(item.payload["id"])})
            item.status = Status.APPLIED
        except HttpError as exc:
            item.fail(str(exc))


def _ours(rule: dict[str, Any]) -> bool:
    meta, tags = rule.get("meta"), rule.get("tags")
    return (
        isinstance(tags, list)
        and TAG in tags
        and isinstance(meta, dict)
        and MARKER in meta
        and not rule.get("immutable", False)
    )


def _plan_rule(rule: dict[str, Any], deployed: dict[str, Any] | None) -> Item:
    rule_id = str(rule["rule_id"])
    body = {k: v for k, v in rule.items() if v is not None}
    if deployed is None:
        return Item(
            "rule", rule_id, Action.CREATE, str(rule.get("name", "")), payload={"rule": body}
        )
    changed = json_diff(body, deployed, NOT_COMPARED)
    if not changed:
        return Item("rule", rule_id, Action.UNCHANGED, str(rule.get("name", "")))
    for key in CUSTOMER_OWNED:
        if key in deployed and (key == "enabled" or key not in body):
            body[key] = deployed[key]
    shown = ", ".join(changed[:6]) + (f" (+{len(changed) - 6} more)" if len(changed) > 6 else "")
    return Item(
        "rule",
        rule_id,
        Action.UPDATE,
        f"{rule.get('name', '')}: differs: {shown}",
        payload={"rule": body},
    )
