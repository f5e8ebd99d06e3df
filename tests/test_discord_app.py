"""/news and /news-admin on Discord: the real NewsBot (discord.py) against the Discord test server.

The bot logs in for real (GET /users/@me, GET /oauth2/applications/@me) and syncs its command tree
to the server; interactions are then delivered as the gateway delivers them, through
`ConnectionState.parse_interaction_create`, with the payload Discord sends for a slash command
in a guild text channel (or a DM). discord.py dispatches the command, the adapter defers and
answers with followups, and the tests read those followups off the server: their text, the
ephemeral flag, their embeds, their allowed mentions. The store is a real SQLite file.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from discord.http import HTTPClient

from newsdesk.bot.delivery import message_key
from newsdesk.bot.discord_app import NewsBot, invite_url
from newsdesk.bot.senders import DiscordSender
from newsdesk.bot.usage import USAGE
from newsdesk.config import DiscordSettings, Settings
from newsdesk.feeds.canonical import content_hash
from newsdesk.feeds.dedup import DedupSettings
from newsdesk.models import Item, ParsedFeed
from newsdesk.runtime import Runtime
from tests.bot_helpers import Clock, bot_settings, make_runtime
from tests.sample_digests import long_week, normal_week
from tests.servers.discord_server import (
    CREATE_MESSAGE,
    DEFAULT_APPLICATION_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_GUILD_ID,
    DEFAULT_TOKEN,
    FORBIDDEN_CHANNEL_ID,
    DiscordServer,
    InteractionCallback,
    PostedMessage,
    RateLimited,
    Status,
)
from tests.servers.feed_server import FeedServer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SEEN = NOW - timedelta(hours=2)  # when the seeded stories were polled: inside this week's digest

GUILD = DEFAULT_GUILD_ID
CHANNEL = DEFAULT_CHANNEL_ID
OTHER_CHANNEL = "1310000000000000102"
DM_CHANNEL = "1310000000000000103"
ADMIN_ROLE = "1310000000000000900"
OTHER_ROLE = "1310000000000000901"

EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Permission bits as Discord sends them in member.permissions (a decimal string).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | (1 << 6) | (1 << 16)
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_GUILD

READER = {
    "id": "1310000000000000700",
    "username": "reader",
    "discriminator": "0",
    "global_name": "Reader",
    "avatar": None,
    "public_flags": 0,
}

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Frontier Signals</title><link>https://signals.example/</link>
<item><guid>a1</guid><title>DeepSeek releases V4 with open weights</title>
<link>https://signals.example/deepseek-v4</link>
<description>The model is open-weight and tops coding benchmarks.</description>
<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>
<item><guid>a2</guid><title>Anthropic raises a new funding round</title>
<link>https://signals.example/funding</link>
<description>The round values the lab at a new high.</description>
<pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"""


# -- seeding the archive ---------------------------------------------------------------------------


def story(guid: str, title: str, summary: str, url: str) -> Item:
    return Item(
        guid=guid,
        url=url,
        title=title,
        summary=summary,
        author=None,
        published=NOW - timedelta(days=1),
        content_hash=content_hash(title, summary),
    )


DEEPSEEK = story(
    "1",
    "DeepSeek releases V4 with a million-token context",
    "The Hangzhou lab released V4, a mixture-of-experts model with open weights.",
    "https://press.example/deepseek-v4",
)
META = story(
    "2",
    "Meta freezes hiring in its AI division",
    "Meta has paused hiring for research roles after a reorganisation.",
    "https://press.example/meta-freeze",
)
HOSTILE = story(
    "3",
    "@everyone [click](https://evil.example) **x**",
    "<@123456789012345678> @here: the weights shipped, see https://evil.example/bare",
    "https://press.example/hostile",
)


def seed(runtime: Runtime, *items: Item) -> None:
    """Store items as a poll of one feed stores them (tagged, signed), seen at SEEN."""
    feed = runtime.store.add_feed("https://press.example/feed", title="TechPress AI", now=SEEN)
    runtime.store.save_items(
        feed.id,
        ParsedFeed(title=None, link=None, items=[runtime.pipeline.prepare(i, feed) for i in items]),
        now=SEEN,
        next_poll_at=NOW + timedelta(hours=1),
        dedup=DedupSettings(),
    )


# -- interactions ----------------------------------------------------------------------------------


