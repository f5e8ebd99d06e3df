"""The outbox against real Slack and Discord API servers: delivered once, whatever happens."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from newsdesk.bot.delivery import message_key
from newsdesk.bot.senders import SlackSender
from tests.bot_helpers import bot_settings, make_runtime
from tests.sample_digests import long_week, normal_week
from tests.servers.discord_server import (
    CREATE_MESSAGE,
    DEFAULT_CHANNEL_ID,
    DEFAULT_WEBHOOK_ID,
    DEFAULT_WEBHOOK_TOKEN,
)
from tests.servers.discord_server import Status as DiscordStatus
from tests.servers.slack_server import (
    AcceptThenDrop,
    RateLimited,
    SlackError,
    SlackServer,
    Status,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHANNEL = "C0AINEWS"


def slack_settings(tmp_path: Path, **bot):
    return bot_settings(
        tmp_path,
        bot=bot,
        subscriptions=[{"name": "team", "platform": "slack", "channel": CHANNEL}],
    )


def delivery_client(server: SlackServer) -> AsyncWebClient:
    return AsyncWebClient(token=server.token, base_url=server.base_url, retry_handlers=[])


class Sleeps(list):
    """Records the pauses the outbox asks for instead of waiting them out."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_a_digest_is_stored_pending_then_each_message_is_recorded_and_it_is_sent(
    tmp_path, slack_server
):
    settings = slack_settings(tmp_path)
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        subscription = runtime.store.get_subscription("team")
        stored, created = runtime.outbox.enqueue(subscription, long_week())
        assert created and stored.state == "pending" and len(stored.messages) > 1
        assert slack_server.messages() == []  # stored first, nothing sent yet

        result = await runtime.outbox.deliver(stored)

        posted = slack_server.messages(CHANNEL)
        assert result.error is None and result.digest.state == "sent"
        assert [m.ts for m in posted] == [result.digest.sent[i] for i in range(len(posted))]
        assert [m.metadata["event_payload"]["key"] for m in posted] == [
            message_key(stored.id, i) for i in range(len(posted))
        ]
        assert all(m.unfurl_links is False and m.unfurl_media is False for m in posted)
        assert posted[0].text == stored.messages[0]["text"]


async def test_the_same_fire_never_makes_a_second_digest(tmp_path, slack_server):
    settings = slack_settings(tmp_path)
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        subscription = runtime.store.get_subscription("team")
        first, created = runtime.outbox.enqueue(subscription, normal_week(), scheduled_for=NOW)
        again, created_again = runtime.outbox.enqueue(
            subscription, normal_week(), scheduled_for=NOW
        )
        assert created and not created_again and again.id == first.id


async def test_a_429_storm_is_waited_out_as_slack_asks_and_posts_once(tmp_path, slack_server):
    settings = slack_settings(tmp_path, delivery_attempts=6)
    slack_server.script("chat.postMessage", *[RateLimited(retry_after=7)] * 4)
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        runtime.outbox.sleep = sleeps = Sleeps()
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)

    assert result.digest.state == "sent"
    assert sleeps == [7, 7, 7, 7]
    assert len(slack_server.messages(CHANNEL)) == 1


async def test_transient_errors_back_off_exponentially_then_succeed(tmp_path, slack_server):
    settings = slack_settings(tmp_path, retry_base_seconds=2.0)
    slack_server.script("chat.postMessage", Status(500), Status(503), SlackError("internal_error"))
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        runtime.outbox.sleep = sleeps = Sleeps()
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)

    assert result.digest.state == "sent"
    assert [2 <= sleeps[0] <= 2.5, 4 <= sleeps[1] <= 5, 8 <= sleeps[2] <= 10] == [True] * 3
    assert len(slack_server.messages(CHANNEL)) == 1


async def test_a_connection_cut_after_slack_took_the_message_does_not_post_it_twice(
    tmp_path, slack_server
):
    settings = slack_settings(tmp_path)
    slack_server.script("chat.postMessage", AcceptThenDrop())
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        runtime.outbox.sleep = Sleeps()
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)

    posted = slack_server.messages(CHANNEL)
    assert result.digest.state == "sent"
    assert len(posted) == 1
    assert result.digest.sent == {0: posted[0].ts}  # found in the history, not resent
    assert slack_server.count("conversations.history") == 1


