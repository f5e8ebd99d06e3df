"""Polite, bounded feed downloads over httpx.

A feed poller is a guest on other people's servers and a target for hostile ones. So every
request is conditional (ETag, Last-Modified), compressed, timed out twice (per read and per
whole fetch, against slow-loris bodies), capped in size while streaming (and while inflating,
a step at a time, against gzip bombs), limited in redirects, and limited in concurrency overall
and per host. Feeds added from chat cannot reach private,
loopback or link-local addresses: the host is resolved once, checked, and the connection goes to
the address that was checked, so a DNS answer cannot change between the check and the connect.

`Fetcher.fetch` never raises for a network or HTTP problem: it returns a FetchResult whose
`error` says what went wrong in words an admin can act on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import anyio
import httpcore
import httpx

from newsdesk.config import FetchSettings
from newsdesk.feeds.canonical import url_host

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
# Exactly what _Inflater undoes; httpx on its own would also offer br and zstd whenever their
# packages happen to be installed, and inflate those without a bound.
ACCEPT_ENCODING = "gzip, deflate"
# At most this many decompressed bytes exist at once before the size cap sees them.
INFLATE_STEP = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one download: a body, a 304, or an error, plus the server's hints."""

    url: str
    status: Literal["ok", "not_modified", "error"]
    http_status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    max_age: int | None = None  # seconds, from Cache-Control
    retry_after: int | None = None  # seconds, from Retry-After
    final_url: str | None = None
    moved_to: str | None = None  # set when every redirect was permanent (301/308)
    error: str | None = None


Resolver = Callable[[str, int], Awaitable[list[str]]]