def _option(name: str, value: Any) -> dict[str, Any]:
    kind = {bool: 5, int: 4, str: 3}[type(value)]
    return {"type": kind, "name": name, "value": value}


def command_data(
    command: str, path: tuple[str, ...], options: dict[str, Any], guild: str | None
) -> dict[str, Any]:
    """`data` of an APPLICATION_COMMAND interaction: the subcommand (in its group, if any)
    as a nested option holding the values the user typed."""
    *groups, leaf = path
    node: dict[str, Any] = {
        "type": 1,
        "name": leaf,
        "options": [_option(k, v) for k, v in options.items()],
    }
    for group in reversed(groups):
        node = {"type": 2, "name": group, "options": [node]}
    data: dict[str, Any] = {
        "id": COMMAND_IDS[command],
        "name": command,
        "type": 1,
        "options": [node],
    }
    if guild is not None:  # only commands registered to a guild carry its id
        data["guild_id"] = guild
    return data


COMMAND_IDS = {"news": "1310000000000000800", "news-admin": "1310000000000000801"}


def interaction_payload(
    interaction_id: str,
    token: str,
    data: dict[str, Any],
    *,
    channel: str,
    guild: str | None,
    permissions: int,
    roles: tuple[str, ...],
) -> dict[str, Any]:
    """An INTERACTION_CREATE as the gateway sends it for a slash command, in a guild text
    channel (with the member, their roles and resolved permissions) or, with no guild, a DM."""
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": DEFAULT_APPLICATION_ID,
        "type": 2,
        "token": token,
        "version": 1,
        "data": data,
        "app_permissions": str(VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS),
        "locale": "en-GB",
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if guild is None:
        payload.update(
            channel_id=channel,
            channel={"id": channel, "type": 1, "flags": 0, "recipients": [READER]},
            user=READER,
            authorizing_integration_owners={"0": "0"},
            context=1,  # BOT_DM
        )
        return payload
    payload.update(
        guild_id=guild,
        guild={"id": guild, "locale": "en-US", "features": []},
        guild_locale="en-US",
        channel_id=channel,
        channel={
            "id": channel,
            "type": 0,
            "guild_id": guild,
            "name": "ai-news",
            "position": 3,
            "flags": 0,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "permissions": str(permissions),
        },
        member={
            "user": READER,
            "roles": list(roles),
            "permissions": str(permissions),
            "joined_at": "2025-03-01T10:00:00.000000+00:00",
            "premium_since": None,
            "nick": None,
            "avatar": None,
            "flags": 0,
            "pending": False,
            "deaf": False,
            "mute": False,
            "communication_disabled_until": None,
        },
        authorizing_integration_owners={"0": guild},
        context=0,  # GUILD
    )
    return payload


@dataclass
class Answer:
    """How the bot answered one interaction: its callback and its followup messages."""

    callback: InteractionCallback
    messages: list[PostedMessage]
    placeholder_deleted: bool = False  # the private "thinking…" gave way to a public answer

    @property
    def text(self) -> str:
        return "\n".join(message.content for message in self.messages)

    @property
    def ephemeral(self) -> bool:
        flags = {bool(message.flags & EPHEMERAL) for message in self.messages}
        assert len(flags) == 1, "some parts of the answer are ephemeral and some are not"
        return flags.pop()


