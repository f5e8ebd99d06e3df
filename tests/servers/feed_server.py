"""A real HTTP server for testing the feed fetcher against the web's good and bad habits.

Mocking the transport would only test our assumptions about HTTP; a socket-level server catches
what mocks cannot: keep-alive reuse, conditional-GET validators, gzip negotiation, redirects,
slow or endless bodies, and clients hanging up mid-stream. It is standard library only, so it
behaves the same wherever the suite runs.

Usage::

    with FeedServer() as server:
        server.add("/feed.xml", RSS_BYTES, last_modified="Mon, 06 Jan 2025 10:00:00 GMT")
        response = httpx.get(server.url("/feed.xml"))
        assert server.bodies_sent("/feed.xml") == 1

or through the ``feed_server`` pytest fixture defined at the bottom of this module.

Behaviour worth knowing when writing tests:

* ETag and Last-Modified are only sent, and conditional requests only answered with 304, on 2xx
  routes; an error page has no validators, as with real servers.
* ``If-None-Match`` takes precedence over ``If-Modified-Since`` (RFC 9110 section 13.2.2): when a
  client sends both and the ETag does not match, the date is ignored and the body is sent.
* ``headers=`` given to :meth:`FeedServer.add` replace the server's own header of the same name
  (case-insensitive), so a test can send a lying ``Content-Length`` or its own ``Date``.
* ``Request.status`` is 0 until the server has decided on and started its answer, and stays 0
  when the client gave up during ``delay`` or the server was stopped first.
* ``FeedServer(tls=context)`` speaks HTTPS with the given server-side ``ssl.SSLContext`` (a
  self-signed certificate makes a realistic untrusted host). A client that abandons the handshake,
  e.g. because it does not trust the certificate, is not a server bug: it is listed in
  ``tls_failures`` and the connection is closed without an HTTP answer.
"""

from __future__ import annotations

import gzip as gzip_module
import hashlib
import pathlib
import ssl
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest

from tests.servers.loopback import DISCONNECTS, Headers, LoopbackHandler, LoopbackServer

__all__ = ["FeedServer", "Headers", "Request", "feed_server"]

RSS_CONTENT_TYPE = "application/rss+xml; charset=utf-8"

# Statuses that never carry a body, so they must not declare a Content-Length either.
_BODYLESS = frozenset({204, 304})


@dataclass
class Request:
    """One request as the server saw it, so tests can assert on what the fetcher really sent."""

    method: str
    path: str  # as requested, query string included
    headers: Headers
    status: int = 0  # what the server answered; 0 if it never answered
    body_sent: bool = False  # a 200 whose non-empty body the server started writing
    received_at: float = field(default_factory=time.monotonic)

    @property
    def route(self) -> str:
        """The path without query string or fragment, which is what routes are matched on."""
        return _route_path(self.path)


@dataclass(frozen=True)
class _Route:
    # Frozen and swapped whole on change, so an in-flight response never sees half an update.
    kind: str  # "static" | "huge" | "redirect"
    status: int = 200
    body: bytes = b""
    gzipped: bytes | None = None
    content_type: str = RSS_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None
    auto_etag: bool = False
    last_modified: str | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    chunk_size: int = 1024
    chunked: bool = False
    size: int = 0  # huge routes only


def _route_path(path: str) -> str:
    if path.startswith(("http://", "https://")):  # absolute-form request target
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path.partition("?")[0].partition("#")[0]


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" and obsolete formats come back naive; HTTP dates are always UTC.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _http_date(value: str | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return format_datetime(aware.astimezone(UTC), usegmt=True)
    if _parse_http_date(value) is None:
        raise ValueError(f"last_modified is not an HTTP-date: {value!r}")
    return value


def _etag_matches(if_none_match: str, etag: str) -> bool:
    # GET uses weak comparison (RFC 9110 section 13.1.2): W/"x" matches "x".
    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag[:2].upper() == "W/" else tag

    wanted = opaque(etag)
    return any(c.strip() == "*" or opaque(c) == wanted for c in if_none_match.split(","))


