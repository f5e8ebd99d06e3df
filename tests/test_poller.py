"""When each feed is polled next, and what one polling pass leaves in the archive.

The schedule functions are pure, so they are checked table by table with a seeded RNG: a healthy
feed comes back after its interval, stretched to what the server asks (max-age, <ttl>) but within
the configured floor and ceiling; a failing feed backs off 5, 10, 20, 40 minutes, honours
Retry-After and, once dead, is still tried daily.

`poll_feeds` is run end to end against the loopback feed server with a real SQLite archive and a
fixed clock, and the tests assert what an admin sees afterwards: the stored items and stories,
each feed's error count, last error and next poll time. The promises checked are that an
unchanged feed costs no download, that one broken feed never stops or spoils the others, that
recovery clears the error, that edits update items in place, that the first poll's items are
backfill, and that the same article from two feeds becomes one story.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

import pytest

from newsdesk.config import FetchSettings
from newsdesk.feeds.canonical import canonical_url
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.poller import (
    BACKOFF_BASE_MINUTES,
    DEAD_AFTER_FAILURES,
    next_poll_after_failure,
    next_poll_after_success,
    poll_feeds,
)
from tests.conftest import NOW
from tests.servers.feed_server import feed_server

# Listing the imported fixture as used keeps ruff from reading the test parameters as F811.
__all__ = ["feed_server"]

DEFAULTS = FetchSettings()  # interval 60, floor 10, ceiling 1440, dead-feed interval 1440


def rss(title: str, items: list[tuple[str, str, str, str]], *, ttl: int | None = None) -> bytes:
    """An RSS 2.0 document from (guid, link, title, description) tuples."""
    entries = "".join(
        f'<item><guid isPermaLink="false">{escape(guid)}</guid><link>{escape(link)}</link>'
        f"<title>{escape(text)}</title><description>{escape(description)}</description></item>"
        for guid, link, text, description in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://{title.lower().replace(' ', '-')}.example/"
        f"</link><description>test</description>{ttl_tag}{entries}</channel></rss>"
    ).encode()


ALPHA = rss(
    "Alpha News",
    [
        ("a-1", "https://alpha.example/1", "Alpha one", "The first alpha story."),
        ("a-2", "https://alpha.example/2", "Alpha two", "The second alpha story."),
    ],
)
BETA = rss(
    "Beta Wire",
    [
        ("b-1", "https://beta.example/1", "Beta one", "The first beta story."),
        ("b-2", "https://beta.example/2", "Beta two", "The second beta story."),
        ("b-3", "https://beta.example/3", "Beta three", "The third beta story."),
    ],
)


def minutes_after(moment: datetime, minutes: float) -> datetime:
    return moment + timedelta(minutes=minutes)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def fetcher(loopback_settings):
    async with Fetcher(loopback_settings) as client:
        yield client


def at(moment: datetime) -> Callable[[], datetime]:
    """A fixed clock for `poll_feeds(now=...)`."""
    return lambda: moment


def items_by_guid(store) -> dict[str, dict]:
    return {row["guid"]: row for row in store.db.query("SELECT * FROM items")}


# --- next_poll_after_success --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "kwargs", "expected_minutes"),
    [
        ("default interval", {}, 60),
        ("the feed's own interval", {"interval_minutes": 30}, 30),
        ("max-age longer than the interval", {"max_age_seconds": 3 * 3600}, 180),
        ("max-age shorter than the interval", {"max_age_seconds": 60}, 60),
        ("ttl longer than the interval", {"ttl_minutes": 240}, 240),
        ("ttl shorter than the interval", {"ttl_minutes": 15}, 60),
        ("max-age and ttl: the longer", {"max_age_seconds": 7200, "ttl_minutes": 300}, 300),
        ("own interval below the floor", {"interval_minutes": 1}, 10),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_next_poll_after_success_is_the_interval_plus_at_most_ten_percent(
    case, kwargs, expected_minutes, seed
):
    next_at = next_poll_after_success(DEFAULTS, NOW, rng=random.Random(seed), **kwargs)

    low = minutes_after(NOW, expected_minutes)
    high = minutes_after(NOW, expected_minutes * 1.1)
    assert low <= next_at <= high, case


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_age_seconds": 7 * 24 * 3600},
        {"ttl_minutes": 7 * 24 * 60},
        {"interval_minutes": 7 * 24 * 60},
    ],
    ids=["max-age of a week", "ttl of a week", "own interval of a week"],
)
def test_server_hint_beyond_the_ceiling_never_delays_past_max_interval(kwargs):
    # The module promises a healthy feed returns "never later than the configured ceiling".
    next_at = next_poll_after_success(DEFAULTS, NOW, rng=random.Random(0), **kwargs)

    assert next_at <= minutes_after(NOW, DEFAULTS.max_interval_minutes)
    assert next_at >= minutes_after(NOW, DEFAULTS.max_interval_minutes * 0.9)


def test_next_poll_after_success_respects_configured_floor_and_ceiling():
    custom = FetchSettings(interval_minutes=5, min_interval_minutes=20, max_interval_minutes=120)

    floor = next_poll_after_success(custom, NOW, rng=random.Random(0))
    own = next_poll_after_success(custom, NOW, interval_minutes=90, rng=random.Random(0))

    assert minutes_after(NOW, 20) <= floor <= minutes_after(NOW, 22)
    assert minutes_after(NOW, 90) <= own <= minutes_after(NOW, 99)


def test_success_jitter_spreads_feeds_across_the_ten_percent_window():
    rng = random.Random(0)
    offsets = [
        (next_poll_after_success(DEFAULTS, NOW, rng=rng) - NOW) / timedelta(minutes=1)
        for _ in range(200)
    ]

    assert all(60 <= offset <= 66 for offset in offsets)
    assert max(offsets) - min(offsets) > 4  # not all at one instant


# --- next_poll_after_failure --------------------------------------------------------------------


@pytest.mark.parametrize(("failures", "base"), [(1, 5), (2, 10), (3, 20), (4, 40), (5, 80)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_failure_backoff_doubles_from_five_minutes_with_up_to_25_percent_jitter(
    failures, base, seed
):
    next_at = next_poll_after_failure(DEFAULTS, NOW, failures=failures, rng=random.Random(seed))

    assert minutes_after(NOW, base) <= next_at <= minutes_after(NOW, base * 1.25)
    assert base == BACKOFF_BASE_MINUTES * 2 ** (failures - 1)


def test_retry_after_longer_than_the_backoff_wins():
    next_at = next_poll_after_failure(
        DEFAULTS, NOW, failures=1, retry_after_seconds=7200, rng=random.Random(0)
    )

    assert next_at == minutes_after(NOW, 120)


def test_retry_after_shorter_than_the_backoff_does_not_shorten_it():
    next_at = next_poll_after_failure(
        DEFAULTS, NOW, failures=3, retry_after_seconds=60, rng=random.Random(0)
    )

    assert minutes_after(NOW, 20) <= next_at <= minutes_after(NOW, 25)


def test_retry_after_is_capped_at_the_ceiling():
    next_at = next_poll_after_failure(
        DEFAULTS, NOW, failures=1, retry_after_seconds=30 * 24 * 3600, rng=random.Random(0)
    )

    assert next_at == minutes_after(NOW, 1440)


def test_long_backoff_is_capped_at_the_ceiling():
    # 5 * 2**8 = 1280 minutes, plus jitter, would pass 1440.
    for seed in range(20):
        next_at = next_poll_after_failure(
            DEFAULTS, NOW, failures=DEAD_AFTER_FAILURES - 1, rng=random.Random(seed)
        )
        assert minutes_after(NOW, 1280) <= next_at <= minutes_after(NOW, 1440)


@pytest.mark.parametrize("extra", [0, 1, 50])
def test_a_dead_feed_is_still_polled_at_the_dead_feed_interval(extra):
    custom = FetchSettings(dead_feed_interval_minutes=2000, max_interval_minutes=600)

    next_at = next_poll_after_failure(
        custom, NOW, failures=DEAD_AFTER_FAILURES + extra, rng=random.Random(0)
    )

    assert next_at == minutes_after(NOW, 2000)


# --- poll_feeds end to end ----------------------------------------------------------------------


async def test_second_poll_of_unchanged_feeds_downloads_no_body(feed_server, store, fetcher):
    feed_server.add("/alpha", ALPHA)  # answers If-None-Match
    feed_server.add("/beta", BETA, etag=None, last_modified="Mon, 06 Jan 2025 10:00:00 GMT")
    store.add_feed(feed_server.url("/alpha"), now=NOW)
    store.add_feed(feed_server.url("/beta"), now=NOW)

    first = await poll_feeds(store, fetcher, store.list_feeds(), now=at(NOW))
    later = minutes_after(NOW, 120)
    second = await poll_feeds(store, fetcher, store.due_feeds(later), now=at(later))

    assert [o.status for o in first] == ["new", "new"]
    assert [o.status for o in second] == ["not_modified", "not_modified"]
    assert feed_server.bodies_sent("/alpha") == 1
    assert feed_server.bodies_sent("/beta") == 1
    assert store.counts() == {"feeds": 2, "items": 5, "stories": 5}
    for feed in store.list_feeds():
        assert feed.last_success_at == later
        assert minutes_after(later, 60) <= feed.next_poll_at <= minutes_after(later, 66)


async def test_first_poll_stores_every_item_and_the_validators(feed_server, store, fetcher):
    feed_server.add("/alpha", ALPHA, last_modified="Mon, 06 Jan 2025 10:00:00 GMT")
    store.add_feed(feed_server.url("/alpha"), now=NOW)

    [outcome] = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    feed = store.find_feed(feed_server.url("/alpha"))
    assert (outcome.status, outcome.counts.new) == ("new", 2)
    assert (feed.title, feed.item_count, feed.error_count) == ("Alpha News", 2, 0)
    assert feed.etag == feed_server.etag("/alpha")
    assert feed.last_modified == "Mon, 06 Jan 2025 10:00:00 GMT"
    assert {s.title for s in store.recent_stories()} == {"Alpha one", "Alpha two"}


def broken_feed(feed_server, kind: str) -> tuple[str, str]:
    """A broken feed's URL and a phrase its recorded error must contain."""
    if kind == "http 500":
        feed_server.add("/broken", b"<h1>Internal error</h1>", status=500, content_type="text/html")
        return feed_server.url("/broken"), "HTTP 500"
    if kind == "html page":
        page = b"<!doctype html><html><head><title>Sign in</title></head><body>Log in</body></html>"
        feed_server.add("/broken", page, content_type="text/html; charset=utf-8")
        return feed_server.url("/broken"), "feed"
    assert kind == "connection refused"
    return f"http://127.0.0.1:{closed_port()}/feed", "cannot connect"