class DiscordBot:
    """A logged-in NewsBot, and a way to run slash commands in it as a member would."""

    def __init__(self, bot: NewsBot, server: DiscordServer, runtime: Runtime) -> None:
        self.bot = bot
        self.server = server
        self.runtime = runtime
        self.subscription_changes: list[None] = []
        runtime.on_subscriptions_changed.append(lambda: self.subscription_changes.append(None))
        self._ids = itertools.count(1)
        self.errors: list[Exception] = []  # what discord.py caught around a command

        @bot.tree.error
        async def record(interaction: discord.Interaction, error: Exception) -> None:
            self.errors.append(error)

    async def run(
        self,
        command: str,
        *path: str,
        options: dict[str, Any] | None = None,
        permissions: int = MEMBER_PERMISSIONS,
        roles: tuple[str, ...] = (),
        channel: str = CHANNEL,
        guild: str | None = GUILD,
        guild_command: bool = False,
    ) -> Answer:
        """Deliver `/command path… option:value…` and wait for the command to finish."""
        number = next(self._ids)
        interaction_id, token = f"{1310000000000001000 + number}", f"interaction-token-{number}"
        data = command_data(command, path, options or {}, GUILD if guild_command else None)
        payload = interaction_payload(
            interaction_id,
            token,
            data,
            channel=channel,
            guild=guild,
            permissions=permissions,
            roles=roles,
        )
        before = asyncio.all_tasks()
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        # discord.py runs the command in a task of its own; its end is the answer's end.
        invoked = [t for t in asyncio.all_tasks() - before if t.get_name() == "CommandTree-invoker"]
        assert len(invoked) == 1, "discord.py did not dispatch the command"
        await asyncio.wait_for(invoked[0], timeout=5)
        assert not self.errors, f"the command failed in discord.py: {self.errors!r}"
        [callback] = self.server.interaction_responses(interaction_id)
        deleted = any(
            post.method == "DELETE" and post.token == token for post in self.server.webhook_posts()
        )
        followups = self.server.interaction_messages(token)
        if not deleted:
            original, *followups = followups
            assert original.flags & LOADING  # deferred ("newsdesk is thinking…"), answered below
        assert followups, "the command answered nothing"
        return Answer(callback, followups, placeholder_deleted=deleted)

    async def admin(self, command: str, *path: str, **kwargs: Any) -> Answer:
        return await self.run(command, *path, permissions=ADMIN_PERMISSIONS, **kwargs)


@asynccontextmanager
async def discord_bot(
    tmp_path: Path,
    server: DiscordServer,
    discord_settings: DiscordSettings | None = None,
    *,
    settings: Settings | None = None,
) -> AsyncIterator[DiscordBot]:
    settings = settings or bot_settings(tmp_path)
    async with make_runtime(settings, clock=Clock(NOW)) as runtime:
        bot = NewsBot(
            runtime,
            discord_settings or DiscordSettings(),
            application_id=int(DEFAULT_APPLICATION_ID),
        )
        try:
            await bot.login(DEFAULT_TOKEN)  # logs in and syncs the command tree (setup_hook)
            runtime.discord_http = bot.http
            yield DiscordBot(bot, server, runtime)
        finally:
            await bot.close()


def names(options: list[dict[str, Any]]) -> dict[str, int]:
    return {option["name"]: option["type"] for option in options}