async def test_a_restart_after_a_crash_between_send_and_record_posts_nothing_twice(
    tmp_path, slack_server
):
    settings = slack_settings(tmp_path)
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), long_week())
        total = len(stored.messages)
        # The crashed process: it counted its run, sent message 0 and recorded it, sent
        # message 1, and died before recording that.
        runtime.store.record_attempt(stored.id, None)
        sender = SlackSender(delivery_client(slack_server), CHANNEL)
        first = await sender.send(stored.messages[0], key=message_key(stored.id, 0))
        runtime.store.record_message_sent(stored.id, 0, first)
        await sender.send(stored.messages[1], key=message_key(stored.id, 1))

    # The restarted process resumes from the store alone.
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        [result] = await runtime.outbox.resume()

    posted = slack_server.messages(CHANNEL)
    keys = [m.metadata["event_payload"]["key"] for m in posted]
    assert result.digest.state == "sent"
    assert keys == [message_key(stored.id, i) for i in range(total)]  # each exactly once


async def test_repeated_failure_marks_the_digest_failed_and_tells_admins_in_the_channel(
    tmp_path, slack_server
):
    settings = slack_settings(tmp_path, delivery_attempts=3)
    slack_server.script("chat.postMessage", Status(500), Status(500), Status(500))
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        runtime.outbox.sleep = Sleeps()
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)
        last_end = runtime.store.last_digest_end("team")

    assert result.digest.state == "failed"
    assert "HTTP 500" in result.digest.last_error
    [notice] = slack_server.messages(CHANNEL)
    assert notice.text.startswith("⚠️ Admins: newsdesk could not deliver the digest for 16–22 Nov")
    assert "after 3 attempt(s)" in notice.text
    assert last_end is None  # the next digest starts before this one: its stories are not lost


async def test_a_channel_that_is_gone_fails_at_once_and_is_only_logged(
    tmp_path, slack_server, caplog
):
    settings = slack_settings(tmp_path)
    slack_server.script("chat.postMessage", SlackError("channel_not_found"))
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        runtime.outbox.sleep = sleeps = Sleeps()
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)

    assert result.digest.state == "failed" and sleeps == []
    assert slack_server.messages() == []
    assert "channel_not_found" in caplog.text


async def test_a_retry_after_longer_than_allowed_fails_instead_of_stalling(tmp_path, slack_server):
    settings = slack_settings(tmp_path, max_retry_after_seconds=60)
    slack_server.script("chat.postMessage", RateLimited(retry_after=3600))
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        runtime.outbox.sleep = sleeps = Sleeps()
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)

    assert result.digest.state == "failed" and sleeps == []
    assert "rate limit" in result.error


async def test_slack_without_a_token_fails_the_digest_with_the_variable_to_set(tmp_path):
    settings = slack_settings(tmp_path)
    async with make_runtime(settings) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)
    assert result.digest.state == "failed"
    assert result.error == "Slack is not configured: set SLACK_BOT_TOKEN and restart newsdesk"


async def test_a_slack_webhook_subscription_posts_to_the_url_from_the_environment(
    tmp_path, slack_server, monkeypatch
):
    monkeypatch.setenv("TEAM_WEBHOOK", slack_server.webhook_url("T1/B1/secret"))
    settings = bot_settings(
        tmp_path,
        subscriptions=[{"name": "hook", "platform": "slack", "webhook_env": "TEAM_WEBHOOK"}],
    )
    async with make_runtime(settings) as runtime:
        subscription = runtime.store.get_subscription("hook")
        assert subscription.destination == "slack webhook $TEAM_WEBHOOK"  # never the URL
        stored, _ = runtime.outbox.enqueue(subscription, normal_week())
        result = await runtime.outbox.deliver(stored)

    [post] = slack_server.webhook_posts("T1/B1/secret")
    assert result.digest.state == "sent"
    assert post["blocks"] == stored.messages[0]["blocks"] and post["unfurl_links"] is False


