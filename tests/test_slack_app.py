"""/news on Slack: signed slash commands through Bolt's HTTP endpoint, answered via response_url.

Bolt runs for real (aiohttp on 127.0.0.1), requests carry real Slack signatures, and every Web
API call it makes (users.info, chat.postMessage) goes to the Slack test server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from newsdesk.bot.commands import Reply
from newsdesk.bot.slack_app import EVENTS_PATH, RESPONSE_URL_USES, build_slack_app, send_reply
from newsdesk.config import SlackSettings
from newsdesk.digest.render_slack import render_slack
from newsdesk.runtime import Runtime
from newsdesk.scheduler import Scheduler
from tests.bot_helpers import Clock, bot_settings, make_runtime
from tests.sample_digests import hostile_week
from tests.servers.slack_server import SlackServer, signed_headers, slash_command_body

SECRET = "3f5c0a9e1b7d2c4e6f8a0b1c2d3e4f50"
CHANNEL = "C0AINEWS"
ADMIN, MEMBER = "U0ADMIN", "U0MEMBER"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Frontier Signals</title><link>https://signals.example/</link>
<item><guid>a1</guid><title>DeepSeek releases V4 with open weights</title>
<link>https://signals.example/deepseek-v4</link>
<description>The model is open-weight and tops coding benchmarks.</description>
<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>
<item><guid>a2</guid><title>@everyone &lt;!channel&gt; Anthropic raises a new round</title>
<link>https://signals.example/funding</link>
<description>&lt;https://evil.example|click here&gt; for the details.</description>
<pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"""


