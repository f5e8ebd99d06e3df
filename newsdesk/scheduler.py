"""APScheduler wiring: a poll tick, and one cron job per subscription.

The jobs only wake the bot up; the store decides what is due. A poll tick polls the feeds
whose `next_poll_at` has passed. A subscription's job, at each fire of its schedule, sends the
digest for that fire, which the outbox stores once per fire. On start, `catch_up` sends the
digest of any fire missed while the bot was down, if it is within `bot.catch_up_hours`, and
resumes digests left pending by a crash. When a subscription changes (from chat or the
config), `rebuild` replaces the cron jobs from the store, so no restart is needed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from newsdesk.bot.delivery import DeliveryResult
from newsdesk.models import Subscription
from newsdesk.runtime import Runtime
from newsdesk.schedule import ScheduleError, last_fire, parse_schedule

log = logging.getLogger(__name__)

POLL_JOB = "poll"
DIGEST_JOB_PREFIX = "digest:"


class Scheduler:
    """Owns the AsyncIOScheduler; call `start` inside the running event loop."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._tasks: set[asyncio.Task[Any]] = set()
        runtime.on_subscriptions_changed.append(self.rebuild)

    def start(self) -> None:
        """Start firing the subscriptions' digests (polling starts with `start_polling`)."""
        self.rebuild()
        self.scheduler.start()

    def start_polling(self) -> None:
        """Poll due feeds every `bot.poll_seconds` from now on."""
        self.scheduler.add_job(
            self.poll_tick,
            IntervalTrigger(seconds=self.runtime.settings.bot.poll_seconds, timezone=UTC),
            id=POLL_JOB,
            replace_existing=True,
            max_instances=1,  # a slow pass is never doubled by the next tick
            coalesce=True,
        )

    async def shutdown(self) -> None:
        """Stop firing, then let running digests and polls finish (they are resumable anyway)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def rebuild(self) -> None:
        """One cron job per active subscription, replacing whatever was scheduled before."""
        wanted = {}
        for subscription in self.runtime.subscriptions():
            try:
                trigger = parse_schedule(subscription.schedule, subscription.timezone)
            except ScheduleError as exc:  # only a hand-edited database gets here
                log.error("subscription %s has a bad schedule: %s", subscription.name, exc)
                continue
            job_id = DIGEST_JOB_PREFIX + subscription.name
            wanted[job_id] = subscription.name
            self.scheduler.add_job(
                self.fire,
                trigger,
                args=[subscription.name],
                id=job_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(60, self.runtime.settings.bot.catch_up_hours * 3600),
            )
        for job in self.scheduler.get_jobs():
            if job.id.startswith(DIGEST_JOB_PREFIX) and job.id not in wanted:
                job.remove()

    def next_runs(self) -> dict[str, datetime | None]:
        """Each subscription's next digest time, for `/news help` and the logs."""
        return {
            job.id.removeprefix(DIGEST_JOB_PREFIX): job.next_run_time
            for job in self.scheduler.get_jobs()
            if job.id.startswith(DIGEST_JOB_PREFIX)
        }

    async def poll_tick(self) -> None:
        try:
            outcomes = await self.runtime.poll_due()
        except Exception:  # one bad pass must not end the schedule
            log.exception("poll pass failed")
            return
        if outcomes:
            new = sum(outcome.counts.new for outcome in outcomes)
            failed = sum(outcome.status == "failed" for outcome in outcomes)
            log.info("polled %d feeds: %d new items, %d failed", len(outcomes), new, failed)

    async def fire(self, name: str) -> DeliveryResult | None:
        """The schedule of subscription `name` fired: send the digest for that fire."""
        subscription = self.runtime.store.get_subscription(name)
        if subscription is None:
            return None
        fire = self._latest_fire(subscription, self.runtime.clock())
        if fire is None:
            return None
        return await self._track(self._send(subscription, fire))

    async def catch_up(self) -> list[DeliveryResult]:
        """On start: resume pending digests, then send each fire missed within the grace period.

        Only the latest missed fire of each subscription is sent, once: a bot that was down for
        three Mondays posts one digest, covering everything since the last one.
        """
        results = await self.runtime.outbox.resume()
        now = self.runtime.clock()
        for subscription in self.runtime.subscriptions():
            fire = self._latest_fire(subscription, now)
            if fire is None or self.runtime.store.digest_for_fire(subscription.name, fire):
                continue
            log.info("sending %s's digest missed at %s", subscription.name, fire.isoformat())
            result = await self._track(self._send(subscription, fire))
            if result is not None:
                results.append(result)
        return results

    def _latest_fire(self, subscription: Subscription, now: datetime) -> datetime | None:
        grace = timedelta(hours=self.runtime.settings.bot.catch_up_hours, minutes=1)
        try:
            trigger = parse_schedule(subscription.schedule, subscription.timezone)
        except ScheduleError:
            return None
        fire = last_fire(trigger, now, grace)
        return None if fire is None else fire.astimezone(UTC)

    async def _send(self, subscription: Subscription, fire: datetime) -> DeliveryResult | None:
        try:
            return await self.runtime.send_digest(subscription, scheduled_for=fire)
        except Exception:  # a bug in one digest must not stop the others or the schedule
            log.exception("the digest of %s for %s failed", subscription.name, fire.isoformat())
            return None

    async def _track(
        self, work: Coroutine[Any, Any, DeliveryResult | None]
    ) -> DeliveryResult | None:
        """Run work as a task that `shutdown` waits for."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        try:
            return await task
        finally:
            self._tasks.discard(task)