def _accepts_gzip(accept_encoding: str) -> bool:
    explicit: float | None = None
    wildcard: float | None = None
    for part in accept_encoding.split(","):
        token, _, params = part.partition(";")
        token = token.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if token in ("gzip", "x-gzip"):
            explicit = quality
        elif token == "*":
            wildcard = quality
    chosen = explicit if explicit is not None else wildcard
    return chosen is not None and chosen > 0


_HUGE_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<rss version="2.0"><channel><title>Endless feed</title>'
    b"<link>https://huge.example/</link><description>A feed that never closes</description>\n"
)
_HUGE_PADDING = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 3


def _huge_chunks(size: int, chunk_size: int) -> Iterator[bytes]:
    # Numbered items are generated on demand so memory stays at one chunk whatever the size.
    buffer = bytearray(_HUGE_HEAD)
    number = 0
    remaining = size
    while remaining > 0:
        want = min(chunk_size, remaining)
        while len(buffer) < want:
            buffer += (
                f"<item><title>Item {number}</title>"
                f"<link>https://huge.example/items/{number}</link>"
                f'<guid isPermaLink="false">huge-{number}</guid>'
                f"<description>{_HUGE_PADDING}</description></item>\n"
            ).encode("ascii")
            number += 1
        piece = bytes(buffer[:want])
        del buffer[:want]
        remaining -= want
        yield piece


def _split(body: bytes, chunk_size: int) -> Iterator[bytes]:
    for start in range(0, len(body), chunk_size):
        yield body[start : start + chunk_size]


