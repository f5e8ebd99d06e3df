"""What an admin does to feeds, shared by the CLI and (later) the chat commands.

Adding a feed is more than an INSERT: the URL is checked, the feed is fetched at once so a typo
is caught while the admin is still looking, and what it holds now is stored as backfill, so the
next digest does not announce a year of old posts as news.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsdesk.feeds.canonical import canonical_url
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.poller import Pipeline, PollOutcome, poll_feeds
from newsdesk.models import Feed
from newsdesk.store import Store, StoreError


class FeedRefused(StoreError):
    """The URL is not a feed we can add; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class AddedFeed:
    feed: Feed
    outcome: PollOutcome


async def add_feed(
    store: Store,
    fetcher: Fetcher,
    url: str,
    *,
    title: str | None = None,
    tags: tuple[str, ...] = (),
    source: str = "cli",
    force: bool = False,
    pipeline: Pipeline | None = None,
) -> AddedFeed:
    """Add `url`, fetch it once and store its items as backfill.

    A feed that cannot be fetched or parsed is not kept, unless `force` is set (a server that is
    down today may be up tomorrow; the poller then backs off and keeps retrying).
    """
    url = url.strip()
    if canonical_url(url) is None:
        raise FeedRefused(f"{url!r} is not an http:// or https:// URL")
    feed = store.add_feed(url, title=title, tags=tags, source=source)
    [outcome] = await poll_feeds(store, fetcher, [feed], pipeline=pipeline)
    if outcome.status == "failed" and not force:
        store.remove_feed(feed.id)
        raise FeedRefused(f"not added: {outcome.error}")
    return AddedFeed(feed=store.find_feed(feed.id), outcome=outcome)
