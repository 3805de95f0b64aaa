"""A total deadline for one HTTP attempt: from sending the request to the answer's last byte.

The timeout requests takes bounds each socket operation, so a server that sends a byte every
half second keeps a request alive for ever. Here a timer shuts the connection's socket down
when the deadline passes, which wakes a read blocked anywhere: the status line, the headers
or the body. The socket is handed to the deadline of the running attempt by the connection
classes below, which the session's adapter makes every connection pool use (plain, TLS and
through an HTTP proxy; through a SOCKS proxy only the per-read timeout applies).

Connecting and sending are bounded by requests' own timeout (one operation each)."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import poolmanager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()  # the Deadline of the attempt running in this thread


class DeadlineExceeded(Exception):
    """The attempt did not get its whole answer in time; its connection was closed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no complete answer within {seconds:g} s")


class Deadline:
    """``with Deadline(seconds) as deadline:`` around one attempt; ``expired`` says afterwards
    whether the timer fired (the answer read, if any, may then be cut short)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._done = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
        _current.deadline = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._socket is not None:
                _shut(self._socket)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: ssl.SSLSocket.shutdown would drop
    # the TLS state under the thread that is reading, which then fails in odd ways.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(sock: object) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None and isinstance(sock, socket.socket):
        deadline.watch(sock)


# getresponse returns urllib3's HTTPResponse where http.client's HTTPConnection, urllib3's
# base, declares its own: typed Any, as neither is the other's subtype.
class _Connection(HTTPConnection):
    def getresponse(self) -> Any:
        _watch(self.sock)
        return super().getresponse()


class _TlsConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        _watch(self.sock)
        return super().getresponse()


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _Pool, "https": _TlsPool}


class DeadlineAdapter(HTTPAdapter):
    """Mounted on a session for http:// and https://: its connections report their sockets."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # A SOCKS manager has connection classes of its own; keep them.
        if manager.pool_classes_by_scheme is poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = _POOLS
        return manager
