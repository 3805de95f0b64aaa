"""A fake Splunk management port (8089), for the endpoints `dac deploy splunk` uses:

- ``services/apps/local[/<app>]``: GET an app; POST ``name`` (+ label, template, visible).
- ``servicesNS/<owner>/<app>/saved/searches[/<name>[/acl]]``, ``.../configs/conf-macros``,
  ``.../configs/conf-transforms``: GET lists (``count=0``: all) entries visible in the
  namespace (the app's own and other apps' globally shared ones) as ``{"entry": [{"name",
  "acl": {"app", "owner", "sharing"}, "content": {...}}], "paging": {...}}``; POST on the
  collection creates (``name`` required, 409 when it exists); POST on the entity updates
  (``name`` refused); DELETE removes; POST ``.../acl`` takes ``sharing`` and ``owner``.
  Unknown arguments are refused like Splunk does ("Argument ... is not supported").
- ``services/data/lookup_edit/lookup_contents`` (Lookup Editor app): GET ``lookup_file``,
  ``namespace``, ``owner``, ``lookup_type`` answers the rows as a JSON array of arrays (404
  ``{"success": false, "message": ...}`` when absent); POST the same with ``contents``, a
  JSON array of arrays, replaces the file.
- ``servicesNS/<owner>/<app>/data/lookup-table-files/<file>/acl``.

Every request must ask for ``output_mode=json`` (the Lookup Editor's does not need it) and
carry ``Authorization: Bearer <token>``. Booleans come back as JSON booleans for the settings
Splunk types as booleans, as a real server does."""

from __future__ import annotations

import json
from typing import Any

from tests.deploy_servers.base import (
    Answer,
    FakeServer,
    Reject,
    Seen,
    Violation,
    form,
    query,
    words,
)

SEARCH_KEYS = words(
    """
    search description cron_schedule enableSched schedule_window counttype relation
    quantity disabled is_visible alert_type alert_comparator alert_threshold
    alert_condition actions realtime_schedule schedule_priority max_concurrent
    run_on_startup
    """
)
SEARCH_PREFIXES = ("action.", "alert.", "dispatch.", "display.", "request.", "args.")
BOOLEAN = words(
    """
    enableSched alert.track alert.digest_mode alert.suppress action.notable action.risk
    action.correlationsearch.enabled disabled is_visible
    """
)
MACRO_KEYS = {"definition", "args", "validation", "errormsg", "iseval", "description", "disabled"}
TRANSFORM_KEYS = words(
    """
    filename match_type case_sensitive_match max_matches min_matches default_match
    collection external_cmd external_type fields_list time_field time_format
    batch_index_query disabled
    """
)
COLLECTIONS = {
    ("saved", "searches"): "saved/searches",
    ("configs", "conf-macros"): "macros",
    ("configs", "conf-transforms"): "transforms",
}
APP_KEYS = {"name", "label", "template", "visible", "author", "description", "version"}


def _allowed(collection: str, key: str) -> bool:
    if collection == "saved/searches":
        return key in SEARCH_KEYS or key.startswith(SEARCH_PREFIXES)
    return key in (MACRO_KEYS if collection == "macros" else TRANSFORM_KEYS)


