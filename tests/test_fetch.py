"""The fetcher against a real HTTP server on 127.0.0.1: what a feed host sees, what an admin reads.

Covered, because each is a promise `newsdesk.feeds.fetch` makes to the servers we poll or to the
admin who reads the fetch report:

* politeness: conditional GET (ETag and Last-Modified) so an unchanged feed costs no body, gzip,
  the configured User-Agent, at most `per_host_concurrency` requests at once to one host;
* the server's hints are passed on: Retry-After (seconds or an HTTP date), Cache-Control max-age;
* bounds: redirect limits, a whole-fetch deadline against trickling bodies, a byte cap whether or
  not the size is declared, and on the decompressed size;
* safety: feeds from chat cannot reach loopback, private or link-local addresses, and the guard
  refuses before any connection is made (asserted on the server's request log);
* `fetch` never raises: every failure is an error result whose text says what went wrong.

No test sends a packet to a non-loopback address, even if the guard under test were broken: the
private and link-local addresses are checked on the guard alone, with a network backend that
records and refuses any connection it is asked to make.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpcore
import pytest

from newsdesk.config import FetchSettings
from newsdesk.feeds.canonical import canonical_url
from newsdesk.feeds.fetch import (
    BlockedAddressError,
    Fetcher,
    PublicOnlyBackend,
    is_public_address,
)
from tests.servers.feed_server import feed_server

# Listing the imported fixture as used keeps ruff from reading the test parameters as F811.
__all__ = ["feed_server"]

RSS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<rss version="2.0"><channel><title>Loopback news</title>'
    b"<link>https://news.example/</link><description>Test feed</description>"
    b"<item><guid>a-1</guid><link>https://news.example/a-1</link><title>First</title>"
    b"<description>The first story.</description></item>"
    b"</channel></rss>\n"
)
LAST_MODIFIED = "Mon, 06 Jan 2025 10:00:00 GMT"


def settings(**overrides: object) -> FetchSettings:
    """Loopback-capable settings with short timeouts; keyword arguments override."""
    values: dict[str, object] = {
        "allow_private_networks": True,
        "timeout_seconds": 2.0,
        "total_timeout_seconds": 5.0,
        "max_bytes": 100_000,
    }
    values.update(overrides)
    return FetchSettings(**values)


async def fetch_once(url: str, fetch_settings: FetchSettings | None = None, **kwargs):
    async with Fetcher(fetch_settings or settings()) as fetcher:
        return await fetcher.fetch(url, **kwargs)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- conditional GET ----------------------------------------------------------------------------


async def test_refetch_with_the_etag_is_not_modified_and_downloads_no_body(feed_server):
    feed_server.add("/feed", RSS)
    async with Fetcher(settings()) as fetcher:
        first = await fetcher.fetch(feed_server.url("/feed"))
        second = await fetcher.fetch(feed_server.url("/feed"), etag=first.etag)

    assert (first.status, first.body) == ("ok", RSS)
    assert first.etag == feed_server.etag("/feed")
    assert (second.status, second.http_status, second.body) == ("not_modified", 304, b"")
    assert feed_server.requests[1].headers["If-None-Match"] == first.etag
    assert feed_server.hits("/feed") == 2
    assert feed_server.bodies_sent("/feed") == 1


async def test_refetch_with_last_modified_is_not_modified_and_downloads_no_body(feed_server):
    feed_server.add("/feed", RSS, etag=None, last_modified=LAST_MODIFIED)
    async with Fetcher(settings()) as fetcher:
        first = await fetcher.fetch(feed_server.url("/feed"))
        second = await fetcher.fetch(feed_server.url("/feed"), last_modified=first.last_modified)

    assert (first.status, first.etag, first.last_modified) == ("ok", None, LAST_MODIFIED)
    assert feed_server.requests[1].headers["If-Modified-Since"] == LAST_MODIFIED
    assert second.status == "not_modified"
    assert feed_server.bodies_sent("/feed") == 1


async def test_a_changed_feed_is_downloaded_again_despite_the_old_etag(feed_server):
    feed_server.add("/feed", RSS)
    async with Fetcher(settings()) as fetcher:
        first = await fetcher.fetch(feed_server.url("/feed"))
        changed = RSS.replace(b"First", b"First, corrected")
        feed_server.set_body("/feed", changed)
        second = await fetcher.fetch(feed_server.url("/feed"), etag=first.etag)

    assert (second.status, second.body) == ("ok", changed)
    assert second.etag != first.etag
    assert feed_server.bodies_sent("/feed") == 2


# --- encoding, redirects ------------------------------------------------------------------------


async def test_gzip_encoded_body_is_decoded(feed_server):
    feed_server.add("/feed", RSS, gzip=True)

    result = await fetch_once(feed_server.url("/feed"))

    assert "gzip" in feed_server.requests[0].headers["Accept-Encoding"]
    assert (result.status, result.body) == ("ok", RSS)


async def test_redirect_is_followed_and_final_url_is_the_target(feed_server):
    feed_server.add("/new-feed", RSS)
    feed_server.redirect("/old-feed", "/new-feed", status=301)

    result = await fetch_once(feed_server.url("/old-feed"))

    assert (result.status, result.body) == ("ok", RSS)
    assert result.url == feed_server.url("/old-feed")
    assert result.final_url == feed_server.url("/new-feed")


async def test_redirect_chain_of_exactly_max_redirects_is_followed(feed_server):
    feed_server.add("/feed", RSS)
    feed_server.redirect("/r1", "/r2")
    feed_server.redirect("/r2", "/feed")

    result = await fetch_once(feed_server.url("/r1"), settings(max_redirects=2))

    assert result.status == "ok"
    assert result.final_url == feed_server.url("/feed")


async def test_redirect_chain_longer_than_max_redirects_is_an_error(feed_server):
    feed_server.add("/feed", RSS)
    feed_server.redirect("/r1", "/r2")
    feed_server.redirect("/r2", "/r3")
    feed_server.redirect("/r3", "/feed")

    result = await fetch_once(feed_server.url("/r1"), settings(max_redirects=2))

    assert result.status == "error"
    assert "too many redirects" in result.error
    assert feed_server.hits("/feed") == 0


async def test_redirect_loop_is_an_error_not_a_hang(feed_server):
    feed_server.redirect("/a", "/b", status=302)
    feed_server.redirect("/b", "/a", status=302)

    result = await fetch_once(feed_server.url("/a"))

    assert result.status == "error"
    assert "too many redirects" in result.error
    assert feed_server.hits("/a") + feed_server.hits("/b") == 6  # the first try and 5 redirects


# --- HTTP errors and the server's hints ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text"), [(404, "HTTP 404"), (500, "HTTP 500"), (403, "HTTP 403")]
)
async def test_http_error_status_is_an_error_naming_the_status(feed_server, status, text):
    feed_server.add("/feed", b"<html>nope</html>", status=status, content_type="text/html")

    result = await fetch_once(feed_server.url("/feed"))

    assert (result.status, result.http_status, result.body) == ("error", status, b"")
    assert text in result.error


async def test_unknown_path_is_http_404(feed_server):
    result = await fetch_once(feed_server.url("/missing"))

    assert result.status == "error"
    assert result.error == "HTTP 404 Not Found"


async def test_429_with_retry_after_seconds_passes_the_delay_on(feed_server):
    feed_server.add("/feed", b"slow down", status=429, headers={"Retry-After": "120"})

    result = await fetch_once(feed_server.url("/feed"))

    assert result.status == "error"
    assert "HTTP 429" in result.error
    assert result.retry_after == 120


async def test_retry_after_as_an_http_date_is_converted_to_seconds(feed_server):
    when = datetime.now(UTC) + timedelta(hours=2)
    feed_server.add(
        "/feed", b"busy", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )

    result = await fetch_once(feed_server.url("/feed"))

    assert result.status == "error"
    assert 7200 - 10 <= result.retry_after <= 7200


async def test_retry_after_date_in_the_past_means_no_wait(feed_server):
    feed_server.add(
        "/feed", b"busy", status=503, headers={"Retry-After": "Mon, 06 Jan 2025 10:00:00 GMT"}
    )

    result = await fetch_once(feed_server.url("/feed"))

    assert result.retry_after == 0


async def test_cache_control_max_age_is_passed_on(feed_server):
    feed_server.add("/feed", RSS, headers={"Cache-Control": "public, max-age=3600"})

    result = await fetch_once(feed_server.url("/feed"))

    assert (result.status, result.max_age) == ("ok", 3600)


async def test_no_cache_control_means_no_max_age(feed_server):
    feed_server.add("/feed", RSS, headers={"Cache-Control": "no-cache"})

    result = await fetch_once(feed_server.url("/feed"))

    assert (result.status, result.max_age, result.retry_after) == ("ok", None, None)


async def test_configured_user_agent_is_sent(feed_server):
    feed_server.add("/feed", RSS)
    agent = "newsdesk-test/9.9 (+mailto:admin@news.example)"

    await fetch_once(feed_server.url("/feed"), settings(user_agent=agent))

    assert feed_server.requests[0].headers["User-Agent"] == agent
    assert "application/rss+xml" in feed_server.requests[0].headers["Accept"]


# --- bounds: time and size ----------------------------------------------------------------------


async def test_trickling_body_is_cut_off_at_the_total_timeout(feed_server):
    # Each 100-byte piece arrives within the read timeout, so only the whole-fetch deadline helps.
    feed_server.add("/feed", RSS * 3, chunk_size=100, chunk_delay=0.4)
    slow = settings(timeout_seconds=2.0, total_timeout_seconds=0.8)

    started = time.monotonic()
    result = await fetch_once(feed_server.url("/feed"), slow)
    elapsed = time.monotonic() - started

    assert result.status == "error"
    assert "timed out" in result.error
    assert elapsed < 2.0


async def test_server_that_stalls_before_answering_times_out(feed_server):
    feed_server.add("/feed", RSS, delay=3.0)

    started = time.monotonic()
    result = await fetch_once(feed_server.url("/feed"), settings(timeout_seconds=0.3))

    assert result.status == "error"
    assert "timed out" in result.error
    assert time.monotonic() - started < 2.0


async def test_body_declared_larger_than_max_bytes_is_refused_without_reading_it(feed_server):
    # The body trickles: reading even the first 100 kB of it would take over a second.
    feed_server.add_huge(
        "/feed", 5_000_000, declare_length=True, chunk_size=64 * 1024, chunk_delay=1.0
    )

    started = time.monotonic()
    result = await fetch_once(feed_server.url("/feed"), settings(max_bytes=100_000))

    assert time.monotonic() - started < 0.5
    assert (result.status, result.body) == ("error", b"")
    assert "cap" in result.error
    assert "max_bytes" in result.error


async def test_chunked_body_without_length_is_cut_off_at_max_bytes(feed_server):
    feed_server.add_huge("/feed", 5_000_000, declare_length=False, chunk_size=16 * 1024)

    result = await fetch_once(feed_server.url("/feed"), settings(max_bytes=100_000))

    assert (result.status, result.body) == ("error", b"")
    assert "cap" in result.error
    assert "max_bytes" in result.error


async def test_body_just_under_max_bytes_is_accepted(feed_server):
    feed_server.add_huge("/feed", 99_000, declare_length=False)

    result = await fetch_once(feed_server.url("/feed"), settings(max_bytes=100_000))

    assert result.status == "ok"
    assert len(result.body) == 99_000


async def test_decompressed_size_counts_against_max_bytes(feed_server):
    # 1 MB of XML compresses to a few kB: a small download must not become a big body.
    bomb = RSS.replace(b"</channel>", b"<!--" + b" " * 1_000_000 + b"--></channel>")
    feed_server.add("/feed", bomb, gzip=True)
    assert len(gzip.compress(bomb)) < 100_000

    result = await fetch_once(feed_server.url("/feed"), settings(max_bytes=100_000))

    assert (result.status, result.body) == ("error", b"")
    assert "cap" in result.error


async def test_size_cap_error_states_a_small_cap_truthfully(feed_server):
    # An admin who set max_bytes = 20000 must not be told the cap is "0.0 MiB".
    feed_server.add_huge("/feed", 1_000_000, declare_length=True)

    result = await fetch_once(feed_server.url("/feed"), settings(max_bytes=20_000))

    assert result.status == "error"
    assert "max_bytes" in result.error
    assert "0.0 MiB" not in result.error


# --- concurrency --------------------------------------------------------------------------------


async def _three_slow_fetches(feed_server, per_host: int) -> float:
    for name in ("a", "b", "c"):
        feed_server.add(f"/{name}", RSS, delay=0.3)
    async with Fetcher(settings(per_host_concurrency=per_host)) as fetcher:
        started = time.monotonic()
        results = await asyncio.gather(
            *(fetcher.fetch(feed_server.url(f"/{name}")) for name in ("a", "b", "c"))
        )
        elapsed = time.monotonic() - started
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    return elapsed


async def test_per_host_concurrency_one_serialises_requests_to_a_host(feed_server):
    elapsed = await _three_slow_fetches(feed_server, per_host=1)

    arrivals = sorted(r.received_at for r in feed_server.requests)
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 3
    assert all(gap >= 0.28 for gap in gaps), gaps  # each waited for the previous 0.3 s answer
    assert elapsed >= 0.9


async def test_per_host_concurrency_three_lets_requests_overlap(feed_server):
    # The control for the test above: the server itself does not serialise.
    elapsed = await _three_slow_fetches(feed_server, per_host=3)

    arrivals = sorted(r.received_at for r in feed_server.requests)
    assert arrivals[-1] - arrivals[0] < 0.25
    assert elapsed < 0.8


# --- server-side request forgery guard ----------------------------------------------------------

GUARDED = FetchSettings(timeout_seconds=1.0, total_timeout_seconds=2.0)  # private networks off

LOOPBACK_URLS = [
    "http://127.0.0.1:{port}/feed",
    "http://localhost:{port}/feed",
    "http://[::1]:{port}/feed",
    "http://0.0.0.0:{port}/feed",  # Linux connects 0.0.0.0 to the local host
    "http://127.1:{port}/feed",  # inet_aton shorthand for 127.0.0.1
    "http://2130706433:{port}/feed",  # 127.0.0.1 as one decimal number
    "http://[::ffff:127.0.0.1]:{port}/feed",  # IPv4-mapped IPv6
]


@pytest.mark.parametrize("template", LOOPBACK_URLS)
async def test_untrusted_fetch_of_a_loopback_address_is_refused_before_connecting(
    feed_server, template
):
    feed_server.add("/feed", RSS)
    port = feed_server.base_url.rsplit(":", 1)[1]

    result = await fetch_once(template.format(port=port), GUARDED)

    assert result.status == "error"
    assert "private" in result.error
    assert "allow_private_networks" in result.error
    assert feed_server.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_trusted_fetch_may_reach_the_loopback_server(feed_server, host):
    feed_server.add("/feed", RSS)
    port = feed_server.base_url.rsplit(":", 1)[1]

    result = await fetch_once(f"http://{host}:{port}/feed", GUARDED, trusted=True)

    assert (result.status, result.body) == ("ok", RSS)
    assert feed_server.hits("/feed") == 1


async def test_allow_private_networks_lets_untrusted_fetches_reach_loopback(feed_server):
    feed_server.add("/feed", RSS)

    result = await fetch_once(feed_server.url("/feed"), settings(allow_private_networks=True))

    assert result.status == "ok"


async def test_refused_address_does_not_use_up_the_host_slot(feed_server):
    # A refused fetch must release its per-host semaphore, or the next trusted one would hang.
    feed_server.add("/feed", RSS)
    async with Fetcher(GUARDED.model_copy(update={"per_host_concurrency": 1})) as fetcher:
        refused = await fetcher.fetch(feed_server.url("/feed"))
        allowed = await fetcher.fetch(feed_server.url("/feed"), trusted=True)

    assert (refused.status, allowed.status) == ("error", "ok")


class _Tripwire(httpcore.AsyncNetworkBackend):
    """Stands where the real network would be: records what it was asked to reach, never
    connects. The guard is tested in front of it, so a broken guard cannot send a packet."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.attempts.append((host, port))
        raise httpcore.ConnectError("tripwire: no connections from this test")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def guard_with_tripwire() -> tuple[PublicOnlyBackend, _Tripwire]:
    backend = PublicOnlyBackend()
    tripwire = _Tripwire()
    backend._inner = tripwire  # the connection the guard would make goes to the tripwire
    return backend, tripwire


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "169.254.169.254", "192.168.1.1", "172.16.0.1", "fe80::1", "100.64.0.1"],
)
async def test_guard_refuses_private_and_link_local_hosts_without_connecting(host):
    backend, tripwire = guard_with_tripwire()

    with pytest.raises(BlockedAddressError, match="private"):
        await backend.connect_tcp(host, 80, timeout=1.0)

    assert tripwire.attempts == []


