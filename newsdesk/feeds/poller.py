"""One polling pass: due feeds -> fetch -> parse -> store, and when to poll each feed next.

The schedule is data in the store (each feed's `next_poll_at`), not scheduler memory, so a
restart resumes where it stopped. When to come back is decided here, by pure functions:
a healthy feed returns after its interval (never sooner than the server's Cache-Control max-age
or RSS <ttl> ask, never later than the configured ceiling); a failing feed backs off
exponentially with jitter, honouring Retry-After; a feed that keeps failing is still retried,
once a day by default, and never dropped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from newsdesk.config import FetchSettings, Settings
from newsdesk.feeds.dedup import DedupSettings, shingles, signature
from newsdesk.feeds.fetch import Fetcher, FetchResult
from newsdesk.feeds.parse import parse_feed
from newsdesk.feeds.tagging import Taxonomy, load_taxonomy
from newsdesk.models import Feed, Item
from newsdesk.store import Store, StoreError, UpdateCounts

log = logging.getLogger(__name__)

# After this many consecutive failures a feed is "dead": polled at dead_feed_interval_minutes.
DEAD_AFTER_FAILURES = 10
BACKOFF_BASE_MINUTES = 5


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The pure steps between parsing and storing: tagging and near-duplicate signatures."""

    taxonomy: Taxonomy
    dedup: DedupSettings = field(default_factory=DedupSettings)

    @staticmethod
    @functools.cache
    def default() -> Pipeline:
        """The shipped taxonomy and default dedup settings, for callers without a config."""
        return Pipeline(taxonomy=load_taxonomy())

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        """The pipeline a config describes; a bad taxonomy file raises TaxonomyError."""
        taxonomy = load_taxonomy(settings.tags.taxonomy or None)
        return cls(taxonomy=taxonomy, dedup=DedupSettings(**settings.dedup.model_dump()))

    def prepare(self, item: Item, feed: Feed) -> Item:
        return replace(
            item,
            tags=self.taxonomy.tag(item.title, item.summary, feed.tags),
            signature=signature(shingles(item.title, item.summary), self.dedup.num_perm),
        )


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one feed's poll did, for the fetch report and the logs."""

    feed: Feed
    status: Literal["new", "updated", "unchanged", "not_modified", "failed"]
    counts: UpdateCounts = field(default_factory=UpdateCounts)
    error: str | None = None
    next_poll_at: datetime | None = None


