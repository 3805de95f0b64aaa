"""What a target answered, and the checks that turn an answer we cannot use into an error that
names the endpoint.

A 200 answer is not proof of a usable one: a proxy's login page, a truncated or malformed JSON
document or an object of another shape must stop the run ("the target could not be read"),
never read as "nothing deployed" (which would plan to create everything) nor end in an
exception deep in a deployer."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

MESSAGE_LIMIT = 300  # characters of a server's explanation shown


class HttpError(Exception):
    """A request that did not get a usable answer; the message carries no secret."""

    def __init__(self, method: str, path: str, reason: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(f"{method} {unquote(path)}: {reason}")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or the text when the body is not JSON
    headers: Mapping[str, str]
    size: int = 0  # bytes received
    parsed: bool = False  # the body is JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def message(self, redact: Callable[[str], str]) -> str:
        """The server's own explanation, from the error shapes Splunk, Kibana and ES use;
        masked before it is shortened, so no cut leaves part of a secret unmasked."""
        body = self.body
        text = ""
        if isinstance(body, dict):
            messages = body.get("messages")
            error = body.get("error")
            if isinstance(messages, list) and messages and isinstance(messages[0], dict):
                text = str(messages[0].get("text", ""))
            elif isinstance(body.get("message"), str):
                text = body["message"]
            elif isinstance(error, dict):
                text = str(error.get("reason") or error.get("type") or "")
            elif isinstance(error, str):
                text = error
        elif isinstance(body, str):
            text = body
        text = " ".join(text.split())
        return shorten(redact(text), MESSAGE_LIMIT) or f"HTTP {self.status}"


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters and an ellipsis; only ever for text already masked."""
    return text if len(text) <= limit else text[:limit] + "..."


def parse(status: int, headers: Mapping[str, str], content: bytes, encoding: str | None) -> Reply:
    """A Reply from the raw answer: JSON when it parses, else the text."""
    try:
        text = content.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = content.decode("utf-8", errors="replace")
    body: Any = text
    parsed = False
    if text:
        try:
            body, parsed = json.loads(text), True
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
            body = text
    return Reply(status, body, headers, len(content), parsed)


def json_object(
    reply: Reply, method: str, path: str, redact: Callable[[str], str]
) -> dict[str, Any]:
    """The body of an answer that must be a JSON object, else HttpError."""
    if reply.parsed and isinstance(reply.body, dict):
        return reply.body
    raise HttpError(method, path, unusable(reply, "a JSON object", redact), reply.status)


def json_array(reply: Reply, method: str, path: str, redact: Callable[[str], str]) -> list[Any]:
    """The body of an answer that must be a JSON array, else HttpError."""
    if reply.parsed and isinstance(reply.body, list):
        return reply.body
    raise HttpError(method, path, unusable(reply, "a JSON array", redact), reply.status)


def unusable(reply: Reply, wanted: str, redact: Callable[[str], str]) -> str:
    """Why ``reply`` is not ``wanted``, in one line."""
    if reply.parsed:
        body = reply.body
        kinds = ((dict, "an object"), (list, "an array"), (str, "a string"))
        kind = next((name for cls, name in kinds if isinstance(body, cls)), "a scalar")
        return f"HTTP {reply.status}: expected {wanted}, got JSON {kind}"
    content_type = redact(" ".join(reply.headers.get("Content-Type", "").split()))
    text = reply.body if isinstance(reply.body, str) else ""
    if "html" in content_type.lower() or text.lstrip()[:1] == "<":
        what = "an HTML page"
    elif "json" in content_type.lower():
        what = "malformed JSON"
    else:
        what = "an answer that is not JSON"
    about = f"{shorten(content_type, 60) or 'no Content-Type'}, {reply.size} bytes"
    return f"HTTP {reply.status}: expected {wanted}, got {what} ({about})"


def dig(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``, or None where a level is missing or not an object: servers'
    answers are read without trusting their shape."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