class FakeSplunk(FakeServer):
    def __init__(self, token: str, apps: tuple[str, ...] = ("search",), editor: bool = True):
        super().__init__()
        self.token = token
        self.apps = set(apps)
        self.editor = editor
        # (collection, app, name) -> {"content": {...}, "acl": {...}}
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.lookups: dict[tuple[str, str], list[list[str]]] = {}
        self.lookup_acl: dict[tuple[str, str], str] = {}

    # -- test helpers ---------------------------------------------------------------------

    def put(
        self, collection: str, app: str, name: str, content: dict[str, str], sharing: str = "app"
    ) -> None:
        self.apps.add(app)
        acl = {"app": app, "owner": "nobody", "sharing": sharing}
        self.objects[(collection, app, name)] = {"content": dict(content), "acl": acl}

    def content(self, collection: str, app: str, name: str) -> dict[str, str]:
        return dict(self.objects[(collection, app, name)]["content"])

    def names(self, collection: str, app: str) -> set[str]:
        return {n for c, a, n in self.objects if c == collection and a == app}

    # -- contract -------------------------------------------------------------------------

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}"

    def error_body(self, status: int, message: str) -> Any:
        return {"messages": [{"type": "ERROR", "text": message}]}

    def route(self, seen: Seen) -> Answer:
        parts = seen.segments
        if parts[:3] == ["services", "data", "lookup_edit"] and parts[3:] == ["lookup_contents"]:
            return self._lookup_editor(seen)
        if query(seen, "output_mode") != "json":
            raise Violation("output_mode=json missing")
        if parts[:3] == ["services", "apps", "local"]:
            return self._app(seen, parts[3:])
        if parts[0] == "servicesNS" and len(parts) >= 5:
            owner, app, rest = parts[1], parts[2], parts[3:]
            if app not in self.apps:
                raise Reject(404, self.error_body(404, f"Application does not exist: {app}"))
            if rest[:2] == ["data", "lookup-table-files"] and rest[3:] == ["acl"]:
                return self._lookup_acl(seen, app, rest[2])
            collection = COLLECTIONS.get((rest[0], rest[1]))
            if collection:
                return self._collection(seen, owner, app, collection, rest[2:])
        raise Reject(404, self.error_body(404, f"Not Found: {seen.path}"))

    def _app(self, seen: Seen, rest: list[str]) -> Answer:
        if seen.method == "GET" and len(rest) == 1:
            if rest[0] not in self.apps:
                raise Reject(404, self.error_body(404, f"Could not find object id={rest[0]}"))
            return Answer(200, {"entry": [{"name": rest[0], "content": {}}]})
        if seen.method == "POST" and not rest:
            fields = form(seen)
            unknown = set(fields) - APP_KEYS
            if unknown or not fields.get("name"):
                raise Violation(f"app create: unknown {sorted(unknown)} or no name")
            if fields.get("template") not in (None, "barebones", "sample_app"):
                raise Violation(f"unknown template {fields['template']!r}")
            if fields["name"] in self.apps:
                raise Reject(409, self.error_body(409, "App already exists"))
            self.apps.add(fields["name"])
            return Answer(201, {"entry": [{"name": fields["name"], "content": {}}]})
        raise Violation("unsupported apps/local request")

    def _collection(
        self, seen: Seen, owner: str, app: str, collection: str, rest: list[str]
    ) -> Answer:
        if not rest:
            if seen.method == "GET":
                return self._list(seen, app, collection)
            if seen.method == "POST":
                return self._create(seen, owner, app, collection)
        key = (collection, app, rest[0]) if rest else None
        if key is None or key not in self.objects:
            raise Reject(404, self.error_body(404, f"Could not find object id={rest[:1]}"))
        if rest[1:] == ["acl"] and seen.method == "POST":
            fields = form(seen)
            if fields.get("sharing") not in ("user", "app", "global") or not fields.get("owner"):
                raise Violation(f"acl needs sharing (user|app|global) and owner: {fields}")
            self.objects[key]["acl"].update(sharing=fields["sharing"], owner=fields["owner"])
            return Answer(200, self._feed([key]))
        if rest[1:]:
            raise Violation(f"unsupported path {seen.path}")
        if seen.method == "GET":
            return Answer(200, self._feed([key]))
        if seen.method == "DELETE":
            del self.objects[key]
            return Answer(200, self._feed([]))
        if seen.method == "POST":
            fields = form(seen)
            if "name" in fields:
                raise Violation("name is not accepted when updating an entity")
            self._check(collection, fields)
            self.objects[key]["content"].update(fields)
            return Answer(200, self._feed([key]))
        raise Violation(f"method {seen.method}")

    def _check(self, collection: str, fields: dict[str, str]) -> None:
        for name in fields:
            if name != "name" and not _allowed(collection, name):
                raise Violation(f'Argument "{name}" is not supported by this handler.')

    def _create(self, seen: Seen, owner: str, app: str, collection: str) -> Answer:
        fields = form(seen)
        name = fields.pop("name", "")
        if not name:
            raise Violation("name is required to create")
        self._check(collection, fields)
        if collection == "saved/searches" and not fields.get("search"):
            raise Violation("search is required to create a saved search")
        key = (collection, app, name)
        if key in self.objects:
            raise Reject(409, self.error_body(409, f"An object with name={name} already exists"))
        self.objects[key] = {
            "content": fields,
            "acl": {"app": app, "owner": owner, "sharing": "app"},
        }
        return Answer(201, self._feed([key]))

    def _list(self, seen: Seen, app: str, collection: str) -> Answer:
        if query(seen, "count") != "0":
            raise Violation("list without count=0 would be cut at 30 entries")
        keys = [
            k
            for k, v in sorted(self.objects.items())
            if k[0] == collection and (k[1] == app or v["acl"]["sharing"] == "global")
        ]
        return Answer(200, self._feed(keys))

    def _feed(self, keys: list[tuple[str, str, str]]) -> dict[str, Any]:
        entries = []
        for key in keys:
            stored = self.objects[key]
            content: dict[str, Any] = {"disabled": False, "eai:acl": None}
            for name, value in stored["content"].items():
                content[name] = value in ("1", "true") if name in BOOLEAN else value
            entries.append({"name": key[2], "acl": dict(stored["acl"]), "content": content})
        return {"entry": entries, "paging": {"total": len(entries), "offset": 0}, "messages": []}

    # -- lookups --------------------------------------------------------------------------

    def _lookup_editor(self, seen: Seen) -> Answer:
        if not self.editor:
            raise Reject(404, self.error_body(404, "Not Found"))
        fields = {k: v[0] for k, v in seen.query.items()} if seen.method == "GET" else form(seen)
        file, app = fields.get("lookup_file", ""), fields.get("namespace", "")
        if not file.endswith(".csv") or "/" in file or not fields.get("owner"):
            raise Violation(f"lookup_file, namespace and owner are required: {fields}")
        if app not in self.apps:
            raise Reject(500, {"success": False, "message": "Unable to save the lookup"})
        if seen.method == "GET":
            if (app, file) not in self.lookups:
                raise Reject(404, {"success": False, "message": "Unable to find the lookup"})
            return Answer(200, self.lookups[(app, file)])
        try:
            rows = json.loads(fields["contents"])
        except (KeyError, ValueError):
            raise Violation("contents must be a JSON array of arrays") from None
        if not isinstance(rows, list) or not all(
            isinstance(r, list) and all(isinstance(c, str) for c in r) for r in rows
        ):
            raise Violation("contents must be a JSON array of arrays of strings")
        # The editor drops empty rows, as the real one does.
        self.lookups[(app, file)] = [r for r in rows if any(c.strip() for c in r)]
        return Answer(200, f"/opt/splunk/etc/apps/{app}/lookups/{file}")

    def _lookup_acl(self, seen: Seen, app: str, file: str) -> Answer:
        if (app, file) not in self.lookups:
            raise Reject(404, self.error_body(404, f"Could not find object id={file}"))
        fields = form(seen)
        if fields.get("sharing") not in ("user", "app", "global") or not fields.get("owner"):
            raise Violation("acl needs sharing and owner")
        self.lookup_acl[(app, file)] = fields["sharing"]
        return Answer(200, {"entry": [{"name": file}]})