def next_poll_after_success(
    settings: FetchSettings,
    now: datetime,
    *,
    interval_minutes: int | None = None,
    max_age_seconds: int | None = None,
    ttl_minutes: int | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The feed's interval, stretched to what the server asked for, within the bounds.

    Up to 10% jitter spreads feeds that were added together across the interval.
    """
    minutes = float(interval_minutes or settings.interval_minutes)
    if max_age_seconds:
        minutes = max(minutes, max_age_seconds / 60)
    if ttl_minutes:
        minutes = max(minutes, float(ttl_minutes))
    minutes *= 1 + (rng or random).uniform(0, 0.1)
    minutes = min(max(minutes, settings.min_interval_minutes), settings.max_interval_minutes)
    return now + timedelta(minutes=minutes)


def next_poll_after_failure(
    settings: FetchSettings,
    now: datetime,
    *,
    failures: int,
    retry_after_seconds: int | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Exponential backoff from 5 minutes, doubled per consecutive failure, with jitter.

    `failures` counts this one. A server's Retry-After is honoured up to the ceiling; a feed
    that has failed DEAD_AFTER_FAILURES times in a row is tried at the dead-feed interval.
    """
    if failures >= DEAD_AFTER_FAILURES:
        minutes = float(settings.dead_feed_interval_minutes)
    else:
        minutes = BACKOFF_BASE_MINUTES * 2 ** (failures - 1)
        minutes *= 1 + (rng or random).uniform(0, 0.25)
    if retry_after_seconds:
        minutes = max(minutes, retry_after_seconds / 60)
    minutes = min(minutes, max(settings.max_interval_minutes, settings.dead_feed_interval_minutes))
    return now + timedelta(minutes=minutes)


async def poll_feeds(
    store: Store,
    fetcher: Fetcher,
    feeds: Sequence[Feed],
    *,
    pipeline: Pipeline | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_done: Callable[[PollOutcome], None] | None = None,
) -> list[PollOutcome]:
    """Poll the given feeds concurrently (the fetcher bounds it) and store each result.

    A feed that fails, however it fails, is recorded and never stops the others.
    """
    pipeline = pipeline or Pipeline.default()

    async def one(feed: Feed) -> PollOutcome:
        result = await fetcher.fetch(
            feed.url,
            etag=feed.etag,
            last_modified=feed.last_modified,
            trusted=feed.source == "config",
        )
        try:
            outcome = record_result(store, fetcher.settings, feed, result, now(), pipeline)
        except StoreError as exc:  # a locked or full database: said plainly, no traceback
            log.error("storing %s failed: %s", feed.url, exc)
            outcome = PollOutcome(feed, "failed", error=str(exc))
        except Exception as exc:  # a bug: report it, keep polling the others
            log.exception("storing %s failed", feed.url)
            outcome = PollOutcome(feed, "failed", error=f"internal error: {exc}")
        if on_done is not None:
            on_done(outcome)
        return outcome

    outcomes = list(await asyncio.gather(*(one(feed) for feed in feeds)))
    store.prune_dedup_candidates(now(), pipeline.dedup.window_days)
    return outcomes


def record_result(
    store: Store,
    settings: FetchSettings,
    feed: Feed,
    result: FetchResult,
    now: datetime,
    pipeline: Pipeline,
) -> PollOutcome:
    """Parse a download, tag it, and write it to the store in one transaction; decide the
    next poll."""
    if result.status == "not_modified":
        next_at = next_poll_after_success(
            settings, now, interval_minutes=feed.interval_minutes, max_age_seconds=result.max_age
        )
        store.record_not_modified(feed.id, now=now, next_poll_at=next_at)
        return PollOutcome(feed, "not_modified", next_poll_at=next_at)

    if result.status == "error":
        return _record_failure(store, settings, feed, result.error, result.retry_after, now)
    parsed = parse_feed(
        result.body,
        content_type=result.content_type,
        url=result.final_url or feed.url,
        now=now,
        summary_max_chars=settings.summary_max_chars,
    )
    if not parsed.items and parsed.error:
        return _record_failure(store, settings, feed, parsed.error, None, now)

    next_at = next_poll_after_success(
        settings,
        now,
        interval_minutes=feed.interval_minutes,
        max_age_seconds=result.max_age,
        ttl_minutes=parsed.ttl_minutes,
    )
    items = [pipeline.prepare(item, feed) for item in parsed.items]
    counts = store.save_items(
        feed.id,
        replace(parsed, items=items),
        now=now,
        next_poll_at=next_at,
        etag=result.etag,
        last_modified=result.last_modified,
        backfill=feed.last_success_at is None,
        dedup=pipeline.dedup,
    )
    if result.moved_to and feed.source != "config":
        # A permanent redirect: poll the new address from now on. Config feeds keep the URL
        # the operator wrote, or the next config sync would add the old one back.
        store.move_feed(feed.id, result.moved_to)
    status = "new" if counts.new else ("updated" if counts.updated else "unchanged")
    return PollOutcome(feed, status, counts=counts, error=parsed.error, next_poll_at=next_at)


def _record_failure(
    store: Store,
    settings: FetchSettings,
    feed: Feed,
    error: str | None,
    retry_after: int | None,
    now: datetime,
) -> PollOutcome:
    error = error or "unknown error"
    next_at = next_poll_after_failure(
        settings, now, failures=feed.error_count + 1, retry_after_seconds=retry_after
    )
    store.record_failure(feed.id, now=now, error=error, next_poll_at=next_at)
    return PollOutcome(feed, "failed", error=error, next_poll_at=next_at)