class BlockedAddressError(httpcore.ConnectError):
    """The host resolves to an address feeds may not reach (private, loopback, …)."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; the test for server-side request forgery.

    IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the
    IPv4 address inside, so `::ffff:127.0.0.1` or `2002:7f00:1::` cannot smuggle in loopback.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
            candidates.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(c.is_global and not c.is_multicast for c in candidates)


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to public addresses.

    httpcore calls `connect_tcp` with the URL's host for every connection, redirects included;
    TLS still verifies the certificate against that host name, because httpcore passes the
    origin's name as SNI, not the address we connected to.
    """

    def __init__(
        self,
        inner: httpcore.AsyncNetworkBackend | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        # `inner` connects and `resolve` looks names up; both are the real network unless a
        # test stands in for it, as httpcore's backend interface allows.
        self._inner = inner or httpcore.AnyIOBackend()
        self._resolve = resolve or _resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = list(dict.fromkeys(await self._resolve(host, port)))
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked or not addresses:
            raise BlockedAddressError(
                f"refused to connect to {host}: it resolves to {', '.join(blocked) or 'nothing'},"
                " a private, loopback or link-local address"
                " (set fetch.allow_private_networks = true to allow it)"
            )
        return await self._inner.connect_tcp(
            addresses[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,  # type: ignore[arg-type]
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to: all are checked, so a name that answers with one
    public and one private address (DNS rebinding) is refused."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class _PublicOnlyTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: PublicOnlyBackend) -> None:
        # One TLS context for both pools: making one loads the CA bundle, and the pool that
        # httpx makes here is replaced at once.
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        # httpx has no public hook for the network backend; httpcore's pool does.
        self._pool = httpcore.AsyncConnectionPool(ssl_context=ssl_context, network_backend=backend)


class Fetcher:
    """Downloads feeds with shared limits; use as `async with Fetcher(settings) as fetcher:`.

    `trusted` fetches (feeds an operator wrote into the config file, such as a local RSSHub)
    may reach private addresses; the rest may not, unless `allow_private_networks` is set.
    """

    def __init__(self, settings: FetchSettings, *, guard: PublicOnlyBackend | None = None) -> None:
        self.settings = settings
        self._overall = asyncio.Semaphore(settings.concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host_concurrency)
        )
        common = {
            "timeout": httpx.Timeout(settings.timeout_seconds),
            "follow_redirects": True,
            "max_redirects": settings.max_redirects,
            "headers": {
                "User-Agent": settings.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            "trust_env": False,
        }
        self._common = common
        self._guard = guard
        # The open client and the guarded one, made on first use: each loads the CA bundle
        # (tens of milliseconds, the bulk of a poll where every feed answers 304), and a
        # config of trusted feeds alone never needs the guarded one.
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._closed = False

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        for client in self._clients.values():
            await client.aclose()

    def _client(self, trusted: bool) -> httpx.AsyncClient:
        guarded = not trusted and not self.settings.allow_private_networks
        client = self._clients.get(guarded)
        if client is None:
            if self._closed:
                raise RuntimeError("the fetcher is closed")
            transport = (
                _PublicOnlyTransport(self._guard or PublicOnlyBackend()) if guarded else None
            )
            client = httpx.AsyncClient(transport=transport, **self._common)
            self._clients[guarded] = client
        return client

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        trusted: bool = False,
    ) -> FetchResult:
        """Download `url` once, conditionally; never raises for network or HTTP trouble."""
        client = self._client(trusted)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = url_host(url) or url
        try:
            async with self._per_host[host], self._overall:
                async with asyncio.timeout(self.settings.total_timeout_seconds):
                    return await self._download(client, url, headers)
        except TimeoutError:
            return _error(url, f"timed out after {self.settings.total_timeout_seconds:g} s")
        except httpx.TooManyRedirects:
            return _error(url, f"too many redirects (more than {self.settings.max_redirects})")
        except httpx.TimeoutException as exc:
            return _error(url, f"timed out ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return _error(url, _describe_http_error(exc))
        except (httpx.InvalidURL, ValueError) as exc:  # ValueError: IDNA and Unicode errors
            return _error(url, f"invalid URL: {exc}")

    async def _download(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str]
    ) -> FetchResult:
        async with client.stream("GET", url, headers=headers) as response:
            hints = {
                "url": url,
                "http_status": response.status_code,
                "final_url": str(response.url),
                "max_age": _max_age(response.headers.get("cache-control")),
                "retry_after": _retry_after(response.headers.get("retry-after")),
            }
            if response.status_code == 304:
                return FetchResult(status="not_modified", **hints)
            if response.status_code >= 400 or response.status_code < 200:
                reason = response.reason_phrase or "error"
                return FetchResult(
                    status="error", error=f"HTTP {response.status_code} {reason}", **hints
                )
            cap = self.settings.max_bytes
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                return FetchResult(status="error", error=_too_big(cap), **hints)
            # Raw bytes, inflated here in bounded steps: httpx inflates each network read whole,
            # so 64 KiB of gzip could become 64 MiB, and gzip-in-gzip a gigabyte, before the cap
            # saw a byte of it. Raw bytes count too: data after the end of a gzip stream inflates
            # to nothing and must not stream on unchecked.
            inflater = _Inflater(response.headers.get("content-encoding"))
            body = bytearray()
            received = 0
            async for raw in response.aiter_raw():
                received += len(raw)
                for chunk in inflater.feed(raw):
                    body += chunk
                    if len(body) > cap:
                        return FetchResult(status="error", error=_too_big(cap), **hints)
                if received > cap:
                    return FetchResult(status="error", error=_too_big(cap), **hints)
            for chunk in inflater.feed(b"", final=True):
                body += chunk
                if len(body) > cap:
                    return FetchResult(status="error", error=_too_big(cap), **hints)
            permanent = response.history and all(
                r.status_code in (301, 308) for r in response.history
            )
            return FetchResult(
                status="ok",
                body=bytes(body),
                moved_to=str(response.url) if permanent else None,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                **hints,
            )


class _Inflater:
    """Undoes a response's Content-Encoding (gzip, deflate, stacked or not) in bounded steps.

    Each layer hands on at most INFLATE_STEP bytes at a time and the caller checks its cap after
    every step, so a bomb costs the cap plus a step of memory, whatever its ratio or depth.
    Codings it does not know are passed through, as httpx does: servers that send
    `Content-Encoding: UTF-8` mean an uncompressed body.
    """

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        # The last coding applied is the first to undo (RFC 9110 section 8.4).
        self._layers = [
            _InflateLayer(c) for c in reversed(codings) if c in ("gzip", "x-gzip", "deflate")
        ]

    def feed(self, data: bytes, *, final: bool = False) -> Iterator[bytes]:
        """The decompressed pieces of `data`; `final` drains what the layers still hold."""
        pieces: Iterable[bytes] = (data,)
        for layer in self._layers:
            pieces = layer.feed(pieces, final=final)
        return (piece for piece in pieces if piece)


class _InflateLayer:
    def __init__(self, coding: str) -> None:
        self._deflate = coding == "deflate"
        self._first = True
        # deflate is meant to be zlib-wrapped, but some servers send it raw; try the first.
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if self._deflate else zlib.MAX_WBITS | 16)

    def feed(self, pieces: Iterable[bytes], *, final: bool) -> Iterator[bytes]:
        for piece in pieces:
            yield from self._inflate(piece)
        if final:
            yield from self._inflate(b"")
            yield self._zlib.flush()

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        while not self._zlib.eof:  # bytes after the end of the stream are ignored, as by httpx
            try:
                out = self._zlib.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                if not (self._first and self._deflate):
                    raise httpx.DecodingError(f"corrupt compressed body: {exc}") from exc
                self._first = False
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                continue  # the same bytes again, as raw deflate
            self._first = False
            data = self._zlib.unconsumed_tail
            yield out
            if not data and len(out) < INFLATE_STEP:
                return  # all input used and nothing held back: more needs more input


def _error(url: str, message: str) -> FetchResult:
    return FetchResult(url=url, status="error", error=message)


def _too_big(cap: int) -> str:
    return f"response larger than the {_size(cap)} cap (fetch.max_bytes)"


def _size(count: int) -> str:
    if count >= 1_048_576:
        return f"{count / 1_048_576:.1f} MiB"
    if count >= 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count} bytes"


def _describe_http_error(exc: httpx.HTTPError) -> str:
    cause = exc.__context__
    while cause is not None:
        if isinstance(cause, BlockedAddressError):
            return str(cause)
        cause = cause.__context__
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {text}"
    if isinstance(exc, httpx.DecodingError):
        return f"cannot decode the response: {text}"
    return f"{type(exc).__name__}: {text}"


def _max_age(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return int(value.strip())
    return None


def _retry_after(value: str | None, now: datetime | None = None) -> int | None:
    """Seconds to wait: Retry-After is either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - (now or datetime.now(UTC))).total_seconds()))
