"""The threaded HTTP server under every fake: request log, authentication, fault injection,
and contract violations recorded so that a test can assert none happened."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit


class Reject(Exception):
    """Answer with this status and body (for expected errors: 404, 409, ...)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class Violation(Exception):
    """The client broke the documented contract: recorded, answered with 400."""


@dataclass
class Fault:
    method: str  # "*" for any
    path: str  # regular expression searched in the path
    # "status", "drop" (before handling), "drop_after" (handled, answer lost), "slow";
    # "raw": answer ``status`` with ``body`` as ``content_type``; "flood": a 200 answer of
    # ``size`` bytes, streamed without Content-Length (unless ``declare``); "trickle": the
    # routed answer one byte every ``delay`` seconds (its head at once with ``head``).
    kind: str
    status: int = 500
    times: int = 1
    delay: float = 0.0
    retry_after: str | None = None
    echo_auth: bool = False  # put the Authorization header in the error body (a leaky server)
    echo_pad: int = 0  # characters of message before the echoed header
    after: int = 0  # let this many matching requests through first
    body: bytes = b""
    content_type: str = "application/json"
    size: int = 0
    declare: bool = False
    head: bool = False


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    segments: list[str] = field(default_factory=list)  # path split on "/", then unquoted
    status: int = 0  # 0: no answer sent (dropped)
    fault: str = ""


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Subclasses implement ``route(seen) -> Answer`` and ``authorized(headers)``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.violations: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

            def _serve(self) -> None:
                server._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for it, once per test.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    # -- test helpers ---------------------------------------------------------------------

    def inject(self, method: str, path: str, kind: str, **options: Any) -> Fault:
        fault = Fault(method, path, kind, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def writes(self) -> list[Seen]:
        return [s for s in self.seen if s.method in ("POST", "PUT", "DELETE", "PATCH")]

    def forget(self) -> None:
        with self.lock:
            self.seen.clear()

    # -- subclass interface ---------------------------------------------------------------

    def authorized(self, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def route(self, seen: Seen) -> Answer:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message, "status_code": status}

    # -- serving --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        query = parse_qs(parts.query, keep_blank_values=True)
        seen = Seen(handler.command, unquote(parts.path), query, headers, body, segments)
        with self.lock:
            self.seen.append(seen)
            fault = self._fault(seen)
        if fault and fault.kind == "drop":
            seen.fault = "drop"
            return _drop(handler)
        if fault and fault.kind == "slow":
            seen.fault = "slow"
            time.sleep(fault.delay)
        if fault and fault.kind == "raw":
            seen.fault, seen.status = "raw", fault.status
            return _send_bytes(handler, fault.status, fault.content_type, fault.body)
        if fault and fault.kind == "flood":
            seen.fault, seen.status = "flood", 200
            return _flood(handler, fault)
        if fault and fault.kind == "status":
            seen.fault = f"status {fault.status}"
            message = "injected failure"
            if fault.echo_auth:
                message += f" {'.' * fault.echo_pad} for {headers.get('authorization', '')}"
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            answer = Answer(fault.status, self.error_body(fault.status, message), extra)
        elif not self.authorized(headers):
            answer = Answer(401, self.error_body(401, "unauthorized"))
        else:
            answer = self._route(seen)
        if fault and fault.kind == "drop_after":
            seen.fault = "drop_after"
            return _drop(handler)
        seen.status = answer.status
        if fault and fault.kind == "trickle":
            seen.fault = "trickle"
            return _trickle(handler, answer, fault)
        _send(handler, answer)

    def _route(self, seen: Seen) -> Answer:
        try:
            with self.lock:
                return self.route(seen)
        except Reject as exc:
            return Answer(exc.status, exc.body)
        except Violation as exc:
            self.violations.append(f"{seen.method} {seen.path}: {exc}")
            return Answer(400, self.error_body(400, f"contract violation: {exc}"))

    def _fault(self, seen: Seen) -> Fault | None:
        for fault in self.faults:
            if fault.times <= 0 or fault.method not in ("*", seen.method):
                continue
            if re.search(fault.path, seen.path):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                return fault
        return None


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer: the client sees the connection dropped."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def _payload(answer: Answer) -> tuple[bytes, str]:
    if isinstance(answer.body, bytes):
        return answer.body, "application/octet-stream"
    if isinstance(answer.body, str):
        return answer.body.encode(), "text/plain; charset=utf-8"
    return json.dumps(answer.body).encode(), "application/json"


def _send(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    payload, kind = _payload(answer)
    _send_bytes(handler, answer.status, kind, payload, answer.headers)


def _send_bytes(
    handler: BaseHTTPRequestHandler,
    status: int,
    kind: str,
    payload: bytes,
    headers: dict[str, str] | None = None,
) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (a timeout test)


def _flood(handler: BaseHTTPRequestHandler, fault: Fault) -> None:
    """``fault.size`` bytes from a generator, never held whole: the client must stop reading."""
    handler.close_connection = True
    chunk = b" " * (64 << 10)
    with contextlib.suppress(OSError):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if fault.declare:
            handler.send_header("Content-Length", str(fault.size))
        handler.end_headers()
        handler.wfile.write(b"[")
        for _ in range(fault.size // len(chunk)):
            handler.wfile.write(chunk)


def _trickle(handler: BaseHTTPRequestHandler, answer: Answer, fault: Fault) -> None:
    """The answer, byte by byte: each read gets something, the whole never comes in time."""
    handler.close_connection = True
    payload, kind = _payload(answer)
    head = (
        f"HTTP/1.0 {answer.status} OK\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    data = head + payload
    start = len(head) if fault.head else 0
    with contextlib.suppress(OSError):
        handler.wfile.write(data[:start])
        handler.wfile.flush()
        for index in range(start, len(data)):
            time.sleep(fault.delay)
            handler.wfile.write(data[index : index + 1])
            handler.wfile.flush()


def form(seen: Seen) -> dict[str, str]:
    """A form-encoded body, each field once (Splunk's REST API takes forms)."""
    kind = seen.headers.get("content-type", "")
    if seen.body and not kind.startswith("application/x-www-form-urlencoded"):
        raise Violation(f"expected a form body, got {kind!r}")
    fields = parse_qs(seen.body.decode(), keep_blank_values=True)
    repeated = [k for k, v in fields.items() if len(v) > 1]
    if repeated:
        raise Violation(f"repeated form fields: {repeated}")
    return {k: v[0] for k, v in fields.items()}


def json_body(seen: Seen) -> Any:
    kind = seen.headers.get("content-type", "")
    if not kind.startswith("application/json"):
        raise Violation(f"expected a JSON body, got {kind!r}")
    try:
        return json.loads(seen.body)
    except ValueError as exc:
        raise Violation(f"body is not JSON: {exc}") from None


def query(seen: Seen, name: str) -> str | None:
    values = seen.query.get(name)
    return values[0] if values else None


def words(text: str) -> set[str]:
    """A set of names written as whitespace-separated words."""
    return set(text.split())
