"""The Discord adapter: `/news` and `/news-admin` as application commands. It only translates.

Two top-level commands, because Discord sets default permissions per top-level command:
`/news` (search, tags, help, digest preview) is for everyone, and `/news-admin` (feeds,
subscribe, unsubscribe, digest now) defaults to members with Manage Server, which server
admins can widen under Server Settings → Integrations. The permission is checked again on
every call, with the roles listed in `[discord].admin_roles`, because a command's default
permissions are only a hint to the client.

Every command defers at once, privately (Discord gives up after 3 seconds), and answers with
follow-ups sent without any allowed mentions; an answer meant for the channel replaces the
private placeholder with a public message.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from newsdesk.bot.commands import Caller, Command, Reply, execute
from newsdesk.bot.formatting import DiscordFormat, split_message
from newsdesk.config import DiscordSettings
from newsdesk.digest.render_discord import render_discord
from newsdesk.runtime import Runtime

log = logging.getLogger(__name__)

# What the bot needs in a channel to post digests: View Channel, Send Messages, Embed Links.
INVITE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
NO_MENTIONS = discord.AllowedMentions.none()


class NewsBot(discord.Client):
    """A gateway client with no privileged intents: it only needs slash commands."""

    def __init__(
        self, runtime: Runtime, settings: DiscordSettings, *, application_id: int | None = None
    ) -> None:
        super().__init__(
            intents=discord.Intents.none(),
            application_id=application_id
            or (int(settings.application_id) if settings.application_id else None),
            allowed_mentions=NO_MENTIONS,
        )
        self.settings = settings
        self.tree = app_commands.CommandTree(self)
        for group in build_commands(runtime, settings):
            self.tree.add_command(group)

    async def setup_hook(self) -> None:
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """To the configured guilds (shown at once), or globally (Discord may take an hour)."""
        if self.settings.guilds:
            for guild_id in self.settings.guilds:
                guild = discord.Object(id=int(guild_id))
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))


def discord_is_admin(interaction: discord.Interaction, admin_roles: list[str]) -> bool:
    """Manage Server in this channel, or one of the configured roles; never in DMs."""
    if interaction.guild_id is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    # The role ids the interaction sent: `Member.roles` looks them up in the guild's role cache,
    # which stays empty without the GUILDS intent, so it would never list any.
    role_ids = getattr(interaction.user, "_roles", ())
    return any(str(role_id) in admin_roles for role_id in role_ids)


def invite_url(application_id: str | int) -> str:
    """The OAuth2 URL that adds the bot to a server with the scopes and permissions it needs."""
    return discord.utils.oauth_url(
        application_id,
        permissions=INVITE_PERMISSIONS,
        scopes=("bot", "applications.commands"),
    )


def build_commands(runtime: Runtime, settings: DiscordSettings) -> list[app_commands.Group]:
    """The two command groups, each callback a one-line translation into a `Command`."""
    fmt = DiscordFormat()

    async def run(interaction: discord.Interaction, command: Command) -> None:
        admin = discord_is_admin(interaction, settings.admin_roles)

        async def is_admin() -> bool:
            return admin

        # Deferred privately: whether the answer is for the channel (a feed added, a digest
        # started) is only known once the command ran; refusals and mistakes stay private.
        await interaction.response.defer(ephemeral=True, thinking=True)
        caller = Caller("discord", str(interaction.channel_id), str(interaction.user.id), is_admin)
        try:
            reply = await execute(runtime, caller, command, fmt)
        except Exception:
            log.exception("/news %s failed", command.name)
            reply = Reply("⚠️ Something went wrong; the details are in newsdesk's log.")
        if not reply.ephemeral:
            await interaction.delete_original_response()  # the private "thinking…"
        await send_reply(interaction, reply, ephemeral=reply.ephemeral)

    news = app_commands.Group(name="news", description="AI-industry news: search, tags, digests")
    digest = app_commands.Group(name="digest", description="This channel's digest", parent=news)
    admin = app_commands.Group(
        name="news-admin",
        description="newsdesk admin: feeds and this channel's digest",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )
    feeds = app_commands.Group(name="feeds", description="The feeds newsdesk follows", parent=admin)
    admin_digest = app_commands.Group(name="digest", description="Digests", parent=admin)

    @news.command(name="search", description="Search the news archive")
    @app_commands.describe(
        query='Words, "phrases", tag:x, source:y, since:7d, before:2026-01-01',
        page="Result page (5 per page)",
    )
    async def search(
        interaction: discord.Interaction,
        query: str,
        page: app_commands.Range[int, 1, 100] = 1,
    ) -> None:
        await run(interaction, Command("search", {"query": query, "page": page}))

    @news.command(name="tags", description="The tags stories are filed under")
    async def tags(interaction: discord.Interaction) -> None:
        await run(interaction, Command("tags"))

    @news.command(name="help", description="What newsdesk can do")
    async def help_(interaction: discord.Interaction) -> None:
        await run(interaction, Command("help"))

    @digest.command(name="preview", description="This channel's next digest, only to you")
    async def preview(interaction: discord.Interaction) -> None:
        await run(interaction, Command("digest preview"))

    @feeds.command(name="list", description="The feeds newsdesk follows")
    async def feeds_list(interaction: discord.Interaction) -> None:
        await run(interaction, Command("feeds list"))

    @feeds.command(name="add", description="Follow a feed")
    @app_commands.describe(url="The feed's http(s) URL", tags="Tags for all its items, e.g. china")
    async def feeds_add(interaction: discord.Interaction, url: str, tags: str = "") -> None:
        command = Command("feeds add", {"url": url, "tags": _words(tags)})
        await run(interaction, command)

    @feeds.command(name="remove", description="Stop following a feed and delete its items")
    @app_commands.describe(feed="The feed's id (see /news-admin feeds list) or URL")
    async def feeds_remove(interaction: discord.Interaction, feed: str) -> None:
        await run(interaction, Command("feeds remove", {"feed": feed}))

    @feeds.command(name="pause", description="Stop polling a feed, keeping its items")
    @app_commands.describe(feed="The feed's id or URL")
    async def feeds_pause(interaction: discord.Interaction, feed: str) -> None:
        await run(interaction, Command("feeds pause", {"feed": feed}))

    @feeds.command(name="resume", description="Poll a paused feed again")
    @app_commands.describe(feed="The feed's id or URL")
    async def feeds_resume(interaction: discord.Interaction, feed: str) -> None:
        await run(interaction, Command("feeds resume", {"feed": feed}))

    @admin.command(name="subscribe", description="Send this channel a digest")
    @app_commands.describe(
        tags="Stories with any of these tags (all when empty), e.g. funding research",
        exclude="Leave out stories with these tags",
        schedule='Cron, e.g. "0 9 * * mon" (Mondays 09:00), or weekly, daily, weekdays',
        timezone="IANA time zone, e.g. Europe/Paris",
        language="Language of the summaries, e.g. en, zh, ja",
    )
    async def subscribe(
        interaction: discord.Interaction,
        tags: str = "",
        exclude: str = "",
        schedule: str | None = None,
        timezone: str | None = None,
        language: str | None = None,
    ) -> None:
        args = {
            "tags": _words(tags),
            "exclude": _words(exclude),
            "schedule": schedule,
            "timezone": timezone,
            "language": language,
        }
        await run(interaction, Command("subscribe", args))

    @admin.command(name="unsubscribe", description="Stop this channel's digest")
    async def unsubscribe(interaction: discord.Interaction) -> None:
        await run(interaction, Command("unsubscribe"))

    @admin_digest.command(name="now", description="Send this channel's digest now")
    async def digest_now(interaction: discord.Interaction) -> None:
        await run(interaction, Command("digest now"))

    return [news, admin]


async def send_reply(interaction: discord.Interaction, reply: Reply, *, ephemeral: bool) -> None:
    for part in split_message(reply.text, 2000):
        await interaction.followup.send(part, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
    if reply.digest is not None:
        for message in render_discord(reply.digest):
            embeds = [discord.Embed.from_dict(embed) for embed in message.get("embeds", [])]
            kwargs: dict[str, Any] = {"embeds": embeds} if embeds else {}
            await interaction.followup.send(
                message.get("content") or "",
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
                **kwargs,
            )


def _words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]