@pytest.mark.parametrize("kind", ["http 500", "html page", "connection refused"])
async def test_one_broken_feed_fails_alone_and_backs_off(feed_server, store, fetcher, kind):
    feed_server.add("/alpha", ALPHA)
    feed_server.add("/beta", BETA)
    store.add_feed(feed_server.url("/alpha"), now=NOW)
    broken_url, reason = broken_feed(feed_server, kind)
    store.add_feed(broken_url, now=NOW)
    store.add_feed(feed_server.url("/beta"), now=NOW)

    outcomes = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    assert [o.status for o in outcomes] == ["new", "failed", "new"]
    assert reason in outcomes[1].error
    assert store.counts() == {"feeds": 3, "items": 5, "stories": 5}
    broken = store.find_feed(broken_url)
    assert broken.error_count == 1
    assert reason in broken.last_error
    assert broken.item_count == 0
    assert minutes_after(NOW, 5) <= broken.next_poll_at <= minutes_after(NOW, 6.25)
    for url in (feed_server.url("/alpha"), feed_server.url("/beta")):
        good = store.find_feed(url)
        assert (good.error_count, good.last_error) == (0, None)

    retry = broken.next_poll_at
    assert [f.url for f in store.due_feeds(retry)] == [broken_url]
    [again] = await poll_feeds(store, fetcher, store.due_feeds(retry), now=at(retry))

    broken = store.find_feed(broken_url)
    assert again.status == "failed"
    assert broken.error_count == 2
    assert reason in broken.last_error
    assert minutes_after(retry, 10) <= broken.next_poll_at <= minutes_after(retry, 12.5)


