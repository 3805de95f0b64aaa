"""A fake Elasticsearch, for the endpoints of the enrichment deployment:

- ``PUT /<index>`` (``mappings``; 400 ``resource_already_exists_exception`` when present),
  ``GET /<index>/_mapping`` (``{<index>: {"mappings": {...}}}``, 404
  ``index_not_found_exception``), ``PUT /<index>/_mapping`` (``_meta`` and ``properties``),
  ``GET /<index>/_count``, ``POST /<index>/_refresh``,
  ``POST /<index>/_delete_by_query`` (``query``).
- ``POST /_bulk``: NDJSON (``application/x-ndjson``, ending in a newline), action/source line
  pairs; answers ``took``, ``errors`` and one ``items`` entry per action.
- ``GET|PUT /_enrich/policy/<name>`` (GET answers ``{"policies": [{"config": {"match":
  {"name", "indices": [...], ...}}}]}``, an empty list when absent; PUT needs the source index,
  400 when the policy exists: policies cannot be updated), ``POST .../_execute``.
- ``GET|PUT /_ingest/pipeline/<id>``: an enrich processor needs its policy executed.

``Authorization: ApiKey <key>`` on every request."""

from __future__ import annotations

import json
from typing import Any

from tests.deploy_servers.base import Answer, FakeServer, Reject, Seen, Violation, json_body


def _es_error(status: int, kind: str, reason: str) -> dict[str, Any]:
    return {"error": {"type": kind, "reason": reason}, "status": status}