async def test_file_and_terminal_subscriptions_get_text(tmp_path):
    terminal = io.StringIO()
    settings = bot_settings(
        tmp_path,
        subscriptions=[
            {"name": "archive", "platform": "file", "path": str(tmp_path / "d" / "digest.md")},
            {"name": "screen", "platform": "terminal"},
        ],
    )
    async with make_runtime(settings, terminal=terminal) as runtime:
        for name in ("archive", "screen"):
            stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription(name), normal_week())
            assert (await runtime.outbox.deliver(stored)).digest.state == "sent"

    markdown = (tmp_path / "d" / "digest.md").read_text(encoding="utf-8")
    assert markdown.startswith("# AI industry digest")
    assert "AI industry digest" in terminal.getvalue()
    assert "\x1b[" not in terminal.getvalue()  # no colour codes in a stored digest


@pytest.mark.parametrize("state", ["sent", "failed"])
async def test_a_finished_digest_is_never_delivered_again(tmp_path, slack_server, state):
    settings = slack_settings(tmp_path)
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        runtime.store.finish_digest(stored.id, state)
        result = await runtime.outbox.deliver(stored)
        assert await runtime.outbox.resume() == []
    assert result.digest.state == state
    assert slack_server.messages() == []


async def test_a_discord_webhook_subscription_posts_with_wait_and_records_the_message_id(
    tmp_path, discord_server, monkeypatch
):
    url = f"{discord_server.api_base}/webhooks/{DEFAULT_WEBHOOK_ID}/{DEFAULT_WEBHOOK_TOKEN}"
    monkeypatch.setenv("NEWS_HOOK", url)
    settings = bot_settings(
        tmp_path,
        subscriptions=[{"name": "hook", "platform": "discord", "webhook_env": "NEWS_HOOK"}],
    )
    async with make_runtime(settings) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("hook"), long_week())
        result = await runtime.outbox.deliver(stored)

    posts = discord_server.webhook_posts(DEFAULT_WEBHOOK_ID)
    assert result.digest.state == "sent"
    assert [post.message_id for post in posts] == [
        result.digest.sent[i] for i in range(len(stored.messages))
    ]
    assert all(post.payload["allowed_mentions"] == {"parse": []} for post in posts)


async def test_an_unset_webhook_variable_fails_the_digest_naming_it_not_its_value(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("NEWS_HOOK", raising=False)
    settings = bot_settings(
        tmp_path,
        subscriptions=[{"name": "hook", "platform": "slack", "webhook_env": "NEWS_HOOK"}],
    )
    async with make_runtime(settings) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("hook"), normal_week())
        result = await runtime.outbox.deliver(stored)
    assert result.digest.state == "failed"
    assert result.error == "the environment variable NEWS_HOOK (the webhook URL) is not set"


@pytest.mark.faults
async def test_a_malformed_answer_from_slack_is_retried_not_fatal(tmp_path, slack_server):
    settings = slack_settings(tmp_path)
    slack_server.script(
        "chat.postMessage",
        Status(200, body="<html>upstream error</html>"),
        Status(502, body="Bad Gateway"),
    )
    async with make_runtime(settings, slack_client=delivery_client(slack_server)) as runtime:
        runtime.outbox.sleep = sleeps = Sleeps()
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)

    assert result.digest.state == "sent" and len(sleeps) == 2
    assert len(slack_server.messages(CHANNEL)) == 1


@pytest.mark.faults
async def test_a_malformed_answer_from_discord_is_retried_and_posts_once(tmp_path, discord_server):
    from discord.http import HTTPClient

    discord_server.script(CREATE_MESSAGE, DiscordStatus(200, body="<html>upstream error</html>"))
    settings = bot_settings(
        tmp_path,
        subscriptions=[{"name": "team", "platform": "discord", "channel": DEFAULT_CHANNEL_ID}],
    )
    http = HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(discord_server.token)
        async with make_runtime(settings, discord_http=http) as runtime:
            runtime.outbox.sleep = Sleeps()
            stored, _ = runtime.outbox.enqueue(
                runtime.store.get_subscription("team"), normal_week()
            )
            result = await runtime.outbox.deliver(stored)
    finally:
        await http.close()
    posted = discord_server.messages(DEFAULT_CHANNEL_ID)
    assert result.digest.state == "sent"
    assert [m.nonce for m in posted] == [message_key(stored.id, i) for i in range(len(posted))]
    assert len(posted) == len(stored.messages)