async def test_429_with_retry_after_puts_the_next_poll_hours_ahead(feed_server, store, fetcher):
    feed_server.add("/feed", b"Too many requests", status=429, headers={"Retry-After": "7200"})
    store.add_feed(feed_server.url("/feed"), now=NOW)

    [outcome] = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    feed = store.find_feed(feed_server.url("/feed"))
    assert outcome.status == "failed"
    assert "HTTP 429" in feed.last_error
    assert feed.next_poll_at >= minutes_after(NOW, 120)
    assert store.due_feeds(minutes_after(NOW, 119)) == []


async def test_a_feed_that_recovers_has_its_error_cleared(feed_server, store, fetcher):
    feed_server.add("/feed", b"oops", status=500, content_type="text/plain")
    store.add_feed(feed_server.url("/feed"), now=NOW)
    await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))
    assert store.find_feed(feed_server.url("/feed")).error_count == 1

    feed_server.add("/feed", ALPHA)
    later = minutes_after(NOW, 10)
    [outcome] = await poll_feeds(store, fetcher, store.due_feeds(later), now=at(later))

    feed = store.find_feed(feed_server.url("/feed"))
    assert outcome.status == "new"
    assert (feed.error_count, feed.last_error) == (0, None)
    assert feed.item_count == 2
    assert minutes_after(later, 60) <= feed.next_poll_at <= minutes_after(later, 66)


