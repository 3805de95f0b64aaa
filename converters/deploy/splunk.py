"""Splunk: the app's lookup file, lookup definition, macros and saved searches through the REST
management API (https://<host>:8089), in one app and owner namespace (servicesNS/<owner>/<app>).

Data-source, `_filter` and threat-intelligence (`dac_threat_intel(3)`) macros are created when
absent and never written again: customers set their index, tuning and intelligence there.
Saved searches, the lookup definition and the lookup file are ours and follow dist/. --prune
deletes only saved searches of this app whose ``action.correlationsearch.annotations`` carry
the package's ``dac_indicator`` key."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from converters.backends.splunk import THREAT_INTEL_MACRO
from converters.deploy.answers import HttpError, Reply, dig, json_array, json_object
from converters.deploy.compare import conf_diff
from converters.deploy.config import SplunkSettings
from converters.deploy.dist import SplunkDist, Stanza
from converters.deploy.engine import Advance, TargetError
from converters.deploy.http import Client, expect, failure
from converters.deploy.redact import Redactor
from converters.deploy.report import Action, Item, Status
from converters.sources import SOURCES

MARKER = "dac_indicator"
ANNOTATIONS = "action.correlationsearch.annotations"
SEARCHES = "saved/searches"
MACROS = "configs/conf-macros"
TRANSFORMS = "configs/conf-transforms"
# The Lookup Editor app's handler (Splunkbase 1724): Splunk's own lookup-table-files endpoint
# only moves a file already staged on the server, which a remote CI cannot do.
LOOKUP_EDITOR = "/services/data/lookup_edit/lookup_contents"
# Writes go in this order: what a search needs exists before the search.
ORDER = ("app", "lookup file", "lookup definition", "macro", "saved search")


# Saved-search settings set when the search is created and the customer's afterwards.
CUSTOMER_SETTINGS = frozenset({"disabled"})


class SplunkTarget:
    name = "splunk"

    def __init__(
        self,
        settings: SplunkSettings,
        dist: SplunkDist,
        redact: Redactor,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.dist = dist
        self.where = f"{settings.url} app={settings.app} owner={settings.owner}"
        redact.add(settings.token)
        self.client = Client(
            settings.url,
            {"Authorization": f"Bearer {settings.token.reveal()}"},
            settings.tls.requests_verify(),
            settings.network,
            redact,
            sleep,
        )
        self.tunable = {source.splunk_macro for source in SOURCES}

    def close(self) -> None:
        self.client.close()

    # -- REST -----------------------------------------------------------------------------

    def _ns(self, *parts: str) -> str:
        names = (self.settings.owner, self.settings.app, *parts)
        return "/servicesNS/" + "/".join(quote(p, safe="") for p in names)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Reply:
        return self.client.request(
            method, path, params={"output_mode": "json", **(params or {})}, data=data
        )

    def _call(
        self,
        method: str,
        path: str,
        *ok: int,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Reply:
        reply = self._send(method, path, params, data)
        return expect(reply, method, path, self.client.redact, *ok)

    def _entries(self, collection: str) -> dict[str, dict[str, Any]]:
        """Entities of a collection defined in our app (the namespace also shows other apps'
        shared ones), by name, with their content."""
        path = self._ns(*collection.split("/"))
        reply = self._call("GET", path, 200, params={"count": "0"})
        entries = json_object(reply, "GET", path, self.client.redact).get("entry")
        if not isinstance(entries, list):
            # Read as "nothing deployed", it would plan to create everything.
            raise TargetError(f"GET {unquote(path)}: the answer has no `entry` list")
        found: dict[str, dict[str, Any]] = {}
        for entry in entries:
            name, content = dig(entry, "name"), dig(entry, "content")
            if isinstance(name, str) and dig(entry, "acl", "app") == self.settings.app:
                found[name] = dict(content) if isinstance(content, dict) else {}
        return found

    def _app_exists(self) -> bool:
        path = "/services/apps/local/" + quote(self.settings.app, safe="")
        return self._call("GET", path, 200, 404).status == 200

    # -- plan -----------------------------------------------------------------------------

    def plan(self, prune: bool) -> list[Item]:
        items: list[Item] = []
        exists = self._app_exists()
        items.append(Item("app", self.settings.app, Action.UNCHANGED if exists else Action.CREATE))
        items += [self._plan_lookup(name, rows, exists) for name, rows in self.dist.lookups.items()]
        for kind, collection, stanzas in (
            ("lookup definition", TRANSFORMS, self.dist.transforms),
            ("macro", MACROS, self.dist.macros),
            ("saved search", SEARCHES, self.dist.saved_searches),
        ):
            deployed = self._entries(collection) if exists else {}
            items += [self._plan_stanza(kind, stanza, deployed) for stanza in stanzas]
            if kind == "saved search":
                items += self._plan_extra(deployed, prune)
        return items

    def _plan_stanza(self, kind: str, stanza: Stanza, deployed: dict[str, Any]) -> Item:
        content = deployed.get(stanza.name)
        if content is None:
            return Item(kind, stanza.name, Action.CREATE, payload={"settings": stanza.settings})
        # Whether a deployed search runs is the customer's choice, as in Kibana: the build's
        # `disabled` applies when the search is created.
        settings = {k: v for k, v in stanza.settings.items() if k not in CUSTOMER_SETTINGS}
        payload = {"settings": settings}
        changed = conf_diff(settings, content)
        if not changed:
            return Item(kind, stanza.name, Action.UNCHANGED)
        if kind == "macro" and self._tuned(stanza.name):
            return Item(kind, stanza.name, Action.KEEP, "customer-tuned; left as it is")
        return Item(kind, stanza.name, Action.UPDATE, _changed(changed), payload=payload)

    def _tuned(self, macro: str) -> bool:
        # The threat-intelligence macro is the customer's too: ES installs point it at ip_intel.
        return (
            macro.endswith("_filter")
            or macro in self.tunable
            or macro.startswith(f"{THREAT_INTEL_MACRO}(")
        )

    def _plan_extra(self, deployed: dict[str, dict[str, Any]], prune: bool) -> list[Item]:
        shipped = {s.name for s in self.dist.saved_searches}
        return [
            Item(
                "saved search",
                name,
                Action.DELETE if prune else Action.EXTRA,
                "deployed by dac-t1585, no longer shipped",
            )
            for name, content in sorted(deployed.items())
            if name not in shipped and _marked(content)
        ]

    def _plan_lookup(self, name: str, rows: list[list[str]], app_exists: bool) -> Item:
        payload: dict[str, Any] = {"rows": rows}
        if not app_exists:
            return Item(
                "lookup file", name, Action.CREATE, f"{len(rows) - 1} rows", payload=payload
            )
        reply = self._send("GET", LOOKUP_EDITOR, params=self._lookup_args(name))
        body = reply.body
        if reply.status == 200:
            answer = json_array(reply, "GET", LOOKUP_EDITOR, self.client.redact)
            deployed = [[str(cell) for cell in row] for row in answer if isinstance(row, list)]
            if deployed == rows:
                return Item("lookup file", name, Action.UNCHANGED)
            detail = f"{len(deployed) - 1} rows deployed, {len(rows) - 1} in dist"
            return Item("lookup file", name, Action.UPDATE, detail, payload=payload)
        if reply.status == 404 and isinstance(body, dict) and "messages" not in body:
            return Item(
                "lookup file", name, Action.CREATE, f"{len(rows) - 1} rows", payload=payload
            )
        if reply.status == 404:  # Splunk's own 404: no such handler
            detail = "the Lookup Editor app is not installed"
            return Item("lookup file", name, Action.CREATE, detail, payload=payload)
        raise failure(reply, "GET", LOOKUP_EDITOR, self.client.redact)

    def _lookup_args(self, name: str) -> dict[str, str]:
        return {
            "lookup_file": name,
            "namespace": self.settings.app,
            "owner": self.settings.owner,
            "lookup_type": "csv",
        }

    # -- apply ----------------------------------------------------------------------------

    def apply(self, changes: list[Item], advance: Advance) -> None:
        ordered = sorted(
            changes, key=lambda i: (i.action is Action.DELETE, ORDER.index(i.kind), i.name)
        )
        app_failed = False
        for item in ordered:
            if app_failed:
                item.status = Status.NOT_ATTEMPTED
                item.error = "the app could not be created"
            else:
                try:
                    self._apply(item)
                    item.status = Status.APPLIED
                except HttpError as exc:
                    item.fail(str(exc))
                    app_failed = item.kind == "app"
            advance(item)

    def _apply(self, item: Item) -> None:
        if item.kind == "app":
            data = {"name": item.name, "label": self.dist.label, "template": "barebones"}
            self._call("POST", "/services/apps/local", 200, 201, 409, data={**data, "visible": "0"})
        elif item.kind == "lookup file":
            self._apply_lookup(item)
        elif item.action is Action.DELETE:
            self._call("DELETE", self._ns(*SEARCHES.split("/"), item.name), 200, 404)
        else:
            collection = {"lookup definition": TRANSFORMS, "macro": MACROS}.get(item.kind, SEARCHES)
            self._upsert(collection, item)

    def _upsert(self, collection: str, item: Item) -> None:
        settings: dict[str, str] = item.payload["settings"]
        entity = self._ns(*collection.split("/"), item.name)
        if item.action is Action.CREATE:
            path = self._ns(*collection.split("/"))
            reply = self._send("POST", path, data={"name": item.name, **settings})
            if reply.status == 409:
                # It exists after all: a retried create went through, or someone made it
                # meanwhile. A tuned macro is the customer's; anything else is updated.
                if item.kind == "macro" and self._tuned(item.name):
                    return
                self._call("POST", entity, 200, 201, data=settings)
            else:
                expect(reply, "POST", path, self.client.redact, 200, 201)
            self._share(entity)
        else:
            self._call("POST", entity, 200, 201, data=settings)

    def _share(self, entity: str) -> None:
        data = {"sharing": self.settings.sharing, "owner": self.settings.owner}
        self._call("POST", entity + "/acl", 200, 201, data=data)

    def _apply_lookup(self, item: Item) -> None:
        contents = json.dumps(item.payload["rows"], ensure_ascii=False)
        data = {**self._lookup_args(item.name), "contents": contents}
        reply = self._send("POST", LOOKUP_EDITOR, data=data)
        if reply.status == 404 and isinstance(reply.body, dict) and "messages" in reply.body:
            # Splunk's own 404: no such handler.
            reason = "not found: install the Lookup Editor app (Splunkbase 1724) to upload lookups"
            raise HttpError("POST", LOOKUP_EDITOR, reason, 404)
        expect(reply, "POST", LOOKUP_EDITOR, self.client.redact, 200)
        if item.action is Action.CREATE:
            self._share(self._ns("data", "lookup-table-files", item.name))


def _marked(content: Mapping[str, Any]) -> bool:
    try:
        annotations = json.loads(str(content.get(ANNOTATIONS) or "{}"))
    except (ValueError, RecursionError):
        return False
    return isinstance(annotations, dict) and MARKER in annotations


def _changed(keys: list[str]) -> str:
    shown = ", ".join(keys[:6])
    return f"differs: {shown}" + (f" (+{len(keys) - 6} more)" if len(keys) > 6 else "")
