"""The scheduler: digests on time, once per fire, caught up after downtime; polls and reports."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from newsdesk.scheduler import Scheduler
from tests.bot_helpers import Clock, bot_settings, make_runtime
from tests.servers.slack_server import SlackServer

CHANNEL = "C0AINEWS"
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Frontier Signals</title>
<item><guid>1</guid><title>Mistral raises a new funding round</title>
<link>https://signals.example/1</link><description>Investors value it higher.</description>
</item></channel></rss>"""


def weekly_slack(tmp_path, **bot):
    return bot_settings(
        tmp_path,
        bot={"schedule": "0 9 * * mon", "catch_up_hours": 24, **bot},
        subscriptions=[{"name": "team", "platform": "slack", "channel": CHANNEL}],
    )


def client(server: SlackServer) -> AsyncWebClient:
    return AsyncWebClient(token=server.token, base_url=server.base_url, retry_handlers=[])


async def test_a_schedule_fire_sends_that_fires_digest_once(tmp_path, slack_server):
    clock = Clock(MONDAY_9 + timedelta(seconds=2))
    async with make_runtime(
        weekly_slack(tmp_path), clock=clock, slack_client=client(slack_server)
    ) as runtime:
        scheduler = Scheduler(runtime)
        first = await scheduler.fire("team")
        again = await scheduler.fire("team")
    assert first.digest.state == "sent" and first.digest.scheduled_for == MONDAY_9
    assert first.digest.end == MONDAY_9  # the period ends at the fire, not when it ran
    assert again.digest.id == first.digest.id
    assert len(slack_server.messages(CHANNEL)) == 1


async def test_a_restart_after_a_missed_monday_sends_one_digest(tmp_path, slack_server):
    settings = weekly_slack(tmp_path)
    tuesday = Clock(MONDAY_9 + timedelta(hours=23))  # down since Sunday, back Tuesday 08:00
    async with make_runtime(settings, clock=tuesday, slack_client=client(slack_server)) as runtime:
        [result] = await Scheduler(runtime).catch_up()
    async with make_runtime(settings, clock=tuesday, slack_client=client(slack_server)) as runtime:
        assert await Scheduler(runtime).catch_up() == []  # restarted again: nothing new

    assert result.digest.scheduled_for == MONDAY_9
    assert len(slack_server.messages(CHANNEL)) == 1


async def test_a_fire_missed_beyond_the_grace_period_is_not_sent_late(tmp_path, slack_server):
    wednesday = Clock(MONDAY_9 + timedelta(days=2))
    async with make_runtime(
        weekly_slack(tmp_path), clock=wednesday, slack_client=client(slack_server)
    ) as runtime:
        assert await Scheduler(runtime).catch_up() == []
    assert slack_server.messages() == []


async def test_after_weeks_down_only_the_latest_fire_is_sent_covering_the_whole_gap(
    tmp_path, slack_server
):
    settings = weekly_slack(tmp_path, catch_up_hours=24 * 14)
    async with make_runtime(
        settings, clock=Clock(MONDAY_9 - timedelta(days=21)), slack_client=client(slack_server)
    ) as runtime:
        first = await Scheduler(runtime).fire("team")
    back = Clock(MONDAY_9 + timedelta(hours=1))  # two Mondays missed, back on the third
    async with make_runtime(settings, clock=back, slack_client=client(slack_server)) as runtime:
        [result] = await Scheduler(runtime).catch_up()
    assert result.digest.scheduled_for == MONDAY_9
    assert result.digest.start == first.digest.end  # nothing since the last digest is missed
    assert len(slack_server.messages(CHANNEL)) == 2


async def test_start_resumes_a_digest_left_pending_by_a_crash(tmp_path, slack_server):
    settings = weekly_slack(tmp_path)
    clock = Clock(MONDAY_9 + timedelta(minutes=5))
    async with make_runtime(settings, clock=clock, slack_client=client(slack_server)) as runtime:
        composed = await runtime.compose(runtime.store.get_subscription("team"), end=MONDAY_9)
        runtime.outbox.enqueue(
            runtime.store.get_subscription("team"), composed.digest, scheduled_for=MONDAY_9
        )  # ...and the process died before delivering it
    async with make_runtime(settings, clock=clock, slack_client=client(slack_server)) as runtime:
        [result] = await Scheduler(runtime).catch_up()
    assert result.digest.state == "sent" and result.digest.scheduled_for == MONDAY_9
    assert len(slack_server.messages(CHANNEL)) == 1


