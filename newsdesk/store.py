"""The archive: the only module that speaks SQL.

SQLite is the source of truth for everything that must survive a restart: each feed's polling
state, every item ever seen, the stories they form, subscriptions and digests. The schema is
versioned with `PRAGMA user_version` and migrated forward on open. Each feed update is one
transaction, so a crash mid-poll leaves a feed either fully updated or untouched.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from newsdesk.feeds.dedup import (
    DedupSettings,
    band_keys,
    signature_bytes,
    signature_from_bytes,
    similarity,
)
from newsdesk.models import Feed, Item, ParsedFeed, Story, Subscription
from newsdesk.query import SearchQuery, fts_match, fts_phrases, segment_cjk, unsegment_cjk

# Schema version 1: the foundation.
_SCHEMA_1 = """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT,                      -- set by an admin or the config; wins over site_title
        site_title TEXT,                 -- the feed's own <title>
        tags TEXT NOT NULL DEFAULT '[]', -- JSON list: default tags for the feed's items
        source TEXT NOT NULL DEFAULT 'cli',  -- config | cli | chat | opml
        paused INTEGER NOT NULL DEFAULT 0,
        interval_minutes INTEGER,
        etag TEXT,
        last_modified TEXT,
        next_poll_at TEXT,
        last_polled_at TEXT,
        last_success_at TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        representative_item_id INTEGER,  -- no FK: items point here, and it is set just after
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        item_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        guid TEXT NOT NULL,
        url TEXT,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        author TEXT,
        published TEXT NOT NULL,          -- the feed's date, else first_seen
        first_seen TEXT NOT NULL,
        updated_at TEXT,
        content_hash TEXT NOT NULL,
        story_id INTEGER NOT NULL REFERENCES stories(id),
        is_backfill INTEGER NOT NULL DEFAULT 0,  -- stored when its feed was added: never "new"
        UNIQUE (feed_id, guid)
    );
    CREATE INDEX items_url ON items(url);
    CREATE INDEX items_content_hash ON items(content_hash);
    CREATE INDEX items_story ON items(story_id);
    CREATE INDEX items_first_seen ON items(first_seen);
    CREATE INDEX stories_first_seen ON stories(first_seen);
    CREATE TABLE tags (
        name TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        emoji TEXT,
        priority INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE item_tags (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        tag TEXT NOT NULL REFERENCES tags(name) ON DELETE CASCADE,
        PRIMARY KEY (item_id, tag)
    );
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL,          -- slack | discord | webhook | terminal | file
        channel TEXT NOT NULL,
        include_tags TEXT NOT NULL DEFAULT '[]',
        exclude_tags TEXT NOT NULL DEFAULT '[]',
        schedule TEXT NOT NULL,          -- cron expression
        timezone TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed
        payload TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (subscription_id, period_start, period_end)
    );
