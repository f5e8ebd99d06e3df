"""Self-tests for the feed test server: the fetcher's tests are only as honest as it is."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.servers.feed_server import FeedServer, feed_server

# Listing the imported fixture as used keeps ruff from reading the test parameters as F811.
__all__ = ["feed_server"]

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
LAST_MODIFIED = "Mon, 06 Jan 2025 10:00:00 GMT"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def test_etag_round_trip_answers_304_without_resending_the_body(feed_server, client):
    feed_server.add("/feed", RSS)
    first = client.get(feed_server.url("/feed"))
    etag = first.headers["ETag"]

    second = client.get(feed_server.url("/feed"), headers={"If-None-Match": f'W/{etag}, "x"'})

    assert (first.status_code, first.content) == (200, RSS)
    assert (second.status_code, second.content) == (304, b"")
    assert second.headers["ETag"] == etag
    assert feed_server.hits("/feed") == 2
    assert feed_server.bodies_sent("/feed") == 1


def test_changed_body_gets_a_new_etag_and_is_sent_again(feed_server, client):
    feed_server.add("/feed", RSS)
    old = client.get(feed_server.url("/feed")).headers["ETag"]
    feed_server.set_body("/feed", RSS.replace(b"<title>t", b"<title>u"))

    response = client.get(feed_server.url("/feed"), headers={"If-None-Match": old})

    assert response.status_code == 200
    assert response.headers["ETag"] != old
    assert feed_server.bodies_sent("/feed") == 2


def test_if_modified_since_not_older_answers_304(feed_server, client):
    feed_server.add("/feed", RSS, etag=None, last_modified=LAST_MODIFIED)

    same = client.get(feed_server.url("/feed"), headers={"If-Modified-Since": LAST_MODIFIED})
    older = client.get(
        feed_server.url("/feed"), headers={"If-Modified-Since": "Sun, 05 Jan 2025 10:00:00 GMT"}
    )

    assert same.status_code == 304
    assert "ETag" not in same.headers
    assert older.status_code == 200
    assert older.headers["Last-Modified"] == LAST_MODIFIED


def test_gzip_is_served_only_to_clients_that_accept_it(feed_server, client):
    feed_server.add("/feed", RSS * 50, gzip=True)

    zipped = client.get(feed_server.url("/feed"))  # httpx asks for gzip by default
    raw = client.get(feed_server.url("/feed"), headers={"Accept-Encoding": "gzip;q=0, *"})

    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert int(zipped.headers["Content-Length"]) < len(RSS * 50)
    assert zipped.content == RSS * 50
    assert "Content-Encoding" not in raw.headers
    assert raw.content == RSS * 50


def test_redirect_is_followed_and_a_loop_is_detected(feed_server):
    feed_server.add("/new", RSS)
    feed_server.redirect("/old", "/new", status=301)
    feed_server.redirect("/a", feed_server.url("/b"), status=302)
    feed_server.redirect("/b", "/a", status=307)

    with httpx.Client(timeout=5, follow_redirects=True, max_redirects=5) as client:
        moved = client.get(feed_server.url("/old?x=1"))
        with pytest.raises(httpx.TooManyRedirects):
            client.get(feed_server.url("/a"))

    assert moved.status_code == 200
    assert [r.status_code for r in moved.history] == [301]
    assert feed_server.requests[0].path == "/old?x=1"
    assert feed_server.hits("/a") + feed_server.hits("/b") == 6


def test_error_statuses_carry_their_headers_and_unknown_paths_are_404(feed_server, client):
    feed_server.add("/busy", b"", status=429, headers={"Retry-After": "120"})
    feed_server.add("/gone", RSS)
    feed_server.remove("/gone")

    busy = client.get(feed_server.url("/busy"))

    assert busy.status_code == 429
    assert busy.headers["Retry-After"] == "120"
    assert "ETag" not in busy.headers
    assert client.get(feed_server.url("/gone")).status_code == 404
    assert client.get(feed_server.url("/nowhere")).status_code == 404
    assert [r.status for r in feed_server.requests] == [429, 404, 404]


def test_slow_body_trickles_in_after_prompt_headers(feed_server, client):
    feed_server.add("/slow", b"x" * 400, chunk_size=100, chunk_delay=0.1)

    started = time.monotonic()
    response = client.get(feed_server.url("/slow"))
    elapsed = time.monotonic() - started

    assert response.content == b"x" * 400
    assert elapsed >= 4 * 0.1


def test_slow_response_does_not_block_other_requests(feed_server, client):
    feed_server.add("/stuck", RSS, delay=0.6)
    feed_server.add("/feed", RSS)
    slow = threading.Thread(target=httpx.get, args=(feed_server.url("/stuck"),))
    slow.start()

    started = time.monotonic()
    assert client.get(feed_server.url("/feed")).status_code == 200
    assert time.monotonic() - started < 0.3
    slow.join()


@pytest.mark.parametrize("declare_length", [True, False])
def test_huge_body_can_be_abandoned_without_hurting_the_server(feed_server, declare_length):
    feed_server.add_huge("/huge", 500_000_000, declare_length=declare_length)
    feed_server.add("/feed", RSS)
    received = b""

    with httpx.Client(timeout=5) as client:
        with client.stream("GET", feed_server.url("/huge")) as response:
            for chunk in response.iter_raw():
                received += chunk
                if len(received) > 1_000_000:
                    break
        headers = response.headers

    assert received.startswith(b'<?xml version="1.0"') and b"<item><title>Item 0<" in received
    assert ("Content-Length" in headers) is declare_length
    assert (headers.get("Transfer-Encoding") == "chunked") is not declare_length
    assert httpx.get(feed_server.url("/feed")).status_code == 200
    deadline = time.monotonic() + 2
    while feed_server.open_connections() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert feed_server.open_connections() == 0
    assert feed_server.errors == []


def test_stop_returns_promptly_while_a_slow_body_is_mid_stream():
    server = FeedServer().start()
    server.add("/slow", b"x" * 100, chunk_size=1, chunk_delay=0.5)

    with httpx.Client(timeout=5) as client, client.stream("GET", server.url("/slow")) as response:
        assert response.status_code == 200
        started = time.monotonic()
        server.stop()
        stop_took = time.monotonic() - started
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()

    assert stop_took < 2
    assert server.errors == []