async def test_edited_and_new_items_are_counted_and_backfill_is_marked(feed_server, store, fetcher):
    feed_server.add("/feed", ALPHA)
    store.add_feed(feed_server.url("/feed"), now=NOW)
    [first] = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    feed_server.set_body(
        "/feed",
        rss(
            "Alpha News",
            [
                ("a-1", "https://alpha.example/1", "Alpha one", "The first alpha story."),
                (
                    "a-2",
                    "https://alpha.example/2",
                    "Alpha two (corrected)",
                    "The second alpha story.",
                ),
                ("a-3", "https://alpha.example/3", "Alpha three", "A brand new story."),
            ],
        ),
    )
    later = minutes_after(NOW, 90)
    [second] = await poll_feeds(store, fetcher, store.due_feeds(later), now=at(later))

    assert (first.counts.new, first.counts.updated) == (2, 0)
    assert second.status == "new"
    assert (second.counts.new, second.counts.updated, second.counts.unchanged) == (1, 1, 1)
    items = items_by_guid(store)
    assert items["a-2"]["title"] == "Alpha two (corrected)"
    assert items["a-2"]["first_seen"] == "2026-11-23T12:00:00Z"  # the edit is not news
    assert items["a-3"]["first_seen"] == "2026-11-23T13:30:00Z"
    assert {guid: row["is_backfill"] for guid, row in items.items()} == {
        "a-1": 1,
        "a-2": 1,
        "a-3": 0,
    }
    assert store.counts() == {"feeds": 1, "items": 3, "stories": 3}


async def test_unchanged_body_without_validators_counts_items_unchanged(
    feed_server, store, fetcher
):
    feed_server.add("/feed", ALPHA, etag=None)  # a server with no ETag and no Last-Modified
    store.add_feed(feed_server.url("/feed"), now=NOW)
    await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    later = minutes_after(NOW, 90)
    [second] = await poll_feeds(store, fetcher, store.due_feeds(later), now=at(later))

    assert second.status == "unchanged"
    assert (second.counts.new, second.counts.updated, second.counts.unchanged) == (0, 0, 2)
    assert feed_server.bodies_sent("/feed") == 2


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml; charset=utf-8",
        "text/xml",
        # Misconfigured but common (GitHub raw serves text/plain): the same feed with items
        # polls fine under these types, so the empty one must too.
        "text/html; charset=utf-8",
        "text/plain; charset=utf-8",
    ],
)
async def test_a_valid_empty_feed_is_a_success_with_no_items(
    feed_server, store, fetcher, content_type
):
    feed_server.add("/feed", rss("Quiet Blog", []), content_type=content_type)
    store.add_feed(feed_server.url("/feed"), now=NOW)

    [outcome] = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    feed = store.find_feed(feed_server.url("/feed"))
    assert outcome.status == "unchanged"
    assert (feed.error_count, feed.last_error, feed.item_count) == (0, None, 0)
    assert feed.last_success_at == NOW
    assert minutes_after(NOW, 60) <= feed.next_poll_at <= minutes_after(NOW, 66)


