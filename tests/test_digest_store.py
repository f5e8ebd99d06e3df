"""The archive's side of digests: when a story became news, a period's stories, weekly tag
counts for trends, where the last digest ended, and the summary cache. Real SQLite files."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import newsdesk.store as store_module
from newsdesk.feeds.canonical import content_hash
from newsdesk.models import Item, ParsedFeed
from newsdesk.store import MIGRATIONS, Store, to_iso
from tests.conftest import NOW

DAY = timedelta(days=1)


def item(guid: str, title: str, *, published=None, url=None, tags=()) -> Item:
    return Item(
        guid=guid,
        url=url or f"https://news.example/{guid}",
        title=title,
        summary=f"{title} in detail.",
        author=None,
        published=published,
        content_hash=content_hash(title, f"{title} in detail."),
        tags=frozenset(tags),
    )


def save(store: Store, feed_id: int, *items: Item, now=NOW, backfill=False) -> None:
    store.save_items(
        feed_id,
        ParsedFeed(title="Feed", link=None, items=list(items)),
        now=now,
        next_poll_at=now + DAY,
        backfill=backfill,
    )


def test_a_polled_story_is_news_when_first_seen_whatever_date_the_feed_gives(store):
    feed = store.add_feed("https://a.example/feed")
    save(store, feed.id, item("1", "Old post resurfaces", published=NOW - 30 * DAY))
    [story] = store.stories_between(NOW - DAY, NOW + DAY)
    assert story.news_at == NOW


def test_a_backfilled_story_is_news_when_it_was_published_never_later_than_seen(store):
    feed = store.add_feed("https://a.example/feed")
    save(
        store,
        feed.id,
        item("1", "Last month", published=NOW - 30 * DAY),
        item("2", "Dated in the future", published=NOW + 5 * DAY),
        item("3", "Undated"),
        backfill=True,
    )
    news_at = {s.title: s.news_at for s in store.stories_between(NOW - 60 * DAY, NOW + 60 * DAY)}
    assert news_at == {"Last month": NOW - 30 * DAY, "Dated in the future": NOW, "Undated": NOW}


def test_a_story_keeps_the_earliest_moment_any_of_its_items_became_news(store):
    old = store.add_feed("https://a.example/feed")
    new = store.add_feed("https://b.example/feed")
    save(store, old.id, item("1", "DeepSeek V4", url="https://x.example/v4"), now=NOW - 2 * DAY)
    save(store, new.id, item("9", "DeepSeek V4!", url="https://x.example/v4"), now=NOW)
    [story] = store.stories_between(NOW - 7 * DAY, NOW + DAY)
    assert story.news_at == NOW - 2 * DAY and story.item_count == 2
    # Removing the first feed leaves the story dated by the item that is left.
    store.remove_feed(old.id)
    [story] = store.stories_between(NOW - 7 * DAY, NOW + DAY)
    assert story.news_at == NOW


def test_consecutive_periods_split_the_stories_without_overlap(store):
    feed = store.add_feed("https://a.example/feed")
    for day in range(14):
        save(store, feed.id, item(str(day), f"Day {day}"), now=NOW - day * DAY)
    week1 = store.stories_between(NOW - 14 * DAY, NOW - 7 * DAY)
    week2 = store.stories_between(NOW - 7 * DAY, NOW + DAY)
    assert len(week1) + len(week2) == 14
    assert not {s.id for s in week1} & {s.id for s in week2}
    assert [s.title for s in week2][-1] == "Day 0"  # oldest first


def test_a_story_without_a_representative_link_gets_another_items_link(store):
    first = store.add_feed("https://a.example/feed")
    second = store.add_feed("https://b.example/feed")
    no_link = replace(item("1", "Same words", published=NOW - DAY), url=None)
    linked = item("2", "Same words", published=NOW)
    save(store, first.id, no_link)
    save(store, second.id, linked)
    [story] = store.stories_between(NOW - DAY, NOW + DAY)
    assert story.url == "https://news.example/2"


def test_weekly_tag_counts_count_stories_per_week_oldest_first(store):
    feed = store.add_feed("https://a.example/feed")
    for n, days_ago in enumerate([0.5, 1, 2, 8, 9, 22, 70]):
        save(
            store,
            feed.id,
            item(str(n), f"Hire {n}", tags={"talent"} | ({"funding"} if n == 0 else set())),
            now=NOW - days_ago * DAY,
        )
    counts = store.weekly_tag_counts(["talent", "funding", "policy"], NOW, weeks=4)
    assert counts == {"talent": [1, 0, 2, 3], "funding": [0, 0, 0, 1], "policy": [0, 0, 0, 0]}


def test_last_digest_end_is_where_the_last_sent_digest_of_that_subscription_ended(store):
    assert store.last_digest_end("team") is None
    store.db.execute(
        "INSERT INTO subscriptions (id, name, platform, channel, schedule, timezone, created_at)"
        " VALUES (1, 'team', 'slack', 'C1', '0 9 * * mon', 'UTC', ?)",
        [to_iso(NOW)],
    )
    for end, state in [(NOW - 7 * DAY, "sent"), (NOW, "failed")]:
        store.db.execute(
            "INSERT INTO digests (subscription_id, period_start, period_end, state, created_at)"
            " VALUES (1, ?, ?, ?, ?)",
            [to_iso(end - 7 * DAY), to_iso(end), state, to_iso(NOW)],
        )
    assert store.last_digest_end("team") == NOW - 7 * DAY
    assert store.last_digest_end("other") is None


def test_summary_cache_round_trips_json_and_finds_many_keys_at_once(store):
    for n in range(1200):  # more than one statement's worth of parameters
        store.save_summary(
            f"k{n}",
            {"summary": f"第{n}条", "why_it_matters": ""},
            kind="story",
            model="m",
            language="zh",
            prompt_version=1,
        )
    found = store.cached_summaries([f"k{n}" for n in range(0, 1300, 100)])
    assert len(found) == 12
    assert found["k700"] == {"summary": "第700条", "why_it_matters": ""}


def test_an_archive_from_schema_2_gets_news_times_on_upgrade(tmp_path):
    path = tmp_path / "old.sqlite"
    with _open_at(path, 2) as old:
        feed = old.add_feed("https://a.example/feed")
        old.db.execute(
            "INSERT INTO stories (id, first_seen, last_seen, item_count) VALUES (1, ?, ?, 1)",
            [to_iso(NOW), to_iso(NOW)],
        )
        old.db.execute(
            "INSERT INTO items (feed_id, guid, title, summary, published, first_seen,"
            " content_hash, story_id, is_backfill) VALUES (?, 'g', 'T', '', ?, ?, 'h', 1, 1)",
            [feed.id, to_iso(NOW - 3 * DAY), to_iso(NOW)],
        )
        old.db.execute("UPDATE stories SET representative_item_id = 1")
    with Store.open(path) as upgraded:
        assert upgraded.schema_version == len(MIGRATIONS)
        [story] = upgraded.stories_between(NOW - 7 * DAY, NOW)
        assert story.news_at == NOW - 3 * DAY


def _open_at(path, version: int) -> Store:
    """A store migrated only up to `version`, as an older newsdesk left it."""
    saved = store_module.MIGRATIONS
    store_module.MIGRATIONS = saved[:version]
    try:
        return Store.open(path)
    finally:
        store_module.MIGRATIONS = saved