def option(options: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(o for o in options if o["name"] == name)


# -- command sync ----------------------------------------------------------------------------------


async def test_commands_sync_globally_as_news_for_everyone_and_news_admin_for_manage_server(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server):
        pass

    synced = discord_server.synced_commands()
    assert synced is not None and [c["name"] for c in synced] == ["news", "news-admin"]
    news, admin = synced
    assert news["default_member_permissions"] is None and news["dm_permission"] is True
    # discord.py 2.7 sends the bitfield as a number and guild-only as dm_permission (with
    # contexts unset); Discord takes both.
    assert str(admin["default_member_permissions"]) == str(MANAGE_GUILD)
    assert admin["dm_permission"] is False and admin["contexts"] is None

    assert names(news["options"]) == {"search": 1, "tags": 1, "help": 1, "digest": 2}
    assert names(option(news["options"], "digest")["options"]) == {"preview": 1}
    query, page = option(news["options"], "search")["options"]
    assert (query["name"], query["type"], query["required"]) == ("query", 3, True)
    assert (page["name"], page["type"], page["min_value"], page["max_value"]) == ("page", 4, 1, 100)

    assert names(admin["options"]) == {"feeds": 2, "digest": 2, "subscribe": 1, "unsubscribe": 1}
    feeds = option(admin["options"], "feeds")["options"]
    assert names(feeds) == {"list": 1, "add": 1, "remove": 1, "pause": 1, "resume": 1}
    assert names(option(admin["options"], "digest")["options"]) == {"now": 1}
    subscribe = option(admin["options"], "subscribe")["options"]
    assert [(o["name"], o["required"]) for o in subscribe] == [
        ("tags", False),
        ("exclude", False),
        ("schedule", False),
        ("timezone", False),
        ("language", False),
    ]
    assert discord_server.synced_commands(GUILD) is None
    assert discord_server.count("PUT") == 1


async def test_commands_sync_to_the_configured_guilds_instead_and_run_there(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server, DiscordSettings(guilds=[GUILD])) as bot:
        answer = await bot.run("news", "help", guild_command=True)

    in_guild = discord_server.synced_commands(GUILD)
    assert in_guild is not None and [c["name"] for c in in_guild] == ["news", "news-admin"]
    assert discord_server.synced_commands() is None  # the global commands are left alone
    assert answer.text.startswith("**newsdesk: AI-industry news")


# -- everyone's commands ---------------------------------------------------------------------------


async def test_search_defers_privately_and_answers_with_the_matching_stories(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server) as bot:
        seed(bot.runtime, DEEPSEEK, META)
        answer = await bot.run("news", "search", options={"query": "deepseek"})

    assert answer.callback.type == 5 and answer.callback.data == {"flags": EPHEMERAL}
    [reply] = answer.messages
    assert reply.flags & EPHEMERAL
    assert reply.allowed_mentions == {"parse": []}
    assert reply.content.startswith("Stories matching **deepseek**, page 1:\n1. ")
    assert (
        "1. [DeepSeek releases V4 with a million-token context](https://press.example/deepseek-v4)"
        "  24 Nov 2026 · TechPress AI\n> "
    ) in reply.content
    assert "Meta freezes hiring" not in reply.content
    assert discord_server.messages() == []  # nothing in the channel itself


async def test_a_search_that_finds_nothing_says_so(tmp_path, discord_server):
    async with discord_bot(tmp_path, discord_server) as bot:
        seed(bot.runtime, DEEPSEEK)
        answer = await bot.run("news", "search", options={"query": "quantum teleportation"})

    assert answer.ephemeral
    assert answer.text == (
        "No stories match quantum teleportation. Fewer words, or a wider since:, may find some."
    )


async def test_hostile_story_text_is_shown_escaped_and_pings_nobody(tmp_path, discord_server):
    async with discord_bot(tmp_path, discord_server) as bot:
        seed(bot.runtime, HOSTILE)
        answer = await bot.run("news", "search", options={"query": "weights shipped"})

    [reply] = answer.messages
    assert "\\*\\*x\\*\\*" in reply.content  # shown, not bold
    links = re.findall(r"\]\((https?://[^)]*)\)", reply.content.replace("\\]", ""))
    assert links == ["https://press.example/hostile"]  # only the story's own link is live
    assert "@everyone" not in reply.content and "@here" not in reply.content
    assert "<@123456789012345678>" not in reply.content
    assert "everyone" in reply.content  # still readable
    assert reply.allowed_mentions == {"parse": []}
    assert reply.mention_everyone is False
    assert reply.mentioned_users == () and reply.mentioned_roles == ()


async def test_help_lists_the_commands_and_whether_this_channel_has_a_digest(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server) as bot:
        before = await bot.run("news", "help")
        await bot.admin("news-admin", "subscribe", options={"tags": "funding"})
        after = await bot.run("news", "help")

    assert before.ephemeral and after.ephemeral
    assert before.text.startswith("**newsdesk: AI-industry news, searchable")
    for _, does in USAGE.values():
        assert does in before.text
    assert "**For admins**" in before.text
    no_digest = "This channel gets no digest; an admin can start one with `/news-admin subscribe`."
    assert f"\n{no_digest}" in before.text
    # Written as Discord takes them: admin commands under /news-admin, arguments as options.
    assert "`/news search query:<words, tag:x, since:7d> [page:2]`: search the archive" in (
        before.text
    )
    assert "`/news-admin feeds add url:<url> [tags:research china]`" in before.text
    assert after.text.endswith(
        "This channel gets a digest of funding on `0 9 * * mon (UTC)`, next Mon 30 Nov 09:00 UTC."
    )


async def test_tags_lists_the_taxonomy_with_story_counts(tmp_path, discord_server):
    async with discord_bot(tmp_path, discord_server) as bot:
        seed(bot.runtime, DEEPSEEK)
        tags = [tag.name for tag in bot.runtime.pipeline.taxonomy.tags]
        answer = await bot.run("news", "tags")

    assert answer.ephemeral
    assert answer.text.startswith("**Tags** (use them in search with tag:name")
    for name in tags:
        assert f"`{name}`" in answer.text
    assert "🐋 `deepseek` DeepSeek: 1 stories" in answer.text
    assert "💰 `funding` " in answer.text
    assert all(len(message.content) <= 2000 for message in answer.messages)


# -- who is an admin -------------------------------------------------------------------------------


async def test_a_member_without_manage_server_is_refused_and_nothing_is_stored(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server) as bot:
        answer = await bot.run("news-admin", "subscribe", options={"tags": "funding"})
        stored = bot.runtime.store.channel_subscription("discord", CHANNEL)

    assert answer.callback.data == {"flags": EPHEMERAL}
    [reply] = answer.messages
    assert reply.flags & EPHEMERAL
    assert reply.content.startswith("Sorry, `/news-admin subscribe` is for newsdesk admins:")
    assert "members with Manage Server" in reply.content
    assert reply.content.endswith("Nothing was changed.")
    assert stored is None
    assert bot.subscription_changes == []


async def test_a_member_with_manage_server_subscribes_the_channel_for_all_to_see(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server) as bot:
        answer = await bot.admin(
            "news-admin",
            "subscribe",
            options={
                "tags": "funding, policy",
                "exclude": "china",
                "schedule": "0 8 * * fri",
                "timezone": "Europe/Paris",
            },
        )
        stored = bot.runtime.store.channel_subscription("discord", CHANNEL)

    # Deferred privately; the answer, meant for the channel, replaced the placeholder.
    assert answer.callback.data == {"flags": EPHEMERAL} and answer.placeholder_deleted
    [reply] = answer.messages
    assert not reply.flags & EPHEMERAL
    assert reply.allowed_mentions == {"parse": []}
    assert reply.content == (
        "Subscribed: this channel gets a digest of funding, policy except china on"
        " `0 8 * * fri (Europe/Paris)`, next Fri 27 Nov 08:00 CET."
    )
    assert stored is not None
    assert (stored.name, stored.source) == (f"discord-{CHANNEL}", "chat")
    assert stored.include_tags == ("funding", "policy") and stored.exclude_tags == ("china",)
    assert (stored.schedule, stored.timezone, stored.language) == (
        "0 8 * * fri",
        "Europe/Paris",
        "en",
    )
    assert len(bot.subscription_changes) == 1  # the scheduler is told to rebuild its jobs


@pytest.mark.parametrize(
    ("roles", "admin"),
    [((OTHER_ROLE, ADMIN_ROLE), True), ((OTHER_ROLE,), False)],
    ids=["admin-role", "other-role"],
)
async def test_a_role_in_admin_roles_makes_a_member_an_admin(
    tmp_path, discord_server, roles, admin
):
    settings = DiscordSettings(admin_roles=[ADMIN_ROLE])
    async with discord_bot(tmp_path, discord_server, settings) as bot:
        answer = await bot.run("news-admin", "subscribe", roles=roles)  # no Manage Server
        stored = bot.runtime.store.channel_subscription("discord", CHANNEL)

    if admin:
        assert answer.text.startswith("Subscribed: this channel gets a digest of all tags")
        assert not answer.ephemeral and stored is not None
    else:
        assert "is for newsdesk admins" in answer.text
        assert answer.ephemeral and stored is None


async def test_nobody_is_an_admin_in_a_dm(tmp_path, discord_server):
    settings = DiscordSettings(admin_roles=[ADMIN_ROLE])
    async with discord_bot(tmp_path, discord_server, settings) as bot:
        answer = await bot.run(
            "news-admin",
            "subscribe",
            guild=None,
            channel=DM_CHANNEL,
            permissions=ADMIN_PERMISSIONS,
        )
        stored = bot.runtime.store.channel_subscription("discord", DM_CHANNEL)

    assert answer.ephemeral
    assert "is for newsdesk admins" in answer.text
    assert stored is None and bot.subscription_changes == []


async def test_a_member_cannot_send_the_digest_now(tmp_path, discord_server):
    async with discord_bot(tmp_path, discord_server) as bot:
        await bot.admin("news-admin", "subscribe")
        answer = await bot.run("news-admin", "digest", "now")
        digests = bot.runtime.store.pending_digests()

    assert answer.ephemeral and "is for newsdesk admins" in answer.text
    assert digests == [] and discord_server.messages() == []


# -- bad arguments ---------------------------------------------------------------------------------

BAD_ARGUMENTS = [
    pytest.param(
        {"tags": "funding nosuchtag"},
        ["unknown tag nosuchtag", "/news tags lists them (e.g. agents-rag, alibaba-qwen, "],
        id="unknown-tag",
    ),
    pytest.param(
        {"schedule": "every monday"},
        [
            "'every monday' has 2 fields, not 5",
            "minute hour day month weekday",
            "or one of: weekly, daily, weekdays",
        ],
        id="bad-cron",
    ),
    pytest.param(
        {"timezone": "Mars/Base"},
        ["unknown time zone 'Mars/Base'", "use an IANA name such as UTC, Europe/Paris"],
        id="bad-timezone",
    ),
]


@pytest.mark.parametrize(("options", "says"), BAD_ARGUMENTS)
async def test_bad_subscribe_arguments_say_what_is_wrong_and_what_is_accepted_and_change_nothing(
    tmp_path, discord_server, options, says
):
    async with discord_bot(tmp_path, discord_server) as bot:
        answer = await bot.admin("news-admin", "subscribe", options=options)
        stored = bot.runtime.store.channel_subscription("discord", CHANNEL)

    [reply] = answer.messages
    assert reply.content.startswith("⚠️ ")
    for words in says:
        assert words in reply.content
    assert reply.allowed_mentions == {"parse": []}
    assert stored is None and bot.subscription_changes == []


async def test_an_admins_mistake_is_answered_privately(tmp_path, discord_server):
    async with discord_bot(tmp_path, discord_server) as bot:
        answer = await bot.admin("news-admin", "subscribe", options={"tags": "nosuchtag"})

    assert answer.ephemeral and not answer.placeholder_deleted
    assert answer.text.startswith("⚠️ unknown tag nosuchtag")


# -- unsubscribe and previews ----------------------------------------------------------------------


async def test_unsubscribe_stops_the_channels_digest(tmp_path, discord_server):
    async with discord_bot(tmp_path, discord_server) as bot:
        await bot.admin("news-admin", "subscribe", options={"tags": "funding"})
        answer = await bot.admin("news-admin", "unsubscribe")
        stored = bot.runtime.store.channel_subscription("discord", CHANNEL)
        active = bot.runtime.store.subscriptions()

    assert not answer.ephemeral
    assert answer.text == (
        "Unsubscribed: this channel gets no more digests. The archive stays searchable."
    )
    assert stored is None
    assert [s.channel for s in active if s.platform == "discord"] == []
    assert len(bot.subscription_changes) == 2


async def test_digest_preview_shows_the_next_digest_as_embeds_only_to_the_caller(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server) as bot:
        seed(bot.runtime, DEEPSEEK, META)
        await bot.admin("news-admin", "subscribe")
        answer = await bot.run("news", "digest", "preview")
        pending = bot.runtime.store.pending_digests()
        last_end = bot.runtime.store.last_digest_end(f"discord-{CHANNEL}")

    intro, *digest = answer.messages
    assert intro.content == f"Preview of the next digest for discord-{CHANNEL}:"
    assert digest and all(message.embeds for message in digest)
    assert answer.ephemeral
    assert all(message.allowed_mentions == {"parse": []} for message in answer.messages)
    embedded = str([message.embeds for message in digest])
    assert "DeepSeek releases V4" in embedded and "Meta freezes hiring" in embedded
    # A preview is not a delivery: nothing in the channel, nothing stored.
    assert discord_server.messages() == []
    assert pending == [] and last_end is None


async def test_digest_preview_in_a_channel_without_a_digest_says_so(tmp_path, discord_server):
    async with discord_bot(tmp_path, discord_server) as bot:
        await bot.admin("news-admin", "subscribe")
        answer = await bot.run("news", "digest", "preview", channel=OTHER_CHANNEL)

    assert answer.ephemeral
    assert answer.text.startswith("This channel has no digest yet; an admin can start one with")
    assert all(not message.embeds for message in answer.messages)


# -- feeds -----------------------------------------------------------------------------------------


async def test_feeds_add_follows_a_feed_and_feeds_list_lists_it(
    tmp_path, discord_server, feed_server: FeedServer
):
    feed_server.add("/signals.xml", RSS)
    url = feed_server.url("/signals.xml")
    async with discord_bot(tmp_path, discord_server) as bot:
        added = await bot.admin("news-admin", "feeds", "add", options={"url": url})
        listed = await bot.admin("news-admin", "feeds", "list")
        feeds = bot.runtime.store.list_feeds()

    assert [feed.url for feed in feeds] == [url]
    assert not added.ephemeral
    assert added.text == (
        f"Now following [Frontier Signals]({url}) (id {feeds[0].id}): 2 items stored as archive;"
        " new ones will reach digests."
    )
    assert listed.ephemeral
    assert listed.text == f"**1 feeds**\n`{feeds[0].id}` [Frontier Signals]({url}) · 2 items · ok"


async def test_feeds_add_of_a_url_that_is_not_a_feed_is_refused_and_stores_nothing(
    tmp_path, discord_server, feed_server: FeedServer
):
    url = feed_server.url("/taken-down.xml")  # the feed server answers 404
    async with discord_bot(tmp_path, discord_server) as bot:
        answer = await bot.admin("news-admin", "feeds", "add", options={"url": url})
        feeds = bot.runtime.store.list_feeds()

    assert answer.text.startswith("⚠️ not added: ")
    assert "404" in answer.text
    assert feeds == []


async def test_feeds_add_refuses_a_private_address_unless_the_config_allows_it(
    tmp_path, discord_server, feed_server: FeedServer
):
    feed_server.add("/signals.xml", RSS)
    settings = bot_settings(tmp_path, fetch={"allow_private_networks": False})
    async with discord_bot(tmp_path, discord_server, settings=settings) as bot:
        answer = await bot.admin(
            "news-admin", "feeds", "add", options={"url": feed_server.url("/signals.xml")}
        )
        feeds = bot.runtime.store.list_feeds()

    assert answer.text.startswith("⚠️ not added: ")
    assert "a private, loopback or link-local address" in answer.text
    assert "fetch.allow\\_private\\_networks = true" in answer.text
    assert feeds == [] and feed_server.requests == []


# -- digest now ------------------------------------------------------------------------------------


async def test_digest_now_posts_the_digest_to_the_channel_through_the_outbox(
    tmp_path, discord_server
):
    async with discord_bot(tmp_path, discord_server) as bot:
        seed(bot.runtime, DEEPSEEK, META)
        await bot.admin("news-admin", "subscribe")
        answer = await bot.admin("news-admin", "digest", "now")
        last_end = bot.runtime.store.last_digest_end(f"discord-{CHANNEL}")

    posted = discord_server.messages(CHANNEL)
    assert posted, "no digest in the channel"
    digest_id = int(posted[0].nonce.split("-")[0][2:])
    assert [m.nonce for m in posted] == [message_key(digest_id, i) for i in range(len(posted))]
    assert all(m.payload["enforce_nonce"] is True for m in posted)
    assert all(m.allowed_mentions == {"parse": []} for m in posted)
    assert "DeepSeek releases V4" in str([m.embeds for m in posted])
    assert answer.ephemeral
    assert answer.text == (
        f"Sent the digest for 18–25 Nov 2026 ({len(posted)} message(s))."
        " The next scheduled one starts from here."
    )
    assert last_end == NOW


# -- delivery through DiscordSender and the outbox -------------------------------------------------


class Sleeps(list):
    """Records the pauses the outbox asks for instead of waiting them out."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def delivery_settings(tmp_path: Path, channel: str = CHANNEL, **bot: Any) -> Settings:
    return bot_settings(
        tmp_path,
        bot=bot,
        subscriptions=[{"name": "team", "platform": "discord", "channel": channel}],
    )


@asynccontextmanager
async def delivery_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime whose Discord digests go through a logged-in discord.py HTTPClient."""
    http = HTTPClient(loop=asyncio.get_running_loop())
    try:
        await http.static_login(DEFAULT_TOKEN)
        async with make_runtime(settings, discord_http=http) as runtime:
            runtime.outbox.sleep = Sleeps()
            yield runtime
    finally:
        await http.close()


async def test_a_digest_is_delivered_with_nonces_and_no_mentions(tmp_path, discord_server):
    async with delivery_runtime(delivery_settings(tmp_path)) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), long_week())
        result = await runtime.outbox.deliver(stored)

    posted = discord_server.messages(CHANNEL)
    assert result.error is None and result.digest.state == "sent"
    assert len(posted) == len(stored.messages) > 1
    assert [m.nonce for m in posted] == [message_key(stored.id, i) for i in range(len(posted))]
    assert all(m.payload["enforce_nonce"] is True for m in posted)
    assert all(m.allowed_mentions == {"parse": []} for m in posted)
    assert [m.id for m in posted] == [result.digest.sent[i] for i in range(len(posted))]
    assert [m.embeds and m.embeds[0]["title"] for m in posted] == [
        m.get("embeds") and m["embeds"][0]["title"] for m in stored.messages
    ]