async def test_jobs_follow_the_stores_subscriptions(tmp_path):
    settings = bot_settings(
        tmp_path,
        subscriptions=[
            {"name": "paris", "schedule": "0 9 * * mon", "timezone": "Europe/Paris"},
            {"name": "tokyo", "schedule": "daily", "timezone": "Asia/Tokyo"},
        ],
    )
    async with make_runtime(settings, clock=Clock(MONDAY_9)) as runtime:
        scheduler = Scheduler(runtime)
        scheduler.start()
        try:
            runs = scheduler.next_runs()
            runtime.store.deactivate_subscription("tokyo")
            runtime.subscriptions_changed()
            after = scheduler.next_runs()
        finally:
            await scheduler.shutdown()
    assert sorted(runs) == ["paris", "tokyo"]
    assert runs["paris"].strftime("%a %H:%M %Z") == "Mon 09:00 CET"
    assert runs["tokyo"].strftime("%H:%M %Z") == "09:00 JST"
    assert sorted(after) == ["paris"]


async def test_a_poll_tick_polls_due_feeds(tmp_path, feed_server):
    feed_server.add("/signals.xml", RSS)
    settings = bot_settings(tmp_path, feeds=[{"url": feed_server.url("/signals.xml")}])
    async with make_runtime(settings, clock=Clock(MONDAY_9)) as runtime:
        scheduler = Scheduler(runtime)
        await scheduler.poll_tick()
        await scheduler.poll_tick()  # not due again yet: no request
        counts = runtime.store.counts()
    assert counts["items"] == 1
    assert len(feed_server.requests) == 1


async def test_a_failing_feed_is_reported_once_to_the_subscriptions_that_include_it(
    tmp_path, feed_server, slack_server
):
    feed_server.add("/down.xml", "oops", status=500, content_type="text/plain")
    url = feed_server.url("/down.xml")
    settings = bot_settings(
        tmp_path,
        bot={"report_failing_feed_after": 2},
        feeds=[{"url": url, "title": "Lab Blog", "tags": ["research"]}],
        subscriptions=[
            {"name": "team", "platform": "slack", "channel": CHANNEL},
            {
                "name": "research",
                "platform": "slack",
                "channel": "C0GENERAL",
                "include_tags": ["research"],
            },
            {
                "name": "hiring",
                "platform": "slack",
                "channel": "C0HIRING",
                "include_tags": ["talent"],
            },
        ],
    )
    slack_server.channels["C0HIRING"] = "hiring"
    clock = Clock(MONDAY_9)
    terminal = io.StringIO()
    async with make_runtime(
        settings, clock=clock, slack_client=client(slack_server), terminal=terminal
    ) as runtime:
        for _ in range(4):  # four failed polls in a row
            await runtime.poll_due()
            clock.now += timedelta(days=2)  # past any backoff
        reported = [m.text for m in slack_server.messages()]
        feed_server.add("/down.xml", RSS)  # recovers...
        await runtime.poll_due()
        clock.now += timedelta(days=2)
        feed_server.add("/down.xml", "oops", status=500, content_type="text/plain")
        for _ in range(2):  # ...and fails again: worth telling again
            await runtime.poll_due()
            clock.now += timedelta(days=2)

    assert len(reported) == 2  # team (all tags) and research; not hiring, and only once each
    assert {m.channel for m in slack_server.messages()[:2]} == {CHANNEL, "C0GENERAL"}
    assert reported[0].startswith("⚠️ The feed Lab Blog (http:")
    assert "has failed 2 polls in a row: HTTP 500" in reported[0]
    assert "/news feeds remove 1" in reported[0]
    assert len(slack_server.messages()) == 4
