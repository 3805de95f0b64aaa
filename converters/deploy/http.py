"""One HTTPS client for every target: deadlines, size limits, retries with backoff, secret-free
errors.

Each attempt has a total deadline, the configured timeout, from sending to the answer's last
byte (deadline.py), and its answer is read up to the configured size limit, never whole into
memory first. Retries cover 429, 5xx, dropped connections and missed deadlines. Every write
the deployers send is safe to repeat (a create that already happened answers 409 and is then
updated, imports overwrite by rule_id, documents have fixed ids), so a retry never makes a
duplicate."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from converters.deploy.answers import HttpError, Reply, parse
from converters.deploy.config import Network
from converters.deploy.deadline import Deadline, DeadlineAdapter, DeadlineExceeded
from converters.deploy.redact import Redactor

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# Failures that may pass: the connection, not the request, was the problem.
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    DeadlineExceeded,
)
_CHUNK = 64 << 10


class _TooLarge(Exception):
    pass


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
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, DeadlineAdapter())
        self._session.headers.update(headers)
        # Given with each request: requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE override
        # a session's own setting (a CA bundle ignored, verification turned back on).
        self._verify = verify
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
        """Send until a non-retryable answer comes back; raise HttpError when retries run out,
        the connection keeps failing or the answer cannot be read. 4xx answers are returned
        for the caller to judge. ``timeout`` replaces the configured deadline."""
        send = {
            "params": params,
            "data": content if content is not None else data,
            "json": json_body,
            "files": files,
            "headers": {"Content-Type": content_type} if content_type else None,
        }
        seconds = timeout or self.network.timeout
        tries = self.network.retries + 1
        for attempt in range(1, tries + 1):
            self.attempts += 1
            wait = self._delay(attempt)
            try:
                reply = self._attempt(method, self.base_url + path, send, seconds)
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not heal by retrying.
                raise HttpError(method, path, self._reason("TLS error", exc)) from None
            except _TRANSIENT as exc:
                if attempt == tries:
                    raise HttpError(method, path, self._gave_up(exc, tries)) from None
                self._sleep(wait)
                continue
            except requests.RequestException as exc:
                raise HttpError(method, path, self._reason("unreadable answer", exc)) from None
            except _TooLarge:
                limit = _size(self.network.max_response_bytes)
                reason = f"the answer is larger than {limit} (DAC_DEPLOY_MAX_RESPONSE_BYTES)"
                raise HttpError(method, path, reason) from None
            if reply.status in RETRY_STATUS and attempt < tries:
                self._sleep(_retry_after(reply, wait, self.network.max_backoff))
                continue
            if reply.status in RETRY_STATUS:
                reason = (
                    f"HTTP {reply.status} after {tries} attempt(s): {reply.message(self.redact)}"
                )
                raise HttpError(method, path, self.redact(reason), reply.status)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover: the last attempt returns or raises

    def _attempt(self, method: str, url: str, send: Mapping[str, Any], seconds: float) -> Reply:
        with Deadline(seconds) as deadline:
            try:
                response = self._session.request(
                    method,
                    url,
                    timeout=seconds,
                    verify=self._verify,
                    allow_redirects=False,
                    stream=True,
                    **send,
                )
                with response:  # released to the pool when read, else closed
                    content = _read(response, self.network.max_response_bytes)
            except requests.RequestException:
                if deadline.expired:
                    raise DeadlineExceeded(seconds) from None
                raise
            if deadline.expired:  # an answer that ends with the connection, cut short
                raise DeadlineExceeded(seconds)
        return parse(response.status_code, response.headers, content, response.encoding)

    def _delay(self, attempt: int) -> float:
        return float(min(self.network.backoff * 2 ** (attempt - 1), self.network.max_backoff))

    def _gave_up(self, exc: Exception, tries: int) -> str:
        if isinstance(exc, DeadlineExceeded):
            return f"{exc} (DAC_DEPLOY_TIMEOUT), {tries} attempt(s)"
        return self._reason(f"no answer after {tries} attempt(s)", exc)

    def _reason(self, prefix: str, exc: Exception) -> str:
        kind = type(exc).__name__
        return self.redact(f"{prefix} ({kind})")


def _read(response: requests.Response, limit: int) -> bytes:
    """The body, decoded from its transfer encoding; _TooLarge past ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count % (1 << 20) == 0 else f"{count} bytes"


def _retry_after(reply: Reply, default: float, cap: float) -> float:
    value = reply.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return default
    return min(max(seconds, 0.0), cap) if math.isfinite(seconds) else default


def expect(reply: Reply, method: str, path: str, redact: Redactor, *ok: int) -> Reply:
    """The reply when its status is one of ``ok`` (default any 2xx), else HttpError."""
    if (reply.status in ok) if ok else reply.ok:
        return reply
    raise failure(reply, method, path, redact)


def failure(reply: Reply, method: str, path: str, redact: Redactor) -> HttpError:
    """The error for an answer whose status the caller did not expect."""
    reason = redact(f"HTTP {reply.status}: {reply.message(redact)}")
    return HttpError(method, path, reason, reply.status)