async def test_a_429_is_waited_out_and_the_message_posted_once(tmp_path, discord_server):
    discord_server.script(CREATE_MESSAGE, RateLimited(retry_after=0.05))
    async with delivery_runtime(delivery_settings(tmp_path)) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)
        sleeps = runtime.outbox.sleep

    total = len(stored.messages)
    posted = discord_server.messages(CHANNEL)
    assert result.digest.state == "sent"
    assert [m.nonce for m in posted] == [message_key(stored.id, i) for i in range(total)]
    # discord.py slept on the 429 and resent the first message itself: one extra request.
    assert discord_server.count("POST", f"/channels/{CHANNEL}/messages") == total + 1
    assert discord_server.pending() == 0 and sleeps == []


async def test_a_resend_after_a_crash_posts_nothing_twice_thanks_to_the_nonce(
    tmp_path, discord_server
):
    settings = delivery_settings(tmp_path)
    async with delivery_runtime(settings) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), long_week())
        total = len(stored.messages)
        # The crashed process: it counted its run, sent message 0 and died before recording it.
        runtime.store.record_attempt(stored.id, None)
        first = await DiscordSender(runtime.discord_http, CHANNEL).send(
            stored.messages[0], key=message_key(stored.id, 0)
        )

    # The restarted process resumes from the store alone.
    async with delivery_runtime(settings) as runtime:
        [result] = await runtime.outbox.resume()

    posted = discord_server.messages(CHANNEL)
    assert result.digest.state == "sent"
    assert [m.nonce for m in posted] == [message_key(stored.id, i) for i in range(total)]
    assert result.digest.sent[0] == first == posted[0].id  # Discord answered with the first one
    assert discord_server.count("POST", f"/channels/{CHANNEL}/messages") == total + 1


