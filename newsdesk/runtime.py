"""What the running bot does, as plain async methods shared by the scheduler and chat commands.

`Runtime` holds the long-lived parts (store, fetcher, outbox, chat clients) and offers the few
operations everything else is made of: poll due feeds, send a subscription's digest, preview
one, tell subscriptions about a failing feed. The scheduler calls them on time; `/news`
commands call them on demand; neither knows how the other works. Chat clients are optional:
with none, digests go to webhooks, files and the terminal.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx

from newsdesk.bot.delivery import DeliveryResult, Outbox
from newsdesk.bot.senders import (
    DeliveryError,
    DiscordSender,
    FileSender,
    Sender,
    SlackSender,
    TerminalSender,
    WebhookSender,
)
from newsdesk.bot.usage import command_name
from newsdesk.config import Settings, secret_from_env
from newsdesk.digest.compose import ComposedDigest, compose_digest, subscriptions_from_settings
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.poller import Pipeline, PollOutcome, poll_feeds
from newsdesk.models import Digest, Feed, Subscription
from newsdesk.store import Store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The bot's parts, built by `newsdesk.app` (or a test) and shared by everything."""

    store: Store
    settings: Settings
    pipeline: Pipeline
    fetcher: Fetcher
    http: httpx.AsyncClient  # for incoming webhooks
    slack_client: Any = None  # slack_sdk AsyncWebClient without retry handlers, when configured
    discord_http: Any = None  # a logged-in discord.http.HTTPClient, when configured
    terminal: TextIO | None = None  # where terminal and markdown subscriptions print
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Called after a subscription changes, so the scheduler rebuilds its jobs at once.
    on_subscriptions_changed: list[Callable[[], None]] = field(default_factory=list)
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(
            self.store, self.settings.bot, self.sender_for, clock=lambda: self.clock()
        )

    # --- subscriptions -----------------------------------------------------------------------

    def sync_config(self, source: str = "<config>") -> None:
        """Store the config's feeds, taxonomy and subscriptions; chat-made ones are kept."""
        self.store.sync_config_feeds(self.settings.feeds, now=self.clock())
        self.store.sync_taxonomy(self.pipeline.taxonomy.tags)
        self.store.sync_config_subscriptions(
            subscriptions_from_settings(self.settings, self.pipeline.taxonomy, source),
            now=self.clock(),
        )

    def subscriptions(self) -> list[Subscription]:
        return self.store.subscriptions()

    def subscriptions_changed(self) -> None:
        for callback in self.on_subscriptions_changed:
            callback()

    # --- digests -----------------------------------------------------------------------------

    async def compose(
        self, subscription: Subscription, *, end: datetime | None = None
    ) -> ComposedDigest:
        """The subscription's next digest: since its last one, up to `end` (default now)."""
        now = self.clock()
        return await compose_digest(
            self.store,
            self.settings,
            self.pipeline.taxonomy,
            subscription,
            now=end or now,
        )

    async def preview(self, subscription: Subscription) -> Digest:
        """What the subscription would get if its digest were sent now; nothing is stored."""
        return (await self.compose(subscription)).digest

    async def send_digest(
        self, subscription: Subscription, *, scheduled_for: datetime | None = None
    ) -> DeliveryResult:
        """Build, store and deliver a digest: for a schedule fire, or (with none) now.

        A fire that already has a digest is not built again; a pending one is delivered.
        """
        if scheduled_for is not None:
            existing = self.store.digest_for_fire(subscription.name, scheduled_for)
            if existing is not None:
                return await self.outbox.deliver(existing)
        composed = await self.compose(subscription, end=scheduled_for)
        outbox_digest, _ = self.outbox.enqueue(
            subscription, composed.digest, scheduled_for=scheduled_for
        )
        return await self.outbox.deliver(outbox_digest)

    def sender_for(self, subscription: Subscription) -> Sender:
        """The transport for a subscription's destination; DeliveryError if it is not set up."""
        if subscription.webhook_env:
            url = secret_from_env(subscription.webhook_env)
            if not url:
                raise DeliveryError(
                    f"the environment variable {subscription.webhook_env} (the webhook URL)"
                    " is not set",
                    permanent=True,
                    channel_gone=True,
                )
            return WebhookSender(subscription.platform, url, self.http)
        if subscription.platform == "slack":
            if self.slack_client is None:
                raise _not_configured("Slack", self.settings.slack.bot_token_env)
            return SlackSender(self.slack_client, subscription.channel)
        if subscription.platform == "discord":
            if self.discord_http is None:
                raise _not_configured("Discord", self.settings.discord.token_env)
            return DiscordSender(self.discord_http, subscription.channel)
        if subscription.platform == "file":
            return FileSender(subscription.path)
        return TerminalSender(self.terminal or sys.stdout)

    # --- feeds -------------------------------------------------------------------------------

    async def poll_due(self) -> list[PollOutcome]:
        """Poll the feeds that are due, then tell subscriptions about feeds that keep failing."""
        feeds = self.store.due_feeds(self.clock())
        outcomes = []
        if feeds:
            outcomes = await poll_feeds(
                self.store, self.fetcher, feeds, pipeline=self.pipeline, now=self.clock
            )
        await self.report_failing_feeds()
        return outcomes

    async def report_failing_feeds(self) -> int:
        """Tell each subscription that includes a feed, once, that the feed keeps failing."""
        threshold = self.settings.bot.report_failing_feed_after
        reported = 0
        for feed in self.store.failing_feeds_to_report(threshold):
            # Marked first: a crash while telling must not turn "once" into "every poll".
            self.store.mark_failure_reported(feed.id, now=self.clock())
            tags = self.store.feed_tags(feed.id)
            for subscription in self.subscriptions():
                if subscription.include_tags and not tags & set(subscription.include_tags):
                    continue
                notice = _failing_feed_notice(feed, subscription.platform)
                await self._notify(subscription, notice)
                reported += 1
        return reported

    async def _notify(self, subscription: Subscription, text: str) -> None:
        try:
            sender = self.sender_for(subscription)
            await sender.send(sender.notice(text), key="notice")
        except DeliveryError as exc:
            log.warning("could not tell %s: %s (%s)", subscription.destination, text, exc)


def _not_configured(platform: str, variable: str) -> DeliveryError:
    return DeliveryError(
        f"{platform} is not configured: set {variable} and restart newsdesk",
        permanent=True,
        channel_gone=True,
    )


def _failing_feed_notice(feed: Feed, platform: str) -> str:
    name = f"{feed.title} ({feed.url})" if feed.title else feed.url
    return (
        f"⚠️ The feed {name} has failed {feed.error_count} polls in a row:"
        f" {feed.last_error or 'unknown error'}. newsdesk keeps retrying it; an admin can"
        f" remove it with {command_name('feeds remove', platform)} {feed.id}."
    )
