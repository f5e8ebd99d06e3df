"""The outbox: a digest is stored before it is sent, and sent exactly once.

The sequence for one digest:

1. `enqueue` renders it for its destination and stores the messages as a *pending* digest,
   unique per subscription and schedule fire (or period), before anything goes out.
2. `deliver` counts the run in the store, then sends each message not yet recorded, recording
   the platform's id after each one; when all are recorded the digest is *sent*.
3. A failure is retried with exponential backoff, or after the platform's Retry-After; after
   `delivery_attempts` failures (or at once, for a failure no retry can fix) the digest is
   *failed*, admins are told in the channel (or the log, when the channel itself is gone), and
   the next digest starts where the last sent one ended, so no story is lost.

A crash can fall between the platform accepting a message and the store recording it. So a
run that is not a digest's first asks the platform (`Sender.find`) for each unrecorded
message before sending it: Slack by the key in the message metadata, Discord by the nonce it
enforces. A restart resumes every pending digest this way and posts nothing twice.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from newsdesk.bot.senders import DeliveryError, Sender
from newsdesk.bot.usage import command_name
from newsdesk.config import BotSettings
from newsdesk.digest.text import period_label
from newsdesk.models import Digest, Subscription
from newsdesk.store import OutboxDigest, Store

log = logging.getLogger(__name__)


def message_key(digest_id: int, position: int) -> str:
    """The idempotency key of one message (a Discord nonce holds at most 25 characters)."""
    return f"nd{digest_id}-{position}"


def render_messages(digest: Digest, subscription: Subscription) -> list[dict[str, Any]]:
    """The digest as its destination takes it: platform payloads, or text for files and
    terminals. Frozen into the outbox, so a resend sends exactly what the first try did."""
    if subscription.platform == "slack":
        from newsdesk.digest.render_slack import render_slack

        return render_slack(digest)
    if subscription.platform == "discord":
        from newsdesk.digest.render_discord import render_discord

        return render_discord(digest)
    if subscription.platform in ("file", "markdown"):
        from newsdesk.digest.render_markdown import render_markdown

        return [{"text": render_markdown(digest)}]
    from rich.console import Console

    from newsdesk.digest.render_terminal import render_terminal

    console = Console(record=True, width=100, file=io.StringIO())
    console.print(render_terminal(digest))
    return [{"text": console.export_text(styles=False)}]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    digest: OutboxDigest
    error: str | None = None


class Outbox:
    """Stores digests before sending and drives their delivery; see the module docstring."""

    def __init__(
        self,
        store: Store,
        settings: BotSettings,
        sender_for: Callable[[Subscription], Sender],
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.sender_for = sender_for
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        # One delivery at a time per digest, even if a tick and a command race for it.
        self._locks: dict[int, asyncio.Lock] = {}

    def enqueue(
        self,
        subscription: Subscription,
        digest: Digest,
        *,
        scheduled_for: datetime | None = None,
    ) -> tuple[OutboxDigest, bool]:
        """Store the rendered digest as pending; (the digest, whether it is new)."""
        return self.store.create_digest(
            subscription.name,
            start=digest.period_start,
            end=digest.period_end,
            messages=render_messages(digest, subscription),
            scheduled_for=scheduled_for,
            now=self.clock(),
        )

    async def resume(self) -> list[DeliveryResult]:
        """Deliver every pending digest: what a restart does first."""
        results = []
        for pending in self.store.pending_digests():
            results.append(await self.deliver(pending))
        return results

    async def deliver(self, digest: OutboxDigest) -> DeliveryResult:
        lock = self._locks.setdefault(digest.id, asyncio.Lock())
        async with lock:
            try:
                return await self._deliver(self.store.get_digest(digest.id))
            finally:
                self._locks.pop(digest.id, None)

    async def _deliver(self, digest: OutboxDigest) -> DeliveryResult:
        if digest.state != "pending":
            return DeliveryResult(digest)
        subscription = self.store.get_subscription(digest.subscription)
        if subscription is None:
            error = "its subscription was removed before it could be delivered"
            self.store.finish_digest(digest.id, "failed", error=error, now=self.clock())
            log.warning("digest %d for %s not delivered: %s", digest.id, digest.subscription, error)
            return DeliveryResult(self.store.get_digest(digest.id), error)
        # Counted before the first send: a restart then knows to look before resending.
        resumed = digest.attempts > 0
        self.store.record_attempt(digest.id, digest.last_error)
        try:
            sender = self.sender_for(subscription)
        except DeliveryError as exc:  # e.g. the platform's token or a webhook URL is not set
            return await self._fail(digest, subscription, None, exc, 1)
        failures = 0
        for position, message in enumerate(digest.messages):
            if position in digest.sent:
                continue
            key = message_key(digest.id, position)
            while True:
                try:
                    found = await sender.find(key, since=digest.created_at) if resumed else None
                    message_id = found if found is not None else await sender.send(message, key=key)
                except DeliveryError as exc:
                    failures += 1
                    resumed = True  # the platform may have taken it before the error
                    delay = self._delay(exc, failures)
                    log.warning(
                        "digest %d message %d to %s: %s (failure %d of %d)",
                        digest.id,
                        position,
                        subscription.destination,
                        exc,
                        failures,
                        self.settings.delivery_attempts,
                    )
                    if delay is None:
                        return await self._fail(digest, subscription, sender, exc, failures)
                    await self.sleep(delay)
                    continue
                self.store.record_message_sent(digest.id, position, message_id, now=self.clock())
                break
        self.store.finish_digest(digest.id, "sent", now=self.clock())
        log.info("digest %d delivered to %s", digest.id, subscription.destination)
        return DeliveryResult(self.store.get_digest(digest.id))

    def _delay(self, error: DeliveryError, failures: int) -> float | None:
        """Seconds to wait before the next try, or None to give up."""
        if error.permanent or failures >= self.settings.delivery_attempts:
            return None
        if error.retry_after is not None:
            if error.retry_after > self.settings.max_retry_after_seconds:
                return None
            return error.retry_after
        base = self.settings.retry_base_seconds * 2 ** (failures - 1)
        return min(base * (1 + self.rng.uniform(0, 0.25)), self.settings.max_retry_after_seconds)

    async def _fail(
        self,
        digest: OutboxDigest,
        subscription: Subscription,
        sender: Sender | None,
        error: DeliveryError,
        failures: int,
    ) -> DeliveryResult:
        self.store.finish_digest(digest.id, "failed", error=str(error), now=self.clock())
        period = period_label(digest.start, digest.end)
        log.error(
            "digest %d (%s, %s) failed after %d attempt(s): %s",
            digest.id,
            subscription.name,
            period,
            failures,
            error,
        )
        if sender is not None and not error.channel_gone:
            notice = (
                f"⚠️ Admins: newsdesk could not deliver the digest for {period}"
                f" after {failures} attempt(s) ({error}). Its stories will be in the next"
                " digest; an admin can send it now with"
                f" {command_name('digest now', subscription.platform)}."
            )
            try:
                await sender.send(sender.notice(notice), key=f"nd{digest.id}-fail")
            except DeliveryError as exc:
                log.error("could not tell %s about it either: %s", subscription.destination, exc)
        return DeliveryResult(self.store.get_digest(digest.id), str(error))