class SlackBot:
    """A Bolt app serving /news over HTTP, and a way to send it signed slash commands."""

    def __init__(self, url: str, server: SlackServer, runtime: Runtime) -> None:
        self.url = url
        self.server = server
        self.runtime = runtime
        self._sent = 0

    async def command(
        self,
        text: str,
        *,
        user: str = MEMBER,
        channel: str = CHANNEL,
        secret: str = SECRET,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        """Send `/news text` as Slack would; (HTTP status, the response_url key)."""
        self._sent += 1
        key = f"r{self._sent}"
        body = slash_command_body(
            text=text,
            user_id=user,
            channel_id=channel,
            response_url=self.server.response_url(key),
        )
        async with httpx.AsyncClient() as client:
            response = await client.post(
                self.url, content=body, headers=signed_headers(secret, body, timestamp)
            )
        return response.status_code, key

    async def ask(self, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Send a command and wait for its answer(s) on the response URL."""
        status, key = await self.command(text, **kwargs)
        assert status == 200
        return await wait_for(lambda: self.server.responses(key))


async def wait_for(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            await asyncio.sleep(0.05)  # let the rest of a multi-part answer land
            return probe()
        await asyncio.sleep(0.02)
    raise AssertionError("nothing arrived in time")


@asynccontextmanager
async def slack_bot(
    tmp_path, server: SlackServer, *, admin_users: list[str] | None = None, **raw: Any
) -> AsyncIterator[SlackBot]:
    settings = bot_settings(tmp_path, **raw)
    delivery = AsyncWebClient(token=server.token, base_url=server.base_url, retry_handlers=[])
    async with make_runtime(settings, clock=Clock(NOW), slack_client=delivery) as runtime:
        app = build_slack_app(
            runtime,
            SlackSettings(admin_users=admin_users or []),
            token=server.token,
            signing_secret=SECRET,
            base_url=server.base_url,
        )
        runner = web.AppRunner(app.web_app(path=EVENTS_PATH))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            yield SlackBot(f"http://{host}:{port}{EVENTS_PATH}", server, runtime)
        finally:
            await runner.cleanup()


@pytest.fixture
def news_feed(feed_server):
    feed_server.add("/signals.xml", RSS)
    return feed_server.url("/signals.xml")


# --- requests and signatures ----------------------------------------------------------------------


async def test_a_signed_command_is_acknowledged_and_answered_privately(tmp_path, slack_server):
    async with slack_bot(tmp_path, slack_server) as bot:
        [answer] = await bot.ask("help")
    assert answer["response_type"] == "ephemeral"
    assert "`/news search &lt;words&gt; [tag:x] [source:y] [since:7d] [page:2]`" in answer["text"]
    assert "This channel gets no digest" in answer["text"]


@pytest.mark.parametrize(
    ("secret", "age"), [("not-the-secret", 0), (SECRET, 10 * 60)], ids=["bad", "stale"]
)
async def test_a_bad_or_stale_signature_is_refused_and_nothing_runs(
    tmp_path, slack_server, secret, age
):
    async with slack_bot(tmp_path, slack_server) as bot:
        status, key = await bot.command("help", secret=secret, timestamp=int(time.time()) - age)
        await asyncio.sleep(0.2)
    assert status == 401
    assert slack_server.responses(key) == []


async def test_slow_work_is_acknowledged_before_it_is_done(tmp_path, slack_server, feed_server):
    feed_server.add("/slow.xml", RSS, delay=1.0)
    async with slack_bot(tmp_path, slack_server, admin_users=[MEMBER]) as bot:
        status, key = await bot.command(f"feeds add {feed_server.url('/slow.xml')}")
        assert status == 200
        assert slack_server.responses(key) == []  # acknowledged; the fetch is still running
        [answer] = await wait_for(lambda: slack_server.responses(key))
    assert answer["text"].startswith("Now following <http://127.0.0.1:")


# --- everyone's commands --------------------------------------------------------------------------


async def test_search_finds_stories_and_shows_hostile_text_harmlessly(
    tmp_path, slack_server, news_feed
):
    async with slack_bot(tmp_path, slack_server, admin_users=[MEMBER]) as bot:
        await bot.ask(f"feeds add {news_feed}")
        [deepseek] = await bot.ask("search deepseek open weights")
        [funding] = await bot.ask("search anthropic")

    assert deepseek["response_type"] == "ephemeral"
    assert (
        "<https://signals.example/deepseek-v4|DeepSeek releases V4 with open weights>"
        in (deepseek["text"])
    )
    text = funding["text"]
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "@\u2060everyone" in text  # shown, but cannot notify
    assert "evil.example" not in text  # the description's link was stripped at ingest


async def test_search_pages_and_says_when_nothing_matches(tmp_path, slack_server, news_feed):
    async with slack_bot(tmp_path, slack_server, admin_users=[MEMBER]) as bot:
        await bot.ask(f"feeds add {news_feed}")
        [nothing] = await bot.ask("search quantum gravity")
        [page_two] = await bot.ask("search deepseek page:2")
        [bad_page] = await bot.ask("search deepseek page:x")
    assert nothing["text"].startswith("No stories match quantum gravity.")
    assert "on page 2" in page_two["text"]
    assert bad_page["text"].startswith("⚠️ page:x is not a page number.")


async def test_tags_lists_the_taxonomy(tmp_path, slack_server):
    async with slack_bot(tmp_path, slack_server) as bot:
        [answer] = await bot.ask("tags")
    assert "`deepseek` DeepSeek: 0 stories" in answer["text"]
    assert "`talent`" in answer["text"]


async def test_unknown_commands_and_bad_quoting_say_what_is_accepted(tmp_path, slack_server):
    async with slack_bot(tmp_path, slack_server) as bot:
        [unknown] = await bot.ask("frobnicate")
        [digest] = await bot.ask("digest later")
        [quote] = await bot.ask('subscribe schedule:"0 9 * * mon')
    assert unknown["text"] == "⚠️ there is no command 'frobnicate'. `/news help` lists the commands."
    assert digest["text"].startswith("⚠️ digest takes one of: preview | now")
    assert quote["text"].startswith("⚠️ a quote is not closed.\nUsage: `/news subscribe")


# --- admin commands -------------------------------------------------------------------------------


async def test_a_member_cannot_run_admin_commands_and_nothing_changes(tmp_path, slack_server):
    async with slack_bot(tmp_path, slack_server) as bot:
        [answer] = await bot.ask("subscribe funding")
        stored = bot.runtime.store.channel_subscription("slack", CHANNEL)
    assert answer["text"].startswith("Sorry, `/news subscribe` is for newsdesk admins")
    assert "Nothing was changed" in answer["text"]
    assert stored is None
    assert slack_server.count("users.info") == 1


async def test_workspace_admins_and_configured_users_are_admins(tmp_path, slack_server):
    async with slack_bot(tmp_path, slack_server, admin_users=["U0LISTED"]) as bot:
        [by_admin] = await bot.ask("feeds list", user=ADMIN)
        [by_listed] = await bot.ask("feeds list", user="U0LISTED")
    assert by_admin["text"].startswith("No feeds yet.")
    assert by_listed["text"].startswith("No feeds yet.")


async def test_subscribing_from_chat_schedules_the_digest_without_a_restart(tmp_path, slack_server):
    async with slack_bot(tmp_path, slack_server) as bot:
        scheduler = Scheduler(bot.runtime)
        scheduler.start()
        try:
            assert scheduler.next_runs() == {"default": scheduler.next_runs()["default"]}
            [answer] = await bot.ask(
                'subscribe funding talent -policy schedule:"30 8 * * 1-5" tz:Europe/Paris',
                user=ADMIN,
            )
            runs = scheduler.next_runs()
            [changed] = await bot.ask('subscribe schedule:"0 18 * * fri"', user=ADMIN)
            changed_runs = scheduler.next_runs()
        finally:
            await scheduler.shutdown()
        stored = bot.runtime.store.channel_subscription("slack", CHANNEL)

    assert answer["response_type"] == "in_channel"
    assert answer["text"].startswith(
        "Subscribed: this channel gets a digest of funding, talent except policy"
        " on `30 8 * * 1-5 (Europe/Paris)`"
    )
    assert runs[f"slack-{CHANNEL}"].strftime("%a %H:%M %Z") in (
        "Mon 08:30 CET",
        "Tue 08:30 CET",
        "Wed 08:30 CET",
        "Thu 08:30 CET",
        "Fri 08:30 CET",
    )
    assert changed["text"].startswith("Updated: this channel gets a digest of all tags")
    assert changed_runs[f"slack-{CHANNEL}"].strftime("%a %H:%M") == "Fri 18:00"
    assert stored.schedule == "0 18 * * fri" and stored.timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("nosuchtag", "⚠️ unknown tag nosuchtag; /news tags lists them"),
        ('schedule:"every monday"', "⚠️ 'every monday' has 2 fields, not 5"),
        ("tz:Mars/Base", "⚠️ unknown time zone 'Mars/Base'"),
        ("lang:English", "⚠️ lang:English is not a language code"),
    ],
)
async def test_bad_subscribe_arguments_are_explained_and_change_nothing(
    tmp_path, slack_server, arguments, says
):
    async with slack_bot(tmp_path, slack_server) as bot:
        [answer] = await bot.ask(f"subscribe {arguments}", user=ADMIN)
        stored = bot.runtime.store.channel_subscription("slack", CHANNEL)
    assert answer["text"].startswith(says)
    assert "Usage: `/news subscribe" in answer["text"]
    assert stored is None


async def test_unsubscribe_stops_the_digest(tmp_path, slack_server):
    async with slack_bot(tmp_path, slack_server) as bot:
        await bot.ask("subscribe", user=ADMIN)
        [answer] = await bot.ask("unsubscribe", user=ADMIN)
        [again] = await bot.ask("unsubscribe", user=ADMIN)
        stored = bot.runtime.store.channel_subscription("slack", CHANNEL)
    assert answer["text"].startswith("Unsubscribed")
    assert again["text"] == "This channel has no digest to stop."
    assert stored is None


async def test_a_channel_subscribed_in_the_config_is_changed_there_not_in_chat(
    tmp_path, slack_server
):
    config = [{"name": "ai-news", "platform": "slack", "channel": CHANNEL}]
    async with slack_bot(tmp_path, slack_server, subscriptions=config) as bot:
        [answer] = await bot.ask("subscribe funding", user=ADMIN)
        stored = bot.runtime.store.channel_subscription("slack", CHANNEL)
    assert "is set in the config file" in answer["text"]
    assert stored.include_tags == () and stored.source == "config"


async def test_feeds_can_be_added_listed_paused_resumed_and_removed(
    tmp_path, slack_server, news_feed
):
    async with slack_bot(tmp_path, slack_server) as bot:
        [added] = await bot.ask(f"feeds add {news_feed} research", user=ADMIN)
        [listed] = await bot.ask("feeds list", user=ADMIN)
        [paused] = await bot.ask("feeds pause 1", user=ADMIN)
        [resumed] = await bot.ask("feeds resume 1", user=ADMIN)
        [removed] = await bot.ask("feeds remove 1", user=ADMIN)
        [gone] = await bot.ask("feeds pause 1", user=ADMIN)
    assert added["response_type"] == "in_channel"
    assert "Frontier Signals" in added["text"] and "2 items stored as archive" in added["text"]
    assert "`1` <http://127.0.0.1" in listed["text"] and "[research]" in listed["text"]
    assert paused["text"] == "Paused Frontier Signals; its items stay searchable."
    assert resumed["text"] == "Resumed Frontier Signals; it is polled again."
    assert removed["text"] == "Stopped following Frontier Signals; 2 items deleted."
    assert gone["text"].startswith("⚠️ no feed '1'")


async def test_a_feed_on_a_private_address_is_refused_unless_the_config_allows_it(
    tmp_path, slack_server, news_feed
):
    async with slack_bot(tmp_path, slack_server, fetch={"allow_private_networks": False}) as bot:
        [answer] = await bot.ask(f"feeds add {news_feed}", user=ADMIN)
        feeds = bot.runtime.store.list_feeds()
    assert answer["text"].startswith("⚠️ not added:")
    assert "private" in answer["text"] or "loopback" in answer["text"]
    assert feeds == []


async def test_a_url_that_is_not_a_feed_is_refused(tmp_path, slack_server, feed_server):
    feed_server.add("/missing.xml", "not here", status=404, content_type="text/plain")
    async with slack_bot(tmp_path, slack_server) as bot:
        [missing] = await bot.ask(f"feeds add {feed_server.url('/missing.xml')}", user=ADMIN)
        [not_url] = await bot.ask("feeds add ftp://example.com/feed", user=ADMIN)
        feeds = bot.runtime.store.list_feeds()
    assert missing["text"].startswith("⚠️ not added:") and "404" in missing["text"]
    # URLs in replies are broken with an invisible joiner so Slack does not link them.
    shown = not_url["text"].replace("\u2060", "")
    assert shown == "⚠️ 'ftp://example.com/feed' is not an http:// or https:// URL"
    assert feeds == []


# --- digests --------------------------------------------------------------------------------------


async def test_digest_preview_shows_this_channels_digest_only_to_the_caller(
    tmp_path, slack_server, news_feed
):
    async with slack_bot(tmp_path, slack_server) as bot:
        [none_yet] = await bot.ask("digest preview")
        await bot.ask("subscribe", user=ADMIN)
        answers = await bot.ask("digest preview")
    assert none_yet["text"].startswith("This channel has no digest yet")
    intro, digest = answers
    assert intro["text"] == f"Preview of the next digest for slack-{CHANNEL}:"
    assert digest["response_type"] == "ephemeral"
    assert digest["blocks"][0]["type"] == "header"
    assert slack_server.messages() == []  # a preview posts nothing to the channel


async def test_digest_now_posts_to_the_channel_once_and_moves_the_next_period(
    tmp_path, slack_server, news_feed
):
    async with slack_bot(tmp_path, slack_server) as bot:
        await bot.ask("subscribe", user=ADMIN)
        [answer] = await bot.ask("digest now", user=ADMIN)
        last_end = bot.runtime.store.last_digest_end(f"slack-{CHANNEL}")
    [posted] = slack_server.messages(CHANNEL)
    assert answer["text"].startswith("Sent the digest for 18–25 Nov 2026 (1 message(s)).")
    assert posted.metadata["event_type"] == "newsdesk_digest"
    assert last_end == NOW


async def test_a_preview_longer_than_a_response_url_allows_ends_with_a_note():
    posted: list[dict[str, Any]] = []

    async def respond(**message: Any) -> None:
        posted.append(message)

    digest = hostile_week()
    parts = len(render_slack(digest))
    assert 1 + parts > RESPONSE_URL_USES  # the intro line and the digest's messages
    await send_reply(respond, Reply("Preview:", digest=digest))
    assert len(posted) == RESPONSE_URL_USES  # Slack refuses a sixth post to one response_url
    assert posted[0]["text"] == "Preview:"
    assert posted[1]["blocks"][0]["type"] == "header"
    left = 1 + parts - (RESPONSE_URL_USES - 1)
    assert posted[-1]["text"].startswith(f"…and {left} more message(s): the full digest is in")
    assert {m["response_type"] for m in posted} == {"ephemeral"}
