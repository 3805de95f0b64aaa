"""What a target answered, and the error for an answer that cannot be used."""

from __future__ import annotations

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
