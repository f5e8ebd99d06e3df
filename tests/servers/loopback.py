"""The machinery shared by the test servers: a real HTTP server on 127.0.0.1, in daemon threads.

A test server is two small subclasses: a :class:`LoopbackServer` holding what the test scripts
and asserts on, and a :class:`LoopbackHandler` answering requests from it. This module owns
everything else: binding a free port, serving from a daemon thread, tracking live connections so
:meth:`LoopbackServer.stop` can cut them off, and collecting handler exceptions in
``errors`` instead of printing them over the test output. It is standard library only, so the
servers behave the same wherever the suite runs.

Sketch of a server::

    class EchoHandler(LoopbackHandler):
        server_version = "newsdesk-echo-server/1.0"
        owner: EchoServer

        def do_GET(self) -> None:
            ...  # answer from self.owner; wait on self.owner._stopping, never sleep


    class EchoServer(LoopbackServer):
        handler_class = EchoHandler

Contract for subclasses:

* ``_lock`` guards the server's state and may guard the subclass's own state too.
* ``_stopping`` is set by :meth:`~LoopbackServer.stop`; a handler that pauses on purpose should
  ``_stopping.wait(seconds)`` and hang up when it returns True, so stop() never waits on it.
* Handlers catch :data:`DISCONNECTS` around their writes when they need to record what happened;
  uncaught, they are ignored anyway, while any other exception ends up in ``errors``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self

__all__ = ["DISCONNECTS", "Headers", "LoopbackHandler", "LoopbackServer"]

# Errors that only mean the client went away; a client that gives up early must not look like a
# server bug.
DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class LoopbackHandler(BaseHTTPRequestHandler):
    """The base of a test server's request handler: HTTP/1.1, quiet, connection-tracked.

    Subclasses add ``do_<METHOD>`` methods, set ``server_version`` and narrow ``owner``'s type.
    """

    protocol_version = "HTTP/1.1"
    server_version = "newsdesk-loopback-server/1.0"
    timeout = 10  # bounds a handler stuck on a client that neither reads nor closes
    server: _HTTPServer
    owner: LoopbackServer  # the LoopbackServer this handler answers for

    def setup(self) -> None:
        self.owner = self.server.owner
        super().setup()
        self.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.owner._track(self.connection, add=False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keeps pytest output clean; servers keep their own request log

    def send_body(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answer in full: a dict or list as JSON, str or bytes as they are, None as no body.

        JSON goes out as exactly ``application/json`` unless ``content_type`` says otherwise
        (discord.py compares the header to that string); a 204 carries no body headers.
        """
        if body is None:
            data = b""
        elif isinstance(body, dict | list):
            data = json.dumps(body, ensure_ascii=False).encode()
            content_type = content_type or "application/json"
        else:
            data = body.encode() if isinstance(body, str) else body
            content_type = content_type or "text/plain; charset=utf-8"
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        if status != 204:
            self.send_header("Content-Type", content_type or "application/json")
            self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if status != 204:
            self.wfile.write(data)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: LoopbackServer) -> None:
        self.owner = owner
        self.request_queue_size = owner.request_queue_size  # read by listen() in super().__init__
        super().__init__(("127.0.0.1", 0), owner.handler_class)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup, which can stall on odd CI hosts.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Disconnects are the client's business; anything else is a bug in the test server and is
        # kept for its fixture to report instead of being printed over the test output.
        error = sys.exc_info()[1]
        if isinstance(error, DISCONNECTS) or self.owner._stopping.is_set():
            return
        if error is not None:
            self.owner.errors.append(error)


class LoopbackServer:
    """A server on 127.0.0.1 whose handlers are ``handler_class``; subclass it, set that.

    Use as ``with Server() as server:`` or call :meth:`start` and :meth:`stop`. Each instance
    listens on its own free port, so tests can run side by side. Its thread names and error
    messages name it by its class name.
    """

    handler_class: ClassVar[type[LoopbackHandler]] = LoopbackHandler
    request_queue_size: ClassVar[int] = 64  # the listen() backlog

    def __init__(self) -> None:
        self.errors: list[BaseException] = []  # unexpected exceptions inside request handlers
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve from a daemon thread; returns self for chaining."""
        name = type(self).__name__
        if self._httpd is not None or self._stopping.is_set():
            raise RuntimeError(f"this {name} can be started only once")
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{name}:{self._httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving and wake every handler, waiting up to ``timeout`` s; safe to call twice."""
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with self._lock:
            connections = dict(self._connections)
        # Shutting the sockets down (not closing them: their handlers still own them) wakes any
        # handler blocked writing to a client that stopped reading or waiting for a next request.
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        deadline = time.monotonic() + timeout
        for thread in [self._thread, *connections.values()]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port picked by :meth:`start`; only known while running."""
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._httpd.server_port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``; only known while running, because the port is picked then."""
        return f"http://127.0.0.1:{self.port}"

    # -- connections -------------------------------------------------------------------------

    def open_connections(self) -> int:
        """Client connections currently held open, to check a client closes what it abandons."""
        with self._lock:
            return len(self._connections)

    def _track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections[sock] = threading.current_thread()
            else:
                self._connections.pop(sock, None)
        if add and self._stopping.is_set():
            # Accepted in the instant before stop(): hang up rather than outlive the server.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Headers(dict[str, str]):
    """A plain dict of request headers that also answers to any capitalisation of a name.

    Keys are stored lowercased so the dict compares and prints predictably; repeated headers are
    joined with ", " as RFC 9110 allows.
    """

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for name, value in items:
            key = name.lower()
            self[key] = f"{super().__getitem__(key)}, {value}" if key in self else value

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)