async def test_guard_resolves_names_before_checking_them():
    backend, tripwire = guard_with_tripwire()

    with pytest.raises(BlockedAddressError, match="refused to connect to localhost"):
        await backend.connect_tcp("localhost", 80, timeout=1.0)

    assert tripwire.attempts == []


async def test_guard_connects_to_the_address_it_checked():
    backend, tripwire = guard_with_tripwire()

    with pytest.raises(httpcore.ConnectError, match="tripwire"):
        await backend.connect_tcp("8.8.8.8", 443, timeout=1.0)

    assert tripwire.attempts == [("8.8.8.8", 443)]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("169.254.169.254", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(address) is public


# --- fetch never raises -------------------------------------------------------------------------


async def test_connection_refused_is_an_error_result_naming_the_problem():
    result = await fetch_once(f"http://127.0.0.1:{closed_port()}/feed")

    assert result.status == "error"
    assert result.error.startswith("cannot connect")
    assert result.http_status is None


async def test_non_http_url_is_an_error_result():
    result = await fetch_once("ftp://127.0.0.1/feed")

    assert result.status == "error"
    assert "protocol" in result.error


async def test_url_httpx_cannot_parse_is_an_error_result_not_an_exception():
    # An unbalanced IPv6 bracket: httpx raises InvalidURL, which is not an httpx.HTTPError.
    result = await fetch_once("http://[::1/feed")

    assert result.status == "error"
    assert result.error


async def test_url_with_a_control_character_is_an_error_result_not_an_exception(feed_server):
    # canonical_url accepts this URL (so config validation and `feeds add` do), httpx does not.
    url = feed_server.url("/feed") + "\x00"
    assert canonical_url(url) is not None

    result = await fetch_once(url)

    assert result.status == "error"
    assert result.error