class _Handler(LoopbackHandler):
    server_version = "newsdesk-feed-server/1.0"
    owner: FeedServer

    def setup(self) -> None:
        tls = self.server.owner.tls
        if tls is not None:
            # Wrapped before the streams are made, but the handshake waits for handle(): there it
            # runs under the handler's read timeout, and a failure can be recorded cleanly.
            self.request = tls.wrap_socket(
                self.request, server_side=True, do_handshake_on_connect=False
            )
        super().setup()

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                self.owner._log_tls_failure(exc)
                self.close_connection = True
                return
        super().handle()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if isinstance(self.connection, ssl.SSLSocket):
                # socketserver closes the socket it accepted, which the TLS wrapper detached.
                self.connection.close()

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        owner = self.owner
        record = Request(self.command, self.path, Headers(self.headers.items()))
        owner._log(record)
        self._discard_request_body()
        route = owner._route(_route_path(self.path))
        try:
            self._answer(route, record, send_body=send_body)
        except DISCONNECTS:
            self.close_connection = True

    def _discard_request_body(self) -> None:
        # Unread request bytes would be parsed as the next request on a kept-alive connection.
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > 0:
            self.rfile.read(int(length))

    def _answer(self, route: _Route | None, record: Request, *, send_body: bool) -> None:
        if route is None:
            route = _Route("static", status=404, body=b"404 Not Found\n", content_type="text/plain")
        if route.delay and self.owner._stopping.wait(route.delay):
            self.close_connection = True
            return

        status = route.status
        success = 200 <= status < 300
        headers: list[tuple[str, str]] = [
            ("Server", self.version_string()),
            ("Date", self.date_time_string()),
        ]
        if route.kind == "static" and route.gzipped is not None:
            headers.append(("Vary", "Accept-Encoding"))
        if success and route.etag:
            headers.append(("ETag", route.etag))
        if success and route.last_modified:
            headers.append(("Last-Modified", route.last_modified))

        if success and self._not_modified(route):
            status = 304
        body: Iterable[bytes]
        length: int | None
        if status in _BODYLESS or 100 <= status < 200:
            body, length = (), None
        elif route.kind == "huge":
            body = _huge_chunks(route.size, route.chunk_size)
            length = route.size
            headers.append(("Content-Type", route.content_type))
        else:
            payload = route.body
            if route.gzipped is not None and _accepts_gzip(self.headers.get("Accept-Encoding", "")):
                payload = route.gzipped
                headers.append(("Content-Encoding", "gzip"))
            body, length = _split(payload, route.chunk_size), len(payload)
            headers.append(("Content-Type", route.content_type))
        if length is not None:
            if route.chunked:
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(length)))

        overrides = {name.lower() for name, _ in route.headers}
        headers = [(n, v) for n, v in headers if n.lower() not in overrides]
        headers.extend(route.headers)

        record.status = status
        record.body_sent = send_body and status == 200 and bool(length)
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body and length is not None:
            self._write_body(body, chunked=route.chunked, chunk_delay=route.chunk_delay)

    def _not_modified(self, route: _Route) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return route.etag is not None and _etag_matches(if_none_match, route.etag)
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since and route.last_modified:
            since = _parse_http_date(if_modified_since)
            modified = _parse_http_date(route.last_modified)
            return since is not None and modified is not None and since >= modified
        return False

    def _write_body(self, chunks: Iterable[bytes], *, chunked: bool, chunk_delay: float) -> None:
        stopping = self.owner._stopping
        for chunk in chunks:
            # Checked before every chunk so stop() never waits on a slow or endless body.
            if stopping.wait(chunk_delay) if chunk_delay else stopping.is_set():
                self.close_connection = True
                return
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                self.wfile.write(chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class FeedServer(LoopbackServer):
    """A feed host on 127.0.0.1 that a test scripts route by route.

    Use as ``with FeedServer() as server:`` or call :meth:`start` and :meth:`stop`. Each
    instance listens on its own free port, so tests can run side by side. :meth:`stop` cuts off
    slow and endless bodies mid-stream. ``tls``, a server-side SSL context, makes it HTTPS.
    """

    handler_class = _Handler
    request_queue_size = 128

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.tls = tls
        self.requests: list[Request] = []
        self.tls_failures: list[str] = []  # handshakes that failed, e.g. an untrusted certificate
        self._routes: dict[str, _Route] = {}

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with ``tls``); known once started, because
        the port is picked then."""
        if self.tls is not None:
            return "https://" + self.origin.removeprefix("http://")
        return self.origin

    def url(self, path: str) -> str:
        """An absolute URL for ``path``, which must start with "/" (a query string is fine)."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        return self.base_url + path

    # -- routes ------------------------------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = RSS_CONTENT_TYPE,
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | bool | None = True,
        last_modified: str | datetime | None = None,
        gzip: bool = False,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        chunk_size: int = 1024,
        chunked: bool = False,
    ) -> None:
        """Serve ``body`` at ``path`` (query strings ignored), replacing any earlier route.

        ``etag=True`` derives a strong ETag from the body so it changes when :meth:`set_body`
        does; a string is sent verbatim and never changes, like a server with a stuck ETag.
        ``last_modified`` (an HTTP-date or a datetime) enables If-Modified-Since. ``gzip``
        compresses only for clients that accept it, always adding ``Vary: Accept-Encoding``.
        ``delay`` stalls before the headers; ``chunk_delay`` stalls before each ``chunk_size``
        piece of the body, after the headers, so a client sees a response that starts and then
        trickles. ``chunked`` uses chunked transfer encoding instead of Content-Length.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        data = _as_bytes(body)
        route = _Route(
            "static",
            status=status,
            body=data,
            gzipped=gzip_module.compress(data, mtime=0) if gzip else None,
            content_type=content_type,
            headers=tuple((headers or {}).items()),
            etag=_strong_etag(data) if etag is True else (etag or None),
            auto_etag=etag is True,
            last_modified=_http_date(last_modified),
            delay=delay,
            chunk_delay=chunk_delay,
            chunk_size=chunk_size,
            chunked=chunked,
        )
        self._set_route(path, route)

    def add_file(self, path: str, file: pathlib.Path, **kwargs: Any) -> None:
        """Serve a fixture file; it is read now, so later edits to it do not leak into a test."""
        self.add(path, pathlib.Path(file).read_bytes(), **kwargs)

    def add_huge(
        self,
        path: str,
        size: int,
        *,
        content_type: str = RSS_CONTENT_TYPE,
        declare_length: bool = True,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        chunk_size: int = 64 * 1024,
    ) -> None:
        """Serve ``size`` bytes of an RSS document that never closes, generated while sending.

        It is for proving the fetcher enforces a size cap: the bytes look like a valid, growing
        channel of ``<item>`` elements, so only a byte limit stops it. With
        ``declare_length=False`` the body is chunked and no Content-Length warns the client.
        """
        if size < 0 or chunk_size < 1:
            raise ValueError("size must be >= 0 and chunk_size positive")
        route = _Route(
            "huge",
            content_type=content_type,
            headers=tuple((headers or {}).items()),
            delay=delay,
            chunk_delay=chunk_delay,
            chunk_size=chunk_size,
            chunked=not declare_length,
            size=size,
        )
        self._set_route(path, route)

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        """Answer ``path`` with a redirect to ``to``, sent verbatim so relative targets work."""
        if not 300 <= status < 400:
            raise ValueError(f"not a redirect status: {status}")
        body = f'<html><body>Moved to <a href="{to}">{to}</a></body></html>\n'.encode()
        route = _Route(
            "static",
            status=status,
            body=body,
            content_type="text/html; charset=utf-8",
            headers=(("Location", to),),
        )
        self._set_route(path, route)

    def set_body(
        self, path: str, body: bytes | str, *, last_modified: str | datetime | None = None
    ) -> None:
        """Change a feed in place, as a publisher would; its ETag follows if it was automatic.

        ``last_modified``, when given, replaces the route's Last-Modified; otherwise it is kept.
        """
        with self._lock:
            route = self._routes.get(path)
            if route is None or route.kind != "static":
                raise KeyError(f"no body route at {path!r}")
            data = _as_bytes(body)
            self._routes[path] = replace(
                route,
                body=data,
                gzipped=gzip_module.compress(data, mtime=0) if route.gzipped is not None else None,
                etag=_strong_etag(data) if route.auto_etag else route.etag,
                last_modified=_http_date(last_modified) or route.last_modified,
            )

    def remove(self, path: str) -> None:
        """Make ``path`` answer 404, as when a feed is taken down."""
        with self._lock:
            self._routes.pop(path, None)

    def etag(self, path: str) -> str | None:
        """The ETag currently served for ``path``, so tests can compare what the fetcher stored."""
        with self._lock:
            route = self._routes.get(path)
        return route.etag if route else None

    # -- request log -------------------------------------------------------------------------

    def hits(self, path: str) -> int:
        """How many requests reached ``path``; a path without "?" counts every query string."""
        return sum(1 for r in self._matching(path))

    def bodies_sent(self, path: str) -> int:
        """How many 200 responses with a body went to ``path``: proves 304s saved a download."""
        return sum(1 for r in self._matching(path) if r.body_sent)

    def reset_log(self) -> None:
        """Forget past requests, e.g. after a warm-up fetch, so counts cover only what follows."""
        with self._lock:
            self.requests.clear()

    # -- internals used by the handler -------------------------------------------------------

    def _matching(self, path: str) -> list[Request]:
        with self._lock:
            requests = list(self.requests)
        if "?" in path:
            return [r for r in requests if r.path == path]
        return [r for r in requests if r.route == path]

    def _set_route(self, path: str, route: _Route) -> None:
        if not path.startswith("/") or "?" in path:
            raise ValueError(f"route path must start with '/' and have no query: {path!r}")
        with self._lock:
            self._routes[path] = route

    def _route(self, path: str) -> _Route | None:
        with self._lock:
            return self._routes.get(path)

    def _log(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _log_tls_failure(self, error: BaseException) -> None:
        with self._lock:
            self.tls_failures.append(str(error) or type(error).__name__)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running FeedServer per test, stopped afterwards; handler bugs fail the test loudly."""
    with FeedServer() as server:
        yield server
    if server.errors:
        raise AssertionError(f"FeedServer handler raised: {server.errors!r}")