async def test_a_forbidden_channel_fails_at_once_and_posts_no_notice(
    tmp_path, discord_server, caplog
):
    async with delivery_runtime(delivery_settings(tmp_path, FORBIDDEN_CHANNEL_ID)) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)
        sleeps = runtime.outbox.sleep

    assert result.digest.state == "failed" and sleeps == []
    assert result.error == "Discord refused: Missing Permissions"
    assert discord_server.count("POST") == 1  # no retry, and no notice in a channel it cannot use
    assert discord_server.messages() == []
    assert "Missing Permissions" in caplog.text


async def test_repeated_server_errors_fail_the_digest_and_tell_admins_in_the_channel(
    tmp_path, discord_server
):
    discord_server.script(CREATE_MESSAGE, Status(503), Status(503), Status(503))
    settings = delivery_settings(tmp_path, delivery_attempts=3)
    async with delivery_runtime(settings) as runtime:
        stored, _ = runtime.outbox.enqueue(runtime.store.get_subscription("team"), normal_week())
        result = await runtime.outbox.deliver(stored)
        sleeps = runtime.outbox.sleep
        last_end = runtime.store.last_digest_end("team")

    assert result.digest.state == "failed"
    assert "HTTP 503" in result.digest.last_error
    assert len(sleeps) == 2
    [notice] = discord_server.messages(CHANNEL)
    assert notice.content.startswith(
        "⚠️ Admins: newsdesk could not deliver the digest for 16–22 Nov"
    )
    assert "after 3 attempt(s)" in notice.content
    assert notice.nonce == f"nd{stored.id}-fail"
    assert notice.allowed_mentions == {"parse": []}
    assert last_end is None  # the next digest starts before this one: its stories are not lost


# -- invite ----------------------------------------------------------------------------------------


def test_the_invite_url_asks_for_the_bot_and_commands_scopes_and_only_what_it_needs():
    url = urlsplit(invite_url(DEFAULT_APPLICATION_ID))
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    assert query["client_id"] == [DEFAULT_APPLICATION_ID]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS)] == ["19456"]
    assert discord.Permissions(int(query["permissions"][0])) == discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True
    )