"""


def _migration_2(db: Database) -> None:
    """Near-duplicate candidates, full-text search, preferred feeds."""
    for statement in _statements(
        """
        ALTER TABLE feeds ADD COLUMN preferred INTEGER NOT NULL DEFAULT 0;
        -- MinHash signatures and LSH band keys of the items inside the dedup window only:
        -- candidates for near-duplicate stories, pruned as they age out of the window.
        CREATE TABLE item_signatures (
            item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            feed_id INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            signature BLOB NOT NULL
        );
        CREATE INDEX item_signatures_first_seen ON item_signatures(first_seen);
        CREATE TABLE item_bands (
            band_key INTEGER NOT NULL,
            item_id INTEGER NOT NULL REFERENCES item_signatures(item_id) ON DELETE CASCADE
        );
        CREATE INDEX item_bands_key ON item_bands(band_key);
        CREATE INDEX item_bands_item ON item_bands(item_id);
        CREATE INDEX item_tags_tag ON item_tags(tag);
        -- Titles and summaries with CJK characters spaced apart (query.segment_cjk), so the
        -- unicode61 tokenizer indexes Chinese text character by character.
        -- Kept in step by triggers; segment_cjk is registered on every connection (Store.open).
        CREATE VIRTUAL TABLE items_fts USING fts5(
            title, summary, tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
            INSERT INTO items_fts (rowid, title, summary)
            VALUES (new.id, segment_cjk(new.title), segment_cjk(new.summary));
        END;
        CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN
            DELETE FROM items_fts WHERE rowid = old.id;
            INSERT INTO items_fts (rowid, title, summary)
            VALUES (new.id, segment_cjk(new.title), segment_cjk(new.summary));
        END;
        CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
            DELETE FROM items_fts WHERE rowid = old.id;
        END;
        INSERT INTO items_fts (rowid, title, summary)
            SELECT id, segment_cjk(title), segment_cjk(summary) FROM items;
        """
    ):
        db.execute(statement)


# When a story became news (stories.news_at): its first sighting by a regular poll, or for an item
# stored as backfill (its feed had just been added), when it was published, never later than
# when it was seen. A digest selects and a trend counts stories by it, so a feed added today
# brings this week's news into this week's digest and not last year's archive.
_ITEM_NEWS_AT = "CASE WHEN is_backfill THEN min(published, first_seen) ELSE first_seen END"


def _migration_3(db: Database) -> None:
    """Digest selection by news_at; the summary cache."""
    for statement in _statements(
        f"""
        ALTER TABLE stories ADD COLUMN news_at TEXT;
        UPDATE stories SET news_at = (
            SELECT min({_ITEM_NEWS_AT}) FROM items WHERE items.story_id = stories.id
        );
        UPDATE stories SET news_at = first_seen WHERE news_at IS NULL;
        CREATE INDEX stories_news_at ON stories(news_at);
        -- LLM output, so that rebuilding a digest costs nothing: keyed by a hash of what was
        -- asked (the text, the model, the language, the prompt version).
        CREATE TABLE summaries (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,               -- story | intro
            model TEXT NOT NULL,
            language TEXT NOT NULL,
            prompt_version INTEGER NOT NULL,
            body TEXT NOT NULL,               -- JSON
            input_tokens INTEGER,
            output_tokens INTEGER,
            created_at TEXT NOT NULL
        );
        """
    ):
        db.execute(statement)


def _migration_4(db: Database) -> None:
    """The bot: subscriptions owned by the config or by chat, the delivery outbox."""
    for statement in _statements(
        """
        ALTER TABLE subscriptions ADD COLUMN source TEXT NOT NULL DEFAULT 'config';
        -- Unsubscribing keeps the row (and its digests' history); subscribing again revives it.
        ALTER TABLE subscriptions ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE subscriptions ADD COLUMN updated_at TEXT;
        -- The schedule's fire time a digest answers; NULL for one sent on demand. Unique, so a
        -- fire caught up after a restart is delivered once.
        ALTER TABLE digests ADD COLUMN scheduled_for TEXT;
        ALTER TABLE digests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE digests ADD COLUMN last_error TEXT;
        CREATE UNIQUE INDEX digests_fire ON digests(subscription_id, scheduled_for)
            WHERE scheduled_for IS NOT NULL;
        CREATE INDEX digests_state ON digests(state);
        -- One row per message of a digest the platform accepted: what a resumed delivery skips.
        CREATE TABLE digest_messages (
            digest_id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            message_id TEXT,                 -- Slack ts, Discord snowflake; NULL where none
            sent_at TEXT NOT NULL,
            PRIMARY KEY (digest_id, position)
        );
        -- Set when subscriptions were told the feed keeps failing; cleared when it recovers.
        ALTER TABLE feeds ADD COLUMN failure_reported_at TEXT;
        """
    ):
        db.execute(statement)


_MIGRATION_5 = """
    -- Filter-only searches (`tag:talent`) and recent_stories list stories newest first by their
    -- representative's date: walking this index stops at the page instead of sorting them all.
    CREATE INDEX items_published ON items(published);
"""

_MIGRATION_6 = """
    -- The same order with story_id: a recent window's stories are listed from the index alone,
    -- without reading their items (Store._first_item_of_stories_since).
    DROP INDEX IF EXISTS items_published;
    CREATE INDEX items_published_story ON items(published, story_id);
"""

# Each entry moves the schema one version forward: SQL, or a function for steps that need Python.
# Never edit a released entry; append a new one.
MIGRATIONS: list[str | Callable[[Database], None]] = [
    _SCHEMA_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _MIGRATION_5,
    _MIGRATION_6,
]


class StoreError(Exception):
    """A request the archive cannot carry out; the message is fit to show a user."""


class DatabaseLockedError(StoreError):
    """Another connection (usually another newsdesk) held the write lock past the busy timeout."""


class DatabaseFullError(StoreError):
    """SQLite could not grow the database (SQLITE_FULL): the disk, or a page limit, is full."""


# How long a write waits for another connection's write lock before giving up, in seconds.
DEFAULT_BUSY_TIMEOUT = 30.0

# Called with every connection Store.open makes, before the archive is migrated or used. Empty in
# production; a test appends one to configure the connections code it does not call directly
# (e.g. `PRAGMA max_page_count` to make the database "full" under `newsdesk fetch`).
CONNECTION_HOOKS: list[Callable[[sqlite3.Connection], None]] = []


class FeedExistsError(StoreError):
    pass


class UnknownFeedError(StoreError):
    pass


# A `since:` search skips the matches older than its window when the window holds fewer items
# than this (about two weeks of a busy archive); see Store._since_floor.
_SINCE_FLOOR_MAX_ITEMS = 20_000
# A search for a common word ranks the stories of the last 14 days first, then of the last 8
# weeks, while such a window holds fewer than RECENT_MAX_ITEMS items (Store._recent_windows).
# FTS5's bm25 uses k1 = 1.2.
_RECENT_DAYS = (14, 56)
_RECENT_MAX_ITEMS = 100_000
_BM25_K1 = 1.2

# Search snippets mark matches with these control characters, which clean_text removes from all
# stored text, so they cannot come from a feed; each renderer turns them into its own emphasis.
HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A story that matched a search, with the best-matching excerpt of its text."""

    story: Story
    snippet: str
    score: float


@dataclass(frozen=True, slots=True)
class OutboxDigest:
    """A digest as the outbox holds it: frozen messages, and which of them were delivered.

    `messages` are the rendered payloads (platform JSON, or text for files and terminals);
    `sent` maps a message's position to the platform's id for it.
    """

    id: int
    subscription: str
    start: datetime
    end: datetime
    scheduled_for: datetime | None
    state: str  # pending | sent | failed
    messages: list[dict[str, Any]]
    sent: dict[int, str | None]
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UpdateCounts:
    """What one feed update changed, for the fetch report."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


def to_iso(moment: datetime) -> str:
    """One sortable text form for every timestamp in the database (UTC, second precision)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: newsdesk stores UTC only")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class Store:
    """A newsdesk archive in one SQLite file."""

    def __init__(
        self, db: Database, *, path: str | Path = ":memory:", busy_timeout: float = 0.0
    ) -> None:
        self.db = db
        self.path = Path(path)
        self.busy_timeout = busy_timeout

    @classmethod
    def open(cls, path: str | Path, *, timeout: float = DEFAULT_BUSY_TIMEOUT) -> Store:
        """Open (creating if needed) and migrate the archive at `path`.

        `timeout` is how many seconds a write waits for another process's write lock before it
        fails with DatabaseLockedError.
        """
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), timeout=timeout)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        store = cls(Database(conn), path=path, busy_timeout=timeout)
        try:
            with store._clear_errors():
                for hook in CONNECTION_HOOKS:
                    hook(conn)
                store.db.execute("PRAGMA foreign_keys = ON")
                conn.create_function("segment_cjk", 1, segment_cjk, deterministic=True)
                if str(path) != ":memory:":
                    store.db.enable_wal()
                # Safe with WAL: a crash loses no commit.
                store.db.execute("PRAGMA synchronous = NORMAL")
                # 32 MiB of page cache (SQLite's default is 2 MiB): each item adds 64 LSH band
                # keys at random places in one index, which outgrows 2 MiB within a few thousand
                # items; every insert then re-reads a page from the OS. On 25,000 items this cut
                # save_items' CPU by a fifth (benchmarks/ingest.py). Allocated only as used.
                store.db.execute("PRAGMA cache_size = -32768")
                store.migrate()
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        """Bring the schema to the newest version, one transaction per step."""
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the database is at schema version {version}, newer than this newsdesk "
                f"understands ({len(MIGRATIONS)}); upgrade newsdesk"
            )
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._transaction():
                if callable(step):
                    step(self.db)
                else:
                    for statement in _statements(step):
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One atomic change; nested calls are savepoints inside the outer one.

        The outer transaction is BEGIN IMMEDIATE: it takes the write lock first, waiting up to
        the busy timeout for another process to finish. A deferred BEGIN would read first and
        then fail at once, without waiting, when it tries to upgrade to a write. A locked or
        full database rolls the whole change back and raises a StoreError that says so.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        with self._clear_errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                conn.rollback()  # a no-op when SQLite already rolled it back (it may, on FULL)
                raise

    @contextmanager
    def _clear_errors(self) -> Iterator[None]:
        """Turn a locked or full database into a StoreError that says so; others pass."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            clear = self._clear_error(exc)
            if clear is None:
                raise
            raise clear from exc

    def _clear_error(self, exc: sqlite3.OperationalError) -> StoreError | None:
        """A locked or full database as an error a user can act on; None for anything else."""
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary code
        text = str(exc)
        if code == sqlite3.SQLITE_BUSY or "database is locked" in text:
            return DatabaseLockedError(
                f"the database {self.path} is locked by another process (another newsdesk?):"
                f" gave up after waiting {self.busy_timeout:g} s for its write lock; try again"
                " when that process is done"
            )
        if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
            return DatabaseFullError(
                f"the disk is full: the database {self.path} cannot grow ({text}); the change"
                " was rolled back, nothing was half-written. Free some space and try again"
            )
        return None

    # --- feeds -------------------------------------------------------------------------------

    def add_feed(
        self,
        url: str,
        *,
        title: str | None = None,
        tags: Iterable[str] = (),
        source: str = "cli",
        interval_minutes: int | None = None,
        preferred: bool = False,
        now: datetime | None = None,
    ) -> Feed:
        """Add a feed to poll; it is due at once. Raise FeedExistsError for a known URL."""
        if self.get_feed(url) is not None:
            raise FeedExistsError(f"already following {url}")
        with self._transaction():
            cursor = self.db.execute(
                "INSERT INTO feeds (url, title, tags, source, interval_minutes, preferred,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    url,
                    title,
                    json.dumps(list(tags)),
                    source,
                    interval_minutes,
                    int(preferred),
                    to_iso(_now(now)),
                ],
            )
        return self.find_feed(cursor.lastrowid)

    def sync_config_feeds(self, feeds: Iterable[Any], now: datetime | None = None) -> int:
        """Make the feeds table follow the config's [[feeds]]; return how many were added.

        Feeds added from chat or the CLI are left alone, and so are config feeds that were
        removed from the file: dropping a line from the config should not delete an archive.
        """
        added = 0
        for feed in feeds:
            existing = self.get_feed(feed.url)
            if existing is None:
                self.add_feed(
                    feed.url,
                    title=feed.title,
                    tags=feed.tags,
                    source="config",
                    interval_minutes=feed.interval_minutes,
                    preferred=feed.preferred,
                    now=now,
                )
                added += 1
            else:
                with self._transaction():
                    self.db.execute(
                        "UPDATE feeds SET title = ?, tags = ?, interval_minutes = ?, preferred = ?"
                        " WHERE id = ?",
                        [
                            feed.title,
                            json.dumps(feed.tags),
                            feed.interval_minutes,
                            int(feed.preferred),
                            existing.id,
                        ],
                    )
        return added

    def get_feed(self, ref: int | str) -> Feed | None:
        """A feed by id (an int or a string of digits) or by its exact URL."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            where, arg = "f.id = ?", int(ref)
        else:
            where, arg = "f.url = ?", ref
        rows = self._feed_rows(where, [arg])
        return rows[0] if rows else None

    def find_feed(self, ref: int | str) -> Feed:
        feed = self.get_feed(ref)
        if feed is None:
            raise UnknownFeedError(f"no feed {ref!r}; `newsdesk feeds list` shows ids and URLs")
        return feed

    def list_feeds(self) -> list[Feed]:
        return self._feed_rows("1", [])

    def due_feeds(self, now: datetime) -> list[Feed]:
        """Feeds to poll now: not paused, and never polled or past their next poll time."""
        return self._feed_rows(
            "f.paused = 0 AND (f.next_poll_at IS NULL OR f.next_poll_at <= ?)", [to_iso(now)]
        )

    def remove_feed(self, feed_id: int) -> int:
        """Delete a feed with its items (and stories left empty); return the items deleted."""
        with self._transaction():
            removed = self.db.execute(
                "SELECT count(*) FROM items WHERE feed_id = ?", [feed_id]
            ).fetchone()[0]
            story_ids = [
                row[0]
                for row in self.db.execute(
                    "SELECT DISTINCT story_id FROM items WHERE feed_id = ?", [feed_id]
                )
            ]
            self.db.execute("DELETE FROM feeds WHERE id = ?", [feed_id])
            for story_id in story_ids:
                self._refresh_story(story_id)
        return removed

    def move_feed(self, feed_id: int, new_url: str) -> bool:
        """Follow a permanent redirect; False when another feed already has the new URL."""
        with self._transaction():
            cursor = self.db.execute(
                "UPDATE feeds SET url = ? WHERE id = ?"
                " AND NOT EXISTS (SELECT 1 FROM feeds WHERE url = ?)",
                [new_url, feed_id, new_url],
            )
        return cursor.rowcount == 1

    def set_paused(self, feed_id: int, paused: bool) -> None:
        with self._transaction():
            self.db.execute("UPDATE feeds SET paused = ? WHERE id = ?", [int(paused), feed_id])

    def _feed_rows(self, where: str, args: list[Any]) -> list[Feed]:
        sql = f"""
            SELECT f.*, (SELECT count(*) FROM items i WHERE i.feed_id = f.id) AS item_count
            FROM feeds f WHERE {where} ORDER BY f.id
        """
        return [_feed_from_row(row) for row in self.db.query(sql, args)]

    # --- poll results ------------------------------------------------------------------------

    def save_items(
        self,
        feed_id: int,
        parsed: ParsedFeed,
        *,
        now: datetime,
        next_poll_at: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
        backfill: bool = False,
        dedup: DedupSettings | None = None,
    ) -> UpdateCounts:
        """Store a successful fetch: upsert its items into stories and reset the error count.

        Items are matched by (feed, GUID): a known item whose text changed is updated in place and
        keeps its first-seen time, so an edit never makes it "new" again. A new item joins the
        story of any item with the same canonical URL, or the same text (content hash), from any
        feed; else, with `dedup` settings, the story of its most similar near-duplicate inside
        the window; otherwise it starts a story of its own.
        """
        new = updated = unchanged = 0
        stamp = to_iso(now)
        with self._transaction():
            for item in parsed.items:
                row = self.db.execute(
                    "SELECT id, content_hash, url, title, story_id FROM items"
                    " WHERE feed_id = ? AND guid = ?",
                    [feed_id, item.guid],
                ).fetchone()
                if row is None:
                    self._insert_item(feed_id, item, now, backfill, dedup)
                    new += 1
                elif (row[1], row[2], row[3]) != (item.content_hash, item.url, item.title):
                    self.db.execute(
                        "UPDATE items SET url = ?, title = ?, summary = ?, author = ?,"
                        " published = coalesce(?, published), content_hash = ?, updated_at = ?"
                        " WHERE id = ?",
                        [
                            item.url,
                            item.title,
                            item.summary,
                            item.author,
                            _iso_or_none(item.published),
                            item.content_hash,
                            stamp,
                            row[0],
                        ],
                    )
                    self._set_tags(row[0], item.tags)
                    self._elect_representative(row[4])
                    updated += 1
                else:
                    unchanged += 1
            self.db.execute(
                "UPDATE feeds SET site_title = coalesce(?, site_title), etag = ?,"
                " last_modified = ?, next_poll_at = ?, last_polled_at = ?, last_success_at = ?,"
                " error_count = 0, last_error = ?, failure_reported_at = NULL WHERE id = ?",
                [
                    parsed.title,
                    etag,
                    last_modified,
                    to_iso(next_poll_at),
                    stamp,
                    stamp,
                    parsed.error,
                    feed_id,
                ],
            )
        return UpdateCounts(new=new, updated=updated, unchanged=unchanged)

    def record_not_modified(self, feed_id: int, *, now: datetime, next_poll_at: datetime) -> None:
        """A 304: the feed is healthy and nothing was downloaded."""
        with self._transaction():
            self.db.execute(
                "UPDATE feeds SET next_poll_at = ?, last_polled_at = ?, last_success_at = ?,"
                " error_count = 0, last_error = NULL, failure_reported_at = NULL WHERE id = ?",
                [to_iso(next_poll_at), to_iso(now), to_iso(now), feed_id],
            )

    def record_failure(
        self, feed_id: int, *, now: datetime, error: str, next_poll_at: datetime
    ) -> None:
        """A failed poll: count it and back off. The feed's items and validators are kept."""
        with self._transaction():
            self.db.execute(
                "UPDATE feeds SET next_poll_at = ?, last_polled_at = ?,"
                " error_count = error_count + 1, last_error = ? WHERE id = ?",
                [to_iso(next_poll_at), to_iso(now), error[:500], feed_id],
            )

    def _insert_item(
        self, feed_id: int, item: Item, now: datetime, backfill: bool, dedup: DedupSettings | None
    ) -> None:
        stamp = to_iso(now)
        story_id = self._matching_story(item)
        if story_id is None and dedup is not None and item.signature:
            story_id = self._near_duplicate_story(feed_id, item, now, dedup)
        if story_id is None:
            cursor = self.db.execute(
                "INSERT INTO stories (first_seen, last_seen, item_count) VALUES (?, ?, 0)",
                [stamp, stamp],
            )
            story_id = cursor.lastrowid
        news_at = stamp
        if backfill and item.published is not None:
            news_at = min(stamp, to_iso(item.published))
        cursor = self.db.execute(
            "INSERT INTO items (feed_id, guid, url, title, summary, author, published,"
            " first_seen, content_hash, story_id, is_backfill)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                feed_id,
                item.guid,
                item.url,
                item.title,
                item.summary,
                item.author,
                _iso_or_none(item.published) or stamp,
                stamp,
                item.content_hash,
                story_id,
                int(backfill),
            ],
        )
        item_id = cursor.lastrowid
        self.db.execute(
            "UPDATE stories SET item_count = item_count + 1, last_seen = ?,"
            " news_at = min(coalesce(news_at, ?), ?) WHERE id = ?",
            [stamp, news_at, news_at, story_id],
        )
        self._elect_representative(story_id)
        self._set_tags(item_id, item.tags)
        if dedup is not None and item.signature:
            self.db.execute(
                "INSERT INTO item_signatures (item_id, feed_id, first_seen, signature)"
                " VALUES (?, ?, ?, ?)",
                [item_id, feed_id, stamp, signature_bytes(item.signature)],
            )
            self.db.conn.executemany(
                "INSERT INTO item_bands (band_key, item_id) VALUES (?, ?)",
                [(key, item_id) for key in band_keys(item.signature, dedup.bands)],
            )

    def _near_duplicate_story(
        self, feed_id: int, item: Item, now: datetime, dedup: DedupSettings
    ) -> int | None:
        """The story of the most similar recent item from another feed, if similar enough.

        Candidates share at least one LSH band with the item (an indexed lookup, never a scan
        of the window); the MinHash similarity then confirms or rejects each.
        """
        keys = band_keys(item.signature, dedup.bands)
        cutoff = to_iso(now - timedelta(days=dedup.window_days))
        rows = self.db.execute(
            f"""
            SELECT DISTINCT s.signature, i.story_id
            FROM item_bands b
            JOIN item_signatures s ON s.item_id = b.item_id
            JOIN items i ON i.id = s.item_id
            WHERE b.band_key IN ({",".join("?" * len(keys))})
              AND s.first_seen >= ? AND s.feed_id != ?
            """,
            [*keys, cutoff, feed_id],
        ).fetchall()
        best_story, best = None, dedup.threshold
        for blob, story_id in rows:
            score = similarity(item.signature, signature_from_bytes(blob))
            if score >= best:
                best_story, best = story_id, score
        return best_story

    def prune_dedup_candidates(self, now: datetime, window_days: int) -> int:
        """Forget the signatures of items older than the window; they can no longer match."""
        cutoff = to_iso(now - timedelta(days=window_days))
        with self._transaction():
            cursor = self.db.execute("DELETE FROM item_signatures WHERE first_seen < ?", [cutoff])
        return cursor.rowcount

    def _set_tags(self, item_id: int, tags: Iterable[str]) -> None:
        """Replace an item's tags; a tag the taxonomy does not know (a feed's own) is created."""
        tags = sorted(set(tags))
        self.db.execute("DELETE FROM item_tags WHERE item_id = ?", [item_id])
        if tags:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO tags (name, label) VALUES (?, ?)", [(t, t) for t in tags]
            )
            self.db.conn.executemany(
                "INSERT INTO item_tags (item_id, tag) VALUES (?, ?)", [(item_id, t) for t in tags]
            )

    def _elect_representative(self, story_id: int) -> None:
        """The earliest-published item speaks for the story, usually the original report rather
        than an aggregator's later link to it; an item from a preferred feed comes first."""
        self.db.execute(
            "UPDATE stories SET representative_item_id = (SELECT i.id FROM items i"
            " JOIN feeds f ON f.id = i.feed_id WHERE i.story_id = ?"
            " ORDER BY f.preferred DESC, i.published, i.id LIMIT 1) WHERE id = ?",
            [story_id, story_id],
        )

    def _matching_story(self, item: Item) -> int | None:
        """The story an item joins by exact identity: same canonical URL, else same text.

        The text match needs a summary: two items with only the same short title ("Weekly
        update") are not evidence of one story.
        """
        if item.url:
            row = self.db.execute(
                "SELECT story_id FROM items WHERE url = ? LIMIT 1", [item.url]
            ).fetchone()
            if row:
                return row[0]
        if item.summary:
            row = self.db.execute(
                "SELECT story_id FROM items WHERE content_hash = ? LIMIT 1", [item.content_hash]
            ).fetchone()
            if row:
                return row[0]
        return None

    def _refresh_story(self, story_id: int) -> None:
        """Recount a story after items left it; delete it when none are left."""
        count, last_seen = self.db.execute(
            "SELECT count(*), max(first_seen) FROM items WHERE story_id = ?", [story_id]
        ).fetchone()
        if count == 0:
            self.db.execute("DELETE FROM stories WHERE id = ?", [story_id])
        else:
            self.db.execute(
                "UPDATE stories SET item_count = ?, last_seen = ?, news_at = (SELECT"
                f" min({_ITEM_NEWS_AT}) FROM items WHERE story_id = ?) WHERE id = ?",
                [count, last_seen, story_id, story_id],
            )
            self._elect_representative(story_id)

    # --- tags --------------------------------------------------------------------------------

    def sync_taxonomy(self, tags: Iterable[Any]) -> None:
        """Describe the taxonomy's tags (name, label, emoji, priority) in the tags table."""
        with self._transaction():
            self.db.conn.executemany(
                "INSERT INTO tags (name, label, emoji, priority) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET label = excluded.label,"
                " emoji = excluded.emoji, priority = excluded.priority",
                [(t.name, t.label, t.emoji, t.priority) for t in tags],
            )

    def retag(
        self,
        tag_item: Callable[[str, str, tuple[str, ...]], Iterable[str]],
        batch_size: int = 2000,
    ) -> tuple[int, int]:
        """Apply `tag_item(title, summary, feed_tags)` to the whole archive, batch by batch.

        Returns (items seen, items whose tags changed). Each batch is one transaction, so a
        retag of a large archive never holds the write lock for long.
        """
        seen = changed = 0
        last_id = 0
        while True:
            rows = self.db.execute(
                "SELECT i.id, i.title, i.summary, f.tags,"
                " (SELECT json_group_array(tag) FROM item_tags WHERE item_id = i.id)"
                " FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id > ?"
                " ORDER BY i.id LIMIT ?",
                [last_id, batch_size],
            ).fetchall()
            if not rows:
                return seen, changed
            with self._transaction():
                for item_id, title, summary, feed_tags, current in rows:
                    tags = set(tag_item(title, summary, tuple(json.loads(feed_tags))))
                    if tags != set(json.loads(current)):
                        self._set_tags(item_id, tags)
                        changed += 1
            seen += len(rows)
            last_id = rows[-1][0]

    # --- reading -----------------------------------------------------------------------------

    # A story's link is its representative's, else the earliest link any of its items has.
    # Most stories have one item, the representative: their sources are its feed (NULL here)
    # and their tags its own, read without the DISTINCT sorts a story of several items needs.
    _STORY_COLUMNS = """
        s.id, s.first_seen, s.last_seen, s.item_count, s.news_at,
        r.title, r.summary, r.published,
        coalesce(r.url, (SELECT u.url FROM items u WHERE u.story_id = s.id AND u.url IS NOT NULL
                         ORDER BY u.published, u.id LIMIT 1)) AS url,
        coalesce(rf.title, rf.site_title, rf.url) AS representative_source,
        CASE WHEN s.item_count > 1 THEN
            (SELECT json_group_array(DISTINCT coalesce(f.title, f.site_title, f.url))
               FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.story_id = s.id)
        END AS sources,
        CASE WHEN s.item_count > 1 THEN
            (SELECT json_group_array(tag) FROM (
                SELECT DISTINCT t.tag, g.priority FROM items i
                  JOIN item_tags t ON t.item_id = i.id JOIN tags g ON g.name = t.tag
                 WHERE i.story_id = s.id ORDER BY g.priority DESC, t.tag))
        ELSE
            (SELECT json_group_array(tag) FROM (
                SELECT t.tag FROM item_tags t JOIN tags g ON g.name = t.tag
                 WHERE t.item_id = r.id ORDER BY g.priority DESC, t.tag))
        END AS tags
    """
    _STORY_JOINS = """
        JOIN items r ON r.id = s.representative_item_id
        JOIN feeds rf ON rf.id = r.feed_id
    """

    def recent_stories(self, limit: int = 20, since: datetime | None = None) -> list[Story]:
        """Stories newest first (by the representative item's date), with sources and tags."""
        # The page first, walking the published index (see search), then its columns.
        sql = f"""
            WITH page AS (
                SELECT s.id FROM items r
                CROSS JOIN stories s ON s.id = r.story_id AND s.representative_item_id = r.id
                WHERE s.first_seen >= ?
                ORDER BY r.published DESC, s.id DESC
                LIMIT ?
            )
            SELECT {self._STORY_COLUMNS} FROM page JOIN stories s ON s.id = page.id
            {self._STORY_JOINS}
            ORDER BY r.published DESC, s.id DESC
        """
        floor = to_iso(since) if since else ""
        return [_story_from_row(row) for row in self.db.query(sql, [floor, limit])]

    def search(
        self,
        query: SearchQuery,
        *,
        limit: int = 10,
        offset: int = 0,
        now: datetime | None = None,
    ) -> list[SearchHit]:
        """Stories matching a parsed query, best first: bm25 relevance discounted by age.

        A story matches when any of its items does; its snippet comes from its best item. The
        relevance halves for a story a month old, so last week's news outranks an old archive
        post that says the same words a little more often. Filter-only queries (`tag:talent
        since:7d`) list the matching stories newest first.
        """
        filters, args = _story_filters(query)
        match = fts_match(query)
        if match is None:
            # Newest first: walk the representatives down the published index and stop at the
            # page, instead of sorting every story (a representative is in its own story).
            sql = f"""
                WITH page AS (
                    SELECT s.id FROM items r
                    CROSS JOIN stories s ON s.id = r.story_id AND s.representative_item_id = r.id
                    WHERE {filters}
                    ORDER BY r.published DESC, s.id DESC
                    LIMIT ? OFFSET ?
                )
                SELECT {self._STORY_COLUMNS}, 0.0 AS score, '' AS snippet
                FROM page JOIN stories s ON s.id = page.id {self._STORY_JOINS}
                ORDER BY r.published DESC, s.id DESC
            """
            rows = self.db.query(sql, [*args, limit, offset])
        else:
            # bm25 is negative (more negative is better); a title match weighs 4x a summary one.
            # FTS5 functions cannot run inside an aggregate, hence the materialized step; the
            # best item is then a bare column next to min(): SQLite takes it from the best row.
            # Every match is ranked, but only the page's stories get their columns and their
            # best item's snippet (found again by rowid inside the same match).
            sql = f"""
                WITH matched AS MATERIALIZED (
                    SELECT rowid AS item_id, bm25(items_fts, 4.0, 1.0) AS rank
                    FROM items_fts WHERE items_fts MATCH ? AND rowid >= ?
                ),
                hits AS (
                    SELECT i.story_id, min(m.rank) AS rank, m.item_id AS best_item
                    FROM matched m JOIN items i ON i.id = m.item_id
                    GROUP BY i.story_id
                ),
                page AS MATERIALIZED (
                    SELECT s.id, hits.best_item,
                           -hits.rank / (1 + max(0, julianday(?) - julianday(r.published)) / 30.0)
                               AS score
                    FROM hits JOIN stories s ON s.id = hits.story_id
                    JOIN items r ON r.id = s.representative_item_id
                    WHERE {filters} AND r.published >= ?
                    ORDER BY score DESC, s.id DESC
                    LIMIT ? OFFSET ?
                )
                SELECT {self._STORY_COLUMNS}, page.score,
                       snippet(items_fts, -1, ?, ?, '…', 24) AS snippet
                FROM page JOIN stories s ON s.id = page.id {self._STORY_JOINS}
                JOIN items_fts ON items_fts.rowid = page.best_item AND items_fts MATCH ?
                ORDER BY page.score DESC, s.id DESC
            """
            moment = _now(now)

            def ranked(floor: int, cutoff: str) -> list[dict[str, Any]]:
                head = [match, floor, to_iso(moment), *args, cutoff, limit, offset]
                tail = [HIGHLIGHT_START, HIGHLIGHT_END, match]
                return list(self.db.query(sql, head + tail))

            floor = self._since_floor(match, query.since)
            rows = None
            for cutoff, recent_floor, bound in self._recent_windows(query, match, moment):
                rows = ranked(max(floor, recent_floor), to_iso(cutoff))
                if len(rows) >= limit > 0 and rows[-1]["score"] > bound * (1 + 1e-9):
                    break
                rows = None  # an older story could still make the page: look further back
            if rows is None:
                rows = ranked(floor, "")
        return [
            SearchHit(
                story=_story_from_row(row),
                snippet=_tidy_snippet(row["snippet"]),
                score=row["score"],
            )
            for row in rows
        ]

    def _since_floor(self, match: str, since: datetime | None) -> int:
        """An item id below which no match can pass a `since:` filter, or 0.

        FTS5's rowids are item ids, so it can skip the older matches instead of ranking the
        whole archive. Finding the floor costs about a quarter as much per item of the window
        as ranking does per match, so it is used for a short window (since:7d) and a query
        with more than a quarter as many matches; otherwise every match is ranked (0).
        """
        if since is None:
            return 0
        window = self._items_since(since, _SINCE_FLOOR_MAX_ITEMS)
        if window >= _SINCE_FLOOR_MAX_ITEMS:
            return 0
        if 4 * self._match_count(match) < window:
            return 0
        return self._first_item_of_stories_since(since)

    def _items_since(self, since: datetime, cap: int) -> int:
        return self.db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM items WHERE published >= ? LIMIT ?)",
            [to_iso(since), cap],
        ).fetchone()[0]

    def _match_count(self, match: str, cap: int = -1) -> int:
        """How many items match (at most `cap`; a negative cap counts them all)."""
        return self.db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM items_fts WHERE items_fts MATCH ? LIMIT ?)",
            [match, cap],
        ).fetchone()[0]

    def _first_item_of_stories_since(self, since: datetime) -> int:
        """The lowest item id of any story whose representative was published at or after
        `since` (1 << 62 when there is none): every item of those stories is at or above it.

        The published index carries story_id, so the window's representatives are found
        without reading their rows.
        """
        row = self.db.execute(
            "SELECT min(i.id) FROM items r"
            " CROSS JOIN stories s ON s.id = r.story_id AND s.representative_item_id = r.id"
            " CROSS JOIN items i ON i.story_id = s.id WHERE r.published >= ?",
            [to_iso(since)],
        ).fetchone()
        return row[0] if row[0] is not None else 1 << 62

    def _recent_windows(
        self, query: SearchQuery, match: str, now: datetime
    ) -> Iterator[tuple[datetime, int, float]]:
        """(cutoff, floor, bound) for ranking only the stories of the last days first.

        Relevance is discounted by age, so for a common word the best stories are recent. A
        story whose representative was published before the cutoff scores less than `bound`:
        bm25 gives a row at most (k1 + 1) times the sum of its phrases' IDFs, and an age of
        `days` divides that by 1 + days / 30. So when the page ranked among the window's
        stories alone ends above the bound, it is the page of the whole archive (`rows` is
        at least FTS5's row count, so the IDFs are at least its own). Tried when the query
        matches more than a tenth as many items as the window holds: ranking a match costs
        about ten times what finding the window's stories costs per item.
        """
        if query.before is not None:
            return
        idf = None
        for days in _RECENT_DAYS:
            cutoff = now - timedelta(days=days)
            if query.since is not None and query.since >= cutoff:
                return  # the since: floor already keeps the ranking to the window
            window = self._items_since(cutoff, _RECENT_MAX_ITEMS)
            if window >= _RECENT_MAX_ITEMS:
                return  # finding the window's stories would cost more than it saves
            if self._match_count(match, cap=window // 10) < window // 10:
                return  # few matches: ranking them all is cheaper
            if idf is None:
                rows = self.db.execute("SELECT max(id) FROM items").fetchone()[0] or 0
                counts = [self._match_count(phrase) for phrase in fts_phrases(query)]
                idf = sum(max(math.log((rows - n + 0.5) / (n + 0.5)), 1e-6) for n in counts)
            bound = (_BM25_K1 + 1) * idf / (1 + days / 30)
            yield cutoff, self._first_item_of_stories_since(cutoff), bound

    def stories_between(self, start: datetime, end: datetime) -> list[Story]:
        """The stories that became news in [start, end), oldest first: a digest's candidates.

        Each story is in exactly one period, so consecutive digests neither repeat nor miss one.
        """
        sql = f"""
            SELECT {self._STORY_COLUMNS} FROM stories s {self._STORY_JOINS}
            WHERE s.news_at >= ? AND s.news_at < ?
            ORDER BY s.news_at, s.id
        """
        return [_story_from_row(row) for row in self.db.query(sql, [to_iso(start), to_iso(end)])]

    def story_texts(self, story_ids: Iterable[int]) -> dict[int, list[str]]:
        """Each story's item summaries: the representative's first, then the longest.

        A story's representative is often an aggregator's link with no text of its own; a
        summary can then come from an outlet that wrote one.
        """
        ids = list(dict.fromkeys(story_ids))
        texts: dict[int, list[str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.db.execute(
                f"""
                SELECT i.story_id, i.summary FROM items i JOIN stories s ON s.id = i.story_id
                WHERE i.story_id IN ({",".join("?" * len(chunk))}) AND i.summary != ''
                ORDER BY i.story_id, i.id = s.representative_item_id DESC,
                         length(i.summary) DESC, i.id
                """,
                chunk,
            )
            for story_id, summary in rows:
                texts.setdefault(story_id, []).append(summary)
        return texts

    def weekly_tag_counts(
        self, tags: Iterable[str], end: datetime, weeks: int
    ) -> dict[str, list[int]]:
        """Stories per tag in each of the `weeks` weeks before `end`, oldest week first."""
        tags = sorted(set(tags))
        counts = {tag: [0] * weeks for tag in tags}
        if not tags or weeks <= 0:
            return counts
        stamp = to_iso(end)
        # Driven from the period's stories (CROSS JOIN fixes the order, `+` keeps the tag list
        # off the index): led by the tag index instead, SQLite read every tagged item of the
        # whole archive and only then dropped those outside the weeks.
        rows = self.db.execute(
            f"""
            SELECT t.tag, CAST((julianday(?) - julianday(s.news_at)) / 7 AS INTEGER) AS ago,
                   count(DISTINCT s.id)
            FROM stories s CROSS JOIN items i ON i.story_id = s.id
            CROSS JOIN item_tags t ON t.item_id = i.id
            WHERE s.news_at >= ? AND s.news_at < ? AND +t.tag IN ({",".join("?" * len(tags))})
            GROUP BY t.tag, ago
            """,
            [stamp, to_iso(end - timedelta(weeks=weeks)), stamp, *tags],
        )
        for tag, ago, count in rows:
            if 0 <= ago < weeks:
                counts[tag][weeks - 1 - ago] = count
        return counts

    def last_digest_end(self, subscription: str) -> datetime | None:
        """Where the subscription's last digest ended; the next one starts there.

        Pending digests count (they will be delivered); failed ones do not, so the next digest
        carries the stories a failed one could not deliver.
        """
        row = self.db.execute(
            "SELECT max(d.period_end) FROM digests d JOIN subscriptions s"
            " ON s.id = d.subscription_id WHERE s.name = ? AND d.state IN ('sent', 'pending')",
            [subscription],
        ).fetchone()
        return from_iso(row[0])

    # --- subscriptions -----------------------------------------------------------------------

    def sync_config_subscriptions(
        self, subscriptions: Iterable[Subscription], now: datetime | None = None
    ) -> None:
        """Make the stored config subscriptions follow the config file.

        Ones removed from the file are deactivated, not deleted, so their history stays;
        subscriptions made in chat are left alone.
        """
        subscriptions = list(subscriptions)
        with self._transaction():
            for subscription in subscriptions:
                self._upsert_subscription(replace(subscription, source="config"), now)
            names = [s.name for s in subscriptions]
            self.db.execute(
                "UPDATE subscriptions SET active = 0 WHERE source = 'config'"
                f" AND name NOT IN ({','.join('?' * len(names))})",
                names,
            )

    def save_subscription(self, subscription: Subscription, now: datetime | None = None) -> None:
        """Create or replace (by name) a subscription, and make it active."""
        with self._transaction():
            self._upsert_subscription(subscription, now)

    def deactivate_subscription(self, name: str, now: datetime | None = None) -> bool:
        with self._transaction():
            cursor = self.db.execute(
                "UPDATE subscriptions SET active = 0, updated_at = ? WHERE name = ? AND active",
                [to_iso(_now(now)), name],
            )
        return cursor.rowcount == 1

    def subscriptions(self) -> list[Subscription]:
        """The active subscriptions, in the order they were made."""
        rows = self.db.query("SELECT * FROM subscriptions WHERE active ORDER BY id")
        return [_subscription_from_row(row) for row in rows]

    def get_subscription(self, name: str) -> Subscription | None:
        rows = list(self.db.query("SELECT * FROM subscriptions WHERE name = ? AND active", [name]))
        return _subscription_from_row(rows[0]) if rows else None

    def channel_subscription(self, platform: str, channel: str) -> Subscription | None:
        """The active subscription delivering to this chat channel, if any."""
        rows = list(
            self.db.query(
                "SELECT * FROM subscriptions WHERE platform = ? AND channel = ? AND active"
                " ORDER BY source = 'config' DESC, id LIMIT 1",
                [platform, channel],
            )
        )
        return _subscription_from_row(rows[0]) if rows else None

    def _upsert_subscription(self, subscription: Subscription, now: datetime | None) -> None:
        stamp = to_iso(_now(now))
        options = {
            "language": subscription.language,
            "max_stories": subscription.max_stories,
            "max_per_section": subscription.max_per_section,
            "llm_summaries": subscription.llm_summaries,
            "webhook_env": subscription.webhook_env,
            "path": subscription.path,
        }
        self.db.execute(
            "INSERT INTO subscriptions (name, platform, channel, include_tags, exclude_tags,"
            " schedule, timezone, options, source, active, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET platform = excluded.platform,"
            " channel = excluded.channel, include_tags = excluded.include_tags,"
            " exclude_tags = excluded.exclude_tags, schedule = excluded.schedule,"
            " timezone = excluded.timezone, options = excluded.options,"
            " source = excluded.source, active = 1, updated_at = excluded.updated_at",
            [
                subscription.name,
                subscription.platform,
                subscription.channel,
                json.dumps(list(subscription.include_tags)),
                json.dumps(list(subscription.exclude_tags)),
                subscription.schedule,
                subscription.timezone,
                json.dumps(options),
                subscription.source,
                stamp,
                stamp,
            ],
        )

    # --- the delivery outbox -----------------------------------------------------------------

    def create_digest(
        self,
        subscription: str,
        *,
        start: datetime,
        end: datetime,
        messages: list[dict[str, Any]],
        scheduled_for: datetime | None = None,
        now: datetime | None = None,
    ) -> tuple[OutboxDigest, bool]:
        """Freeze a rendered digest as pending, before anything is sent; (digest, created).

        A digest already made for the same schedule fire or the same period is returned
        instead (created False): a restart or a second tick never makes a second one.
        """
        with self._transaction():
            sub_id = self._subscription_id(subscription)
            cursor = self.db.execute(
                "INSERT INTO digests (subscription_id, period_start, period_end, state, payload,"
                " created_at, scheduled_for) VALUES (?, ?, ?, 'pending', ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [
                    sub_id,
                    to_iso(start),
                    to_iso(end),
                    json.dumps(messages, ensure_ascii=False),
                    to_iso(_now(now)),
                    _iso_or_none(scheduled_for),
                ],
            )
            created = cursor.rowcount == 1
            if created:
                digest_id = cursor.lastrowid
            else:
                digest_id = self.db.execute(
                    "SELECT id FROM digests WHERE subscription_id = ? AND (scheduled_for = ?"
                    " OR (period_start = ? AND period_end = ?))",
                    [sub_id, _iso_or_none(scheduled_for), to_iso(start), to_iso(end)],
                ).fetchone()[0]
        return self.get_digest(digest_id), created

    def get_digest(self, digest_id: int) -> OutboxDigest:
        rows = list(
            self.db.query(
                "SELECT d.*, s.name AS subscription FROM digests d"
                " JOIN subscriptions s ON s.id = d.subscription_id WHERE d.id = ?",
                [digest_id],
            )
        )
        if not rows:
            raise StoreError(f"no digest {digest_id}")
        row = rows[0]
        sent = dict(
            self.db.execute(
                "SELECT position, message_id FROM digest_messages WHERE digest_id = ?",
                [digest_id],
            ).fetchall()
        )
        return OutboxDigest(
            id=row["id"],
            subscription=row["subscription"],
            start=datetime.fromisoformat(row["period_start"]),
            end=datetime.fromisoformat(row["period_end"]),
            scheduled_for=from_iso(row["scheduled_for"]),
            state=row["state"],
            messages=json.loads(row["payload"] or "[]"),
            sent=sent,
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )

    def pending_digests(self) -> list[OutboxDigest]:
        """Digests stored but not yet fully delivered, oldest first: what a restart resumes."""
        ids = self.db.execute("SELECT id FROM digests WHERE state = 'pending' ORDER BY id")
        return [self.get_digest(row[0]) for row in ids.fetchall()]

    def digest_for_fire(self, subscription: str, fire: datetime) -> OutboxDigest | None:
        row = self.db.execute(
            "SELECT d.id FROM digests d JOIN subscriptions s ON s.id = d.subscription_id"
            " WHERE s.name = ? AND d.scheduled_for = ?",
            [subscription, to_iso(fire)],
        ).fetchone()
        return None if row is None else self.get_digest(row[0])

    def record_message_sent(
        self, digest_id: int, position: int, message_id: str | None, now: datetime | None = None
    ) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO digest_messages (digest_id, position, message_id, sent_at)"
                " VALUES (?, ?, ?, ?)",
                [digest_id, position, message_id, to_iso(_now(now))],
            )

    def record_attempt(self, digest_id: int, error: str | None) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE digests SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                [None if error is None else error[:500], digest_id],
            )

    def finish_digest(
        self, digest_id: int, state: str, *, error: str | None = None, now: datetime | None = None
    ) -> None:
        """Mark a digest sent or failed; failed keeps the error for `newsdesk subscriptions`."""
        if state not in ("sent", "failed"):
            raise ValueError(f"a digest finishes sent or failed, not {state!r}")
        with self._transaction():
            self.db.execute(
                "UPDATE digests SET state = ?, sent_at = ?, last_error = coalesce(?, last_error)"
                " WHERE id = ?",
                [state, to_iso(_now(now)) if state == "sent" else None, error, digest_id],
            )

    def digest_history(self, subscription: str, limit: int = 10) -> list[OutboxDigest]:
        ids = self.db.execute(
            "SELECT d.id FROM digests d JOIN subscriptions s ON s.id = d.subscription_id"
            " WHERE s.name = ? ORDER BY d.id DESC LIMIT ?",
            [subscription, limit],
        )
        return [self.get_digest(row[0]) for row in ids.fetchall()]

    def _subscription_id(self, name: str) -> int:
        row = self.db.execute("SELECT id FROM subscriptions WHERE name = ?", [name]).fetchone()
        if row is None:
            raise StoreError(f"no subscription named {name!r}")
        return row[0]

    # --- failing feeds -----------------------------------------------------------------------

    def failing_feeds_to_report(self, after_failures: int) -> list[Feed]:
        """Feeds that failed `after_failures` polls in a row and nobody has been told about."""
        return self._feed_rows(
            "f.error_count >= ? AND f.failure_reported_at IS NULL AND f.paused = 0",
            [after_failures],
        )

    def feed_tags(self, feed_id: int) -> set[str]:
        """The feed's default tags and every tag its items carry: what subscriptions filter on."""
        feed = self.find_feed(feed_id)
        rows = self.db.execute(
            "SELECT DISTINCT t.tag FROM item_tags t JOIN items i ON i.id = t.item_id"
            " WHERE i.feed_id = ?",
            [feed_id],
        )
        return set(feed.tags) | {row[0] for row in rows}

    def mark_failure_reported(self, feed_id: int, now: datetime | None = None) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE feeds SET failure_reported_at = ? WHERE id = ?",
                [to_iso(_now(now)), feed_id],
            )

    # --- summaries ---------------------------------------------------------------------------

    def cached_summaries(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The cached LLM answers among `keys`, each as the JSON object that was saved."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):  # SQLite caps the parameters of one statement
            chunk = keys[start : start + 500]
            rows = self.db.execute(
                f"SELECT key, body FROM summaries WHERE key IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((key, json.loads(body)) for key, body in rows)
        return found

    def save_summary(
        self,
        key: str,
        body: dict[str, Any],
        *,
        kind: str,
        model: str,
        language: str,
        prompt_version: int,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        now: datetime | None = None,
    ) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO summaries (key, kind, model, language, prompt_version,"
                " body, input_tokens, output_tokens, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    key,
                    kind,
                    model,
                    language,
                    prompt_version,
                    json.dumps(body, ensure_ascii=False),
                    input_tokens,
                    output_tokens,
                    to_iso(_now(now)),
                ],
            )

    def tag_counts(self) -> dict[str, int]:
        """How many stories carry each tag."""
        rows = self.db.execute(
            "SELECT t.tag, count(DISTINCT i.story_id) FROM item_tags t"
            " JOIN items i ON i.id = t.item_id GROUP BY t.tag"
        )
        return dict(rows.fetchall())

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables, for reports and tests."""
        return {
            table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("feeds", "items", "stories")
        }


def _subscription_from_row(row: dict[str, Any]) -> Subscription:
    options = json.loads(row["options"] or "{}")
    return Subscription(
        name=row["name"],
        platform=row["platform"],
        channel=row["channel"],
        include_tags=tuple(json.loads(row["include_tags"])),
        exclude_tags=tuple(json.loads(row["exclude_tags"])),
        schedule=row["schedule"],
        timezone=row["timezone"],
        source=row["source"],
        **{key: options[key] for key in _SUBSCRIPTION_OPTIONS if key in options},
    )


_SUBSCRIPTION_OPTIONS = (
    "language",
    "max_stories",
    "max_per_section",
    "llm_summaries",
    "webhook_env",
    "path",
)


def _story_from_row(row: dict[str, Any]) -> Story:
    sources = json.loads(row["sources"]) if row["sources"] else ()  # NULL: one item, one source
    others = [s for s in sources if s != row["representative_source"]]
    return Story(
        id=row["id"],
        title=row["title"],
        url=row["url"],
        summary=row["summary"],
        first_seen=from_iso(row["first_seen"]),
        last_seen=from_iso(row["last_seen"]),
        published=from_iso(row["published"]),
        item_count=row["item_count"],
        sources=(row["representative_source"], *sorted(others)),
        tags=tuple(json.loads(row["tags"])),
        news_at=from_iso(row["news_at"]),
    )


def _story_filters(query: SearchQuery) -> tuple[str, list[Any]]:
    """The WHERE clause for a query's filters over stories `s` and representatives `r`."""
    clauses, args = ["1"], []
    for tag in query.tags:
        clauses.append(
            "EXISTS (SELECT 1 FROM items ti JOIN item_tags tt ON tt.item_id = ti.id"
            " WHERE ti.story_id = s.id AND tt.tag = ?)"
        )
        args.append(tag)
    for source in query.sources:
        clauses.append(
            "EXISTS (SELECT 1 FROM items si JOIN feeds sf ON sf.id = si.feed_id"
            " WHERE si.story_id = s.id AND (CAST(sf.id AS TEXT) = ? OR instr(lower("
            "coalesce(sf.title, '') || ' ' || coalesce(sf.site_title, '') || ' ' || sf.url),"
            " lower(?)) > 0))"
        )
        args.extend([source, source])
    if query.since is not None:
        clauses.append("r.published >= ?")
        args.append(to_iso(query.since))
    if query.before is not None:
        clauses.append("r.published < ?")
        args.append(to_iso(query.before))
    return " AND ".join(clauses), args


_CJK_GAP = re.compile(
    r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff])([\x02\x03]?) ([\x02\x03]?)"
    r"(?=[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff])"
)


def _tidy_snippet(snippet: str) -> str:
    """Undo the CJK spacing of the index in a snippet, highlight markers included."""
    if not snippet:
        return ""
    return unsegment_cjk(_CJK_GAP.sub(r"\1\2\3", snippet))


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else to_iso(moment)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements; sqlite3.executescript would commit early."""
    return [s.strip() for s in sqlite3_split(script) if s.strip()]


def sqlite3_split(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer


def _feed_from_row(row: dict[str, Any]) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"] or row["site_title"],
        tags=tuple(json.loads(row["tags"])),
        paused=bool(row["paused"]),
        source=row["source"],
        interval_minutes=row["interval_minutes"],
        preferred=bool(row["preferred"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        next_poll_at=from_iso(row["next_poll_at"]),
        last_polled_at=from_iso(row["last_polled_at"]),
        last_success_at=from_iso(row["last_success_at"]),
        error_count=row["error_count"],
        last_error=row["last_error"],
        item_count=row["item_count"],
    )
