"""Elasticsearch: the disposable-domain enrichment the Elastic rules read (dist/elastic/
enrichment/): the source index and its documents, the enrich policy (executed), the ingest
pipeline. Plain Elasticsearch REST, with its own URL; Kibana's API cannot do this.

Whether the deployed index holds dist's documents is recorded in the index mapping's ``_meta``
(a digest of the bulk body), written last, after the policy ran on them: a run that stopped
half-way leaves the old digest and the next run loads and executes again. Loading is safe to
repeat: every document has a fixed ``_id``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from converters.deploy.answers import HttpError, Reply, dig, json_object, shorten
from converters.deploy.compare import contains
from converters.deploy.dist import Enrichment
from converters.deploy.engine import Advance
from converters.deploy.http import Client, expect
from converters.deploy.redact import Redactor
from converters.deploy.report import Action, Item, Status

META_KEY = "dac_t1585"
BULK_DOCUMENTS = 2000  # per _bulk request: about 100 KB
EXECUTE_TIMEOUT = 600.0  # executing the policy copies the index; give it time


class EnrichmentTarget:
    def __init__(self, client: Client, enrichment: Enrichment) -> None:
        self.client = client
        self.dist = enrichment

    def _call(self, method: str, path: str, *ok: int, **kwargs: Any) -> Reply:
        reply = self.client.request(method, path, **kwargs)
        return expect(reply, method, path, self.client.redact, *ok)

    def _json(self, reply: Reply, method: str, path: str) -> dict[str, Any]:
        """The body of ``reply``, which must be a JSON object."""
        return json_object(reply, method, path, self.client.redact)

    # -- plan -----------------------------------------------------------------------------

    def plan(self) -> list[Item]:
        return [self._plan_index(), self._plan_policy(), self._plan_pipeline()]

    def _plan_index(self) -> Item:
        index = self.dist.index
        documents = len(self.dist.bulk_lines) // 2
        path = f"/{quote(index)}/_mapping"
        reply = self._call("GET", path, 200, 404)
        if reply.status == 404:
            return Item("enrich source index", index, Action.CREATE, f"{documents} documents")
        digest = dig(self._json(reply, "GET", path), index, "mappings", "_meta", META_KEY, "digest")
        path = f"/{quote(index)}/_count"
        count = self._json(self._call("GET", path, 200), "GET", path).get("count")
        if digest == self.dist.digest and count == documents:
            return Item("enrich source index", index, Action.UNCHANGED)
        detail = f"{count} documents deployed, {documents} in dist"
        if digest != self.dist.digest:
            detail += "; content differs"
        return Item("enrich source index", index, Action.UPDATE, detail)

    def _plan_policy(self) -> Item:
        name = self.dist.policy_name
        path = f"/_enrich/policy/{quote(name)}"
        reply = self._call("GET", path, 200, 404)
        if reply.status == 404:
            return Item("enrich policy", name, Action.CREATE)
        policies = self._json(reply, "GET", path).get("policies")
        if not isinstance(policies, list) or not policies:
            return Item("enrich policy", name, Action.CREATE)
        deployed = dig(policies[0], "config")
        if isinstance(deployed, dict) and _same_policy(self.dist.policy, deployed):
            return Item("enrich policy", name, Action.UNCHANGED)
        return Item("enrich policy", name, Action.UPDATE, "differs from dist")

    def _plan_pipeline(self) -> Item:
        name = self.dist.pipeline_id
        path = f"/_ingest/pipeline/{quote(name)}"
        reply = self._call("GET", path, 200, 404)
        deployed = self._json(reply, "GET", path).get(name) if reply.status == 200 else None
        if deployed is None:
            return Item("ingest pipeline", name, Action.CREATE)
        if contains(self.dist.pipeline, deployed):
            return Item("ingest pipeline", name, Action.UNCHANGED)
        return Item("ingest pipeline", name, Action.UPDATE, "differs from dist")

    # -- apply ----------------------------------------------------------------------------

    def apply(self, plan: Sequence[Item], advance: Advance) -> None:
        """Carry out the changes among this target's three plan items, in dependency order:
        documents, policy, execution, pipeline."""
        index, policy, pipeline = (
            next(i for i in plan if i.kind == kind)
            for kind in ("enrich source index", "enrich policy", "ingest pipeline")
        )
        blocked = ""
        if index.action.writes:
            blocked = self._step(index, self._load, index.action is Action.CREATE)
        if policy.action is Action.UPDATE:
            # An enrich policy cannot be changed, and deleting it breaks the pipeline that
            # the integrations call: a person decides when.
            policy.fail(
                "an enrich policy cannot be changed in place: remove the pipeline's use of it "
                "and the policy, then deploy again"
            )
        elif policy.action is Action.CREATE:
            self._step(policy, self._create_policy)
        if policy.status is Status.FAILED:
            blocked = blocked or "the enrich policy is not in place"
        # The execution belongs to whichever changed: new documents or a new policy.
        runner = index if index.action.writes else policy
        if runner.action.writes:
            if blocked and runner is index and index.status is not Status.FAILED:
                index.fail(f"documents loaded, policy not executed: {blocked}")
            elif not blocked:
                blocked = self._step(runner, self._execute)
        for item in (index, policy):
            if item.action.writes:
                advance(item)
        if pipeline.action.writes:
            if blocked:
                pipeline.status = Status.NOT_ATTEMPTED
                pipeline.error = f"needs the executed enrich policy: {blocked}"
            else:
                self._step(pipeline, self._put_pipeline)
            advance(pipeline)

    def _step(self, item: Item, action: Callable[..., None], *args: Any) -> str:
        """Run one step for ``item``; on failure mark it and return the reason."""
        try:
            action(*args)
        except HttpError as exc:
            item.fail(str(exc))
            return str(exc)
        if item.status is not Status.FAILED:
            item.status = Status.APPLIED
        return ""

    def _load(self, create: bool) -> None:
        index = quote(self.dist.index)
        if create:
            body = {"mappings": {"properties": {"domain": {"type": "keyword"}}}}
            reply = self.client.request("PUT", f"/{index}", json_body=body)
            # Already there: a retried create that went through.
            if not (reply.status == 400 and "already_exists" in json.dumps(reply.body)):
                expect(reply, "PUT", f"/{index}", self.client.redact, 200)
        lines = self.dist.bulk_lines
        step = BULK_DOCUMENTS * 2
        for start in range(0, len(lines), step):
            chunk = "\n".join(lines[start : start + step]) + "\n"
            reply = self._call(
                "POST",
                "/_bulk",
                200,
                content=chunk.encode(),
                content_type="application/x-ndjson",
            )
            answer = self._json(reply, "POST", "/_bulk")
            if answer.get("errors"):
                raise HttpError("POST", "/_bulk", _bulk_error(answer, self.client.redact))
        if not create:
            ids = [json.loads(line)["index"]["_id"] for line in lines[::2]]
            stale = {"query": {"bool": {"must_not": {"ids": {"values": ids}}}}}
            self._call("POST", f"/{index}/_delete_by_query", 200, json_body=stale)
        self._call("POST", f"/{index}/_refresh", 200)

    def _create_policy(self) -> None:
        path = f"/_enrich/policy/{quote(self.dist.policy_name)}"
        reply = self.client.request("PUT", path, json_body=self.dist.policy)
        if not (reply.status == 400 and "already_exists" in json.dumps(reply.body)):
            expect(reply, "PUT", path, self.client.redact, 200)

    def _execute(self) -> None:
        name = quote(self.dist.policy_name)
        path = f"/_enrich/policy/{name}/_execute"
        self._call(
            "POST", path, 200, params={"wait_for_completion": "true"}, timeout=EXECUTE_TIMEOUT
        )
        meta = {"_meta": {META_KEY: {"digest": self.dist.digest}}}
        self._call("PUT", f"/{quote(self.dist.index)}/_mapping", 200, json_body=meta)

    def _put_pipeline(self) -> None:
        path = f"/_ingest/pipeline/{quote(self.dist.pipeline_id)}"
        self._call("PUT", path, 200, json_body=self.dist.pipeline)


def _same_policy(dist: dict[str, Any], deployed: dict[str, Any]) -> bool:
    """Elasticsearch answers ``indices`` as a list and adds the policy's name."""
    if set(dist) != set(deployed):
        return False
    for kind, config in dist.items():
        wanted = dict(config)
        if isinstance(wanted.get("indices"), str):
            wanted["indices"] = [wanted["indices"]]
        if not contains(wanted, deployed[kind]):
            return False
    return True


def _bulk_error(body: dict[str, Any], redact: Redactor) -> str:
    items = body.get("items")
    errors = [dig(item, "index", "error") for item in (items if isinstance(items, list) else [])]
    failed = [error for error in errors if error]
    first = failed[0] if failed else None
    reason = dig(first, "reason") or dig(first, "type") or first or "unknown"
    # Masked before it is shortened: no cut inside a secret.
    return f"{len(failed)} document(s) rejected, first: {shorten(redact(str(reason)), 200)}"
