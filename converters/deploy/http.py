"""One HTTPS client for every target: timeouts, retries with backoff, secret-free errors.

Retries cover 429, 5xx, dropped connections and timeouts. Every write the deployers send is
safe to repeat (a create that already happened answers 409 and is then updated, imports
overwrite by rule_id, documents have fixed ids), so a retry never makes a duplicate."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from converters.deploy.answers import HttpError, Reply
from converters.deploy.config import Network
from converters.deploy.redact import Redactor

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class Client:
    """Requests against one base URL with fixed headers (authentication included)."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        verify: bool | str,
        network: Network,
        redact: Redactor,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.network = network
        self.redact = redact
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update(headers)
        self._session.verify = verify
        self.attempts = 0  # every HTTP attempt, retries included (for tests and the report)

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Send until a non-retryable answer comes back; raise HttpError when retries run out
        or the connection keeps failing. 4xx answers are returned for the caller to judge."""
        url = self.base_url + path
        headers = {"Content-Type": content_type} if content_type else None
        tries = self.network.retries + 1
        for attempt in range(1, tries + 1):
            self.attempts += 1
            wait = self._delay(attempt)
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=content if content is not None else data,
                    json=json_body,
                    files=files,
                    headers=headers,
                    timeout=timeout or self.network.timeout,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not heal by retrying.
                raise HttpError(method, path, self._reason("TLS error", exc)) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == tries:
                    reason = self._reason(f"no answer after {tries} attempt(s)", exc)
                    raise HttpError(method, path, reason) from None
                self._sleep(wait)
                continue
            reply = _reply(response)
            if reply.status in RETRY_STATUS and attempt < tries:
                self._sleep(_retry_after(reply, wait, self.network.max_backoff))
                continue
            if reply.status in RETRY_STATUS:
                reason = (
                    f"HTTP {reply.status} after {tries} attempt(s): {reply.message(self.redact)}"
                )
                raise HttpError(method, path, self.redact(reason), reply.status)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int) -> float:
        return float(min(self.network.backoff * 2 ** (attempt - 1), self.network.max_backoff))

    def _reason(self, prefix: str, exc: Exception) -> str:
        kind = type(exc).__name__
        return self.redact(f"{prefix} ({kind})")


def _reply(response: requests.Response) -> Reply:
    text = response.text
    body: Any = text
    if text:
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    return Reply(response.status_code, body, dict(response.headers))


def _retry_after(reply: Reply, default: float, cap: float) -> float:
    value = reply.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), cap)
    except ValueError:
        return default


def expect(reply: Reply, method: str, path: str, redact: Redactor, *ok: int) -> Reply:
    """The reply when its status is one of ``ok`` (default any 2xx), else HttpError."""
    if (reply.status in ok) if ok else reply.ok:
        return reply
    reason = redact(f"HTTP {reply.status}: {reply.message(redact)}")
    raise HttpError(method, path, reason, reply.status)
