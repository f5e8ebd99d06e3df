"""The plain data that flows between newsdesk's parts.

Every arrow in the data flow (fetch -> parse -> dedup -> store -> digest) passes one of these
dataclasses, never a library's object: a feedparser dict, an httpx response or a SQLite row stays
inside the module that produced it. That keeps the middle of the pipeline pure and testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of one feed, normalized so that two feeds' entries can be compared.

    `guid` is the item's identity inside its feed: the feed's own id, else its link, else a hash of
    its text, so an entry is never dropped for lacking an id. `published` is None when the feed gave
    no usable date (missing, unparsable or in the future); the store then uses first-seen instead.
    """

    guid: str
    url: str | None
    title: str
    summary: str
    author: str | None
    published: datetime | None
    content_hash: str
    # Filled in by the ingest pipeline after parsing: the item's tags from the taxonomy and its
    # MinHash signature for near-duplicate stories (empty when not computed).
    tags: frozenset[str] = frozenset()
    signature: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a parser could read from a feed body, plus why it could not read the rest."""

    title: str | None
    link: str | None
    items: list[Item]
    ttl_minutes: int | None = None
    error: str | None = None
    parser: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    """A source URL with its polling state, as the store keeps it."""

    id: int
    url: str
    title: str | None
    tags: tuple[str, ...] = ()
    paused: bool = False
    source: str = "cli"
    interval_minutes: int | None = None
    preferred: bool = False  # its items represent the stories they are in
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    item_count: int = 0


@dataclass(frozen=True, slots=True)
class Story:
    """What a reader cares about: the items about one thing, shown once.

    `sources` are the distinct feed titles (or URLs) that carried the story, representative first.
    """

    id: int
    title: str
    url: str | None
    summary: str
    first_seen: datetime
    last_seen: datetime
    published: datetime
    item_count: int
    sources: tuple[str, ...] = field(default_factory=tuple)
    tags: tuple[str, ...] = field(default_factory=tuple)
