"""The archive: schema migrations, item upserts, and stories formed by exact identity.

These talk to a real SQLite file. They pin down the promises later issues build on: an edited
item is updated in place and never becomes new again; one article reached by two links, or
syndicated verbatim by two feeds, is one story; removing a feed leaves other feeds' stories whole.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from newsdesk.feeds.canonical import content_hash
from newsdesk.models import Item, ParsedFeed
from newsdesk.store import MIGRATIONS, FeedExistsError, Store, StoreError, UnknownFeedError
from tests.conftest import NOW


def item(guid: str, title: str, url: str | None = None, summary: str = "") -> Item:
    return Item(
        guid=guid,
        url=url,
        title=title,
        summary=summary,
        author=None,
        published=NOW - timedelta(hours=1),
        content_hash=content_hash(title, summary),
    )


def save(store: Store, feed_id: int, *items: Item, backfill: bool = False, now=NOW):
    parsed = ParsedFeed(title="Feed", link=None, items=list(items))
    return store.save_items(
        feed_id, parsed, now=now, next_poll_at=now + timedelta(hours=1), backfill=backfill
    )


def rows(store: Store, sql: str, *args):
    return [tuple(row) for row in store.db.execute(sql, args).fetchall()]


def test_new_archive_is_at_the_latest_schema_version_with_wal_and_foreign_keys(store):
    assert store.schema_version == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert {"feeds", "items", "stories", "tags", "item_tags", "subscriptions", "digests"} <= set(
        store.db.table_names()
    )


def test_reopening_an_archive_keeps_its_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "a.sqlite"
    with Store.open(path) as first:
        feed = first.add_feed("https://example.com/feed")
        save(first, feed.id, item("1", "Hello"))
    with Store.open(path) as again:
        assert again.schema_version == len(MIGRATIONS)
        assert again.counts() == {"feeds": 1, "items": 1, "stories": 1}


def test_an_archive_from_a_newer_newsdesk_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this newsdesk understands"):
        Store.open(path)


def test_adding_a_known_feed_is_refused(store):
    store.add_feed("https://example.com/feed")
    with pytest.raises(FeedExistsError, match="already following"):
        store.add_feed("https://example.com/feed")


def test_feeds_are_found_by_id_or_url_and_unknown_ones_named(store):
    feed = store.add_feed("https://example.com/feed", tags=["deepseek"])
    assert store.find_feed(str(feed.id)).url == "https://example.com/feed"
    assert store.find_feed("https://example.com/feed").tags == ("deepseek",)
    with pytest.raises(UnknownFeedError, match="no feed '99'"):
        store.find_feed("99")


def test_edited_item_is_updated_in_place_and_keeps_its_first_seen(store):
    feed = store.add_feed("https://example.com/feed")
    save(store, feed.id, item("g1", "DeepSeek V4 relased", "https://x.example/v4"))
    later = NOW + timedelta(hours=2)
    counts = save(
        store, feed.id, item("g1", "DeepSeek V4 released", "https://x.example/v4"), now=later
    )
    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 0)
    [(title, first_seen, updated_at)] = rows(
        store, "SELECT title, first_seen, updated_at FROM items"
    )
    assert title == "DeepSeek V4 released"
    assert first_seen == "2026-11-23T12:00:00Z"
    assert updated_at == "2026-11-23T14:00:00Z"


def test_unchanged_item_is_counted_unchanged(store):
    feed = store.add_feed("https://example.com/feed")
    save(store, feed.id, item("g1", "Same"))
    counts = save(store, feed.id, item("g1", "Same"))
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 1)


def test_backfill_items_are_marked_and_later_items_are_not(store):
    feed = store.add_feed("https://example.com/feed")
    save(store, feed.id, item("old", "Old news"), backfill=True)
    save(store, feed.id, item("old", "Old news"), item("new", "New news"))
    assert rows(store, "SELECT guid, is_backfill FROM items ORDER BY guid") == [
        ("new", 0),
        ("old", 1),
    ]


def test_same_canonical_url_in_two_feeds_is_one_story(store):
    a = store.add_feed("https://a.example/feed", title="Outlet A")
    b = store.add_feed("https://b.example/feed", title="Outlet B")
    save(store, a.id, item("a1", "DeepSeek releases V4", "https://deepseek.example/v4"))
    save(store, b.id, item("b1", "DeepSeek V4 is out", "https://deepseek.example/v4"))
    assert store.counts() == {"feeds": 2, "items": 2, "stories": 1}
    [story] = store.recent_stories()
    assert story.title == "DeepSeek releases V4"  # equal dates: the first item represents it
    assert story.sources == ("Outlet A", "Outlet B")
    assert story.item_count == 2


def test_the_earliest_published_item_represents_the_story(store):
    aggregator = store.add_feed("https://agg.example/feed", title="Aggregator")
    origin = store.add_feed("https://origin.example/feed", title="Origin")
    link = "https://origin.example/v4"
    save(store, aggregator.id, item("a1", "V4 (412 points)", link))
    original = replace(item("o1", "DeepSeek releases V4", link), published=NOW - timedelta(days=1))
    save(store, origin.id, original)
    [story] = store.recent_stories()
    assert (story.title, story.sources) == ("DeepSeek releases V4", ("Origin", "Aggregator"))


def test_verbatim_syndicated_copy_under_another_url_is_one_story(store):
    a = store.add_feed("https://a.example/feed")
    b = store.add_feed("https://b.example/feed")
    text = "The lab said on Monday that it will hire 300 engineers in Hangzhou."
    save(store, a.id, item("a1", "Lab to hire 300", "https://a.example/1", summary=text))
    save(store, b.id, item("b1", "Lab to hire 300!", "https://b.example/9", summary=text))
    assert store.counts()["stories"] == 1


def test_same_short_title_without_summary_is_not_merged(store):
    a = store.add_feed("https://a.example/feed")
    b = store.add_feed("https://b.example/feed")
    save(store, a.id, item("a1", "Weekly update", "https://a.example/w"))
    save(store, b.id, item("b1", "Weekly update", "https://b.example/w"))
    assert store.counts()["stories"] == 2


def test_different_stories_about_one_entity_stay_apart(store):
    a = store.add_feed("https://a.example/feed")
    save(
        store,
        a.id,
        item("1", "DeepSeek releases V4", "https://a.example/v4", summary="A new model."),
        item("2", "DeepSeek opens Hangzhou hiring drive", "https://a.example/jobs", "Jobs."),
    )
    assert store.counts()["stories"] == 2


def test_removing_a_feed_deletes_its_items_and_keeps_shared_stories(store):
    a = store.add_feed("https://a.example/feed", title="A")
    b = store.add_feed("https://b.example/feed", title="B")
    save(store, a.id, item("a1", "Shared", "https://x.example/s"), item("a2", "Only A"))
    save(store, b.id, item("b1", "Shared copy", "https://x.example/s"))
    assert store.remove_feed(a.id) == 2
    assert store.counts() == {"feeds": 1, "items": 1, "stories": 1}
    [story] = store.recent_stories()
    assert (story.title, story.sources, story.item_count) == ("Shared copy", ("B",), 1)


def test_failures_are_counted_and_a_success_resets_them(store):
    feed = store.add_feed("https://example.com/feed")
    store.record_failure(feed.id, now=NOW, error="HTTP 500", next_poll_at=NOW)
    store.record_failure(feed.id, now=NOW, error="HTTP 502", next_poll_at=NOW)
    failing = store.find_feed(feed.id)
    assert (failing.error_count, failing.last_error) == (2, "HTTP 502")
    store.record_not_modified(feed.id, now=NOW, next_poll_at=NOW + timedelta(hours=1))
    healthy = store.find_feed(feed.id)
    assert (healthy.error_count, healthy.last_error) == (0, None)


def test_due_feeds_skip_paused_and_not_yet_due(store):
    due = store.add_feed("https://a.example/feed")
    paused = store.add_feed("https://b.example/feed")
    later = store.add_feed("https://c.example/feed")
    store.set_paused(paused.id, True)
    save(store, later.id, item("1", "x"))  # next poll in an hour
    assert [f.id for f in store.due_feeds(NOW)] == [due.id]
    assert [f.id for f in store.due_feeds(NOW + timedelta(hours=2))] == [due.id, later.id]


def test_config_feeds_are_added_once_and_follow_edits(store):
    from newsdesk.config import FeedSettings

    first = [FeedSettings(url="https://a.example/feed", title="A", tags=["research"])]
    assert store.sync_config_feeds(first) == 1
    edited = [FeedSettings(url="https://a.example/feed", title="A2", tags=["chips"])]
    assert store.sync_config_feeds(edited) == 0
    [feed] = store.list_feeds()
    assert (feed.title, feed.tags, feed.source) == ("A2", ("chips",), "config")


def test_a_moved_feed_takes_its_new_url_unless_another_feed_has_it(store):
    old = store.add_feed("http://old.example/feed")
    taken = store.add_feed("https://taken.example/feed")
    assert store.move_feed(old.id, "https://new.example/feed") is True
    assert store.find_feed(old.id).url == "https://new.example/feed"
    assert store.move_feed(old.id, taken.url) is False
    assert store.find_feed(old.id).url == "https://new.example/feed"