async def test_a_feed_with_items_served_as_text_html_polls_fine(feed_server, store, fetcher):
    # The control for the empty-feed cases above.
    feed_server.add("/feed", ALPHA, content_type="text/html; charset=utf-8")
    store.add_feed(feed_server.url("/feed"), now=NOW)

    [outcome] = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    assert (outcome.status, outcome.counts.new) == ("new", 2)


async def test_same_article_in_two_feeds_becomes_one_story(feed_server, store, fetcher):
    feed_server.add(
        "/wire",
        rss(
            "Wire",
            [("w-1", "https://lab.example/post", "Lab ships model", "Wire's write-up of it.")],
        ),
    )
    feed_server.add(
        "/blog",
        rss(
            "Blog",
            [
                (
                    "b-1",
                    "https://lab.example/post?utm_source=x#frag",
                    "The lab shipped a model",
                    "A different summary of the same launch.",
                )
            ],
        ),
    )
    store.add_feed(feed_server.url("/wire"), now=NOW)
    store.add_feed(feed_server.url("/blog"), now=NOW)

    await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    assert store.counts() == {"feeds": 2, "items": 2, "stories": 1}
    [story] = store.recent_stories()
    assert sorted(story.sources) == ["Blog", "Wire"]
    assert story.item_count == 2
    assert canonical_url(story.url) == "https://lab.example/post"


async def test_polled_feed_is_due_again_after_its_interval_not_before(feed_server, store, fetcher):
    feed_server.add("/feed", ALPHA, headers={"Cache-Control": "max-age=7200"})
    store.add_feed(feed_server.url("/feed"), now=NOW)
    assert len(store.due_feeds(NOW)) == 1  # a new feed is due at once

    [outcome] = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    # max-age 7200 s stretches the 60-minute interval to 120 minutes, plus up to 10% jitter.
    assert minutes_after(NOW, 120) <= outcome.next_poll_at <= minutes_after(NOW, 132)
    assert store.due_feeds(NOW) == []
    assert store.due_feeds(minutes_after(NOW, 120) - timedelta(seconds=1)) == []
    assert [f.url for f in store.due_feeds(outcome.next_poll_at)] == [feed_server.url("/feed")]
    assert len(store.due_feeds(minutes_after(NOW, 132))) == 1


async def test_ttl_in_the_feed_stretches_the_interval(feed_server, store, fetcher):
    feed_server.add(
        "/feed", rss("Slow Blog", [("s-1", "https://s.example/1", "One", "x")], ttl=180)
    )
    store.add_feed(feed_server.url("/feed"), now=NOW)

    [outcome] = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    assert outcome.status == "new"
    assert minutes_after(NOW, 180) <= outcome.next_poll_at <= minutes_after(NOW, 198)


def test_a_paused_feed_is_not_due(store):
    paused = store.add_feed("https://paused.example/feed", now=NOW)
    active = store.add_feed("https://active.example/feed", now=NOW)

    store.set_paused(paused.id, True)

    assert [f.id for f in store.due_feeds(NOW)] == [active.id]
    assert [f.id for f in store.due_feeds(minutes_after(NOW, 10_000))] == [active.id]
    store.set_paused(paused.id, False)
    assert [f.id for f in store.due_feeds(NOW)] == [paused.id, active.id]


async def test_a_feed_url_httpx_rejects_does_not_stop_the_pass(feed_server, store, fetcher):
    # canonical_url accepts it, so it can come from the config or `feeds add`.
    feed_server.add("/alpha", ALPHA)
    bad_url = feed_server.url("/feed") + "\x00"
    assert canonical_url(bad_url) is not None
    store.add_feed(feed_server.url("/alpha"), now=NOW)
    store.add_feed(bad_url, now=NOW)

    outcomes = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=at(NOW))

    assert [o.status for o in outcomes] == ["new", "failed"]
    assert store.find_feed(feed_server.url("/alpha")).item_count == 2
    bad = store.find_feed(bad_url)
    assert bad.error_count == 1
    assert bad.last_error