class FakeElasticsearch(FakeServer):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.indices: dict[str, dict[str, Any]] = {}  # name -> {"docs", "mappings"}
        self.policies: dict[str, dict[str, Any]] = {}
        self.enrich_indices: dict[str, set[str]] = {}  # policy -> executed match values
        self.pipelines: dict[str, dict[str, Any]] = {}

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"ApiKey {self.api_key}"

    def error_body(self, status: int, message: str) -> Any:
        return _es_error(status, "injected", message)

    def route(self, seen: Seen) -> Answer:
        parts = seen.segments
        if parts == ["_bulk"] and seen.method == "POST":
            return self._bulk(seen)
        if parts[:2] == ["_enrich", "policy"] and len(parts) >= 3:
            return self._policy(seen, parts[2], parts[3:])
        if parts[:2] == ["_ingest", "pipeline"] and len(parts) == 3:
            return self._pipeline(seen, parts[2])
        if parts and not parts[0].startswith("_"):
            return self._index(seen, parts[0], parts[1:])
        raise Reject(404, _es_error(404, "not_found", seen.path))

    def _missing(self, index: str) -> Reject:
        return Reject(404, _es_error(404, "index_not_found_exception", f"no such index [{index}]"))

    def _index(self, seen: Seen, name: str, rest: list[str]) -> Answer:
        index = self.indices.get(name)
        if rest == [] and seen.method == "PUT":
            if index is not None:
                message = f"index [{name}] already exists"
                raise Reject(400, _es_error(400, "resource_already_exists_exception", message))
            body = json_body(seen)
            if set(body) - {"mappings", "settings", "aliases"}:
                raise Violation(f"unknown index-creation keys {sorted(body)}")
            self.indices[name] = {"docs": {}, "mappings": dict(body.get("mappings", {}))}
            return Answer(200, {"acknowledged": True, "index": name})
        if index is None:
            raise self._missing(name)
        if rest == ["_mapping"] and seen.method == "GET":
            return Answer(200, {name: {"mappings": index["mappings"]}})
        if rest == ["_mapping"] and seen.method == "PUT":
            body = json_body(seen)
            if set(body) - {"_meta", "properties"}:
                raise Violation(f"unknown mapping keys {sorted(body)}")
            index["mappings"].update(body)
            return Answer(200, {"acknowledged": True})
        if rest == ["_count"] and seen.method == "GET":
            return Answer(200, {"count": len(index["docs"])})
        if rest == ["_refresh"] and seen.method == "POST":
            return Answer(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        if rest == ["_delete_by_query"] and seen.method == "POST":
            body = json_body(seen)
            try:
                keep = set(body["query"]["bool"]["must_not"]["ids"]["values"])
            except (KeyError, TypeError):
                raise Violation("this fake understands bool.must_not.ids only") from None
            stale = [i for i in index["docs"] if i not in keep]
            for doc_id in stale:
                del index["docs"][doc_id]
            return Answer(200, {"deleted": len(stale), "failures": []})
        raise Violation(f"unsupported {seen.method} {seen.path}")

    def _bulk(self, seen: Seen) -> Answer:
        if not seen.headers.get("content-type", "").startswith("application/x-ndjson"):
            raise Violation("_bulk needs application/x-ndjson")
        text = seen.body.decode()
        if not text.endswith("\n"):
            raise Violation("the bulk body must end with a newline")
        lines = text.splitlines()
        if len(lines) % 2:
            raise Violation("action and source lines must pair up")
        items = []
        for action_line, source_line in zip(lines[::2], lines[1::2], strict=True):
            action = json.loads(action_line).get("index")
            if not isinstance(action, dict) or not action.get("_index") or not action.get("_id"):
                raise Violation(f"expected an index action with _index and _id: {action_line}")
            index = self.indices.setdefault(action["_index"], {"docs": {}, "mappings": {}})
            created = action["_id"] not in index["docs"]
            index["docs"][action["_id"]] = json.loads(source_line)
            items.append(
                {
                    "index": {
                        "_index": action["_index"],
                        "_id": action["_id"],
                        "status": 201 if created else 200,
                        "result": "created" if created else "updated",
                    }
                }
            )
        return Answer(200, {"took": 1, "errors": False, "items": items})

    def _policy(self, seen: Seen, name: str, rest: list[str]) -> Answer:
        if rest == [] and seen.method == "GET":
            policy = self.policies.get(name)
            return Answer(200, {"policies": [{"config": policy}] if policy else []})
        if rest == [] and seen.method == "PUT":
            body = json_body(seen)
            if len(body) != 1 or next(iter(body)) not in ("match", "geo_match", "range"):
                raise Violation("one policy type: match, geo_match or range")
            kind, config = next(iter(body.items()))
            if not {"indices", "match_field", "enrich_fields"} <= set(config):
                raise Violation("indices, match_field and enrich_fields are required")
            if name in self.policies:
                reason = f"policy [{name}] already exists"
                raise Reject(400, _es_error(400, "resource_already_exists_exception", reason))
            indices = (
                config["indices"] if isinstance(config["indices"], list) else [config["indices"]]
            )
            for index in indices:
                if index not in self.indices:
                    raise self._missing(index)
            self.policies[name] = {kind: {**config, "name": name, "indices": indices}}
            return Answer(200, {"acknowledged": True})
        if rest == ["_execute"] and seen.method == "POST":
            policy = self.policies.get(name)
            if policy is None:
                raise Reject(404, _es_error(404, "resource_not_found_exception", name))
            config = next(iter(policy.values()))
            values = {
                str(doc.get(config["match_field"]))
                for index in config["indices"]
                for doc in self.indices[index]["docs"].values()
            }
            self.enrich_indices[name] = values
            return Answer(200, {"status": {"phase": "COMPLETE"}})
        raise Violation(f"unsupported {seen.method} {seen.path}")

    def _pipeline(self, seen: Seen, name: str) -> Answer:
        if seen.method == "GET":
            if name not in self.pipelines:
                raise Reject(404, {})
            return Answer(200, {name: self.pipelines[name]})
        if seen.method == "PUT":
            body = json_body(seen)
            processors = body.get("processors")
            if not isinstance(processors, list) or not processors:
                raise Violation("processors must be a non-empty array")
            for processor in processors:
                if not isinstance(processor, dict) or len(processor) != 1:
                    raise Violation("each processor is an object with one type key")
                enrich = processor.get("enrich")
                if enrich is not None and enrich.get("policy_name") not in self.enrich_indices:
                    reason = f"enrich policy [{enrich.get('policy_name')}] has no enrich index"
                    raise Reject(400, _es_error(400, "illegal_argument_exception", reason))
            self.pipelines[name] = body
            return Answer(200, {"acknowledged": True})
        raise Violation(f"unsupported {seen.method} {seen.path}")
