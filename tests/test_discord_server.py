"""The Discord test server against discord.py's own HTTP client: what the bot's tests rely on
(messages, nonces, errors, retries, dropped connections, command sync, interactions, webhooks)
behaves as discord.py expects from the real API."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.http import HTTPClient, MultipartParameters, Route, handle_message_parameters

from tests.servers.discord_server import (
    CREATE_MESSAGE,
    DEFAULT_APPLICATION_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_GUILD_ID,
    DEFAULT_TOKEN,
    DEFAULT_WEBHOOK_ID,
    DEFAULT_WEBHOOK_TOKEN,
    EXECUTE_WEBHOOK,
    FORBIDDEN_CHANNEL_ID,
    LIST_MESSAGES,
    SYNC_GLOBAL_COMMANDS,
    AcceptThenDrop,
    Delay,
    DiscordServer,
    RateLimited,
    Status,
)

UNKNOWN_CHANNEL_ID = "1310000000000000999"
READER = {
    "id": "1310000000000000700",
    "username": "reader",
    "discriminator": "0",
    "global_name": "Reader",
    "avatar": None,
}


@contextlib.asynccontextmanager
async def logged_in(token: str = DEFAULT_TOKEN) -> AsyncIterator[HTTPClient]:
    """discord.py's HTTPClient after static_login, closed afterwards even when login fails."""
    http = HTTPClient(loop=asyncio.get_running_loop())
    try:
        await http.static_login(token)
        yield http
    finally:
        await http.close()


@contextlib.asynccontextmanager
async def bot_client() -> AsyncIterator[discord.Client]:
    """A logged-in discord.Client (REST only, no gateway), closed afterwards."""
    client = discord.Client(intents=discord.Intents.none(), application_id=DEFAULT_APPLICATION_ID)
    try:
        await client.login(DEFAULT_TOKEN)
        yield client
    finally:
        await client.close()


def digest_params(
    content: str = "Weekly digest", nonce: str | None = "digest-1-0"
) -> MultipartParameters:
    return handle_message_parameters(
        content=content,
        embeds=[discord.Embed(title="AI this week", description="Three stories")],
        nonce=nonce,
        allowed_mentions=discord.AllowedMentions.none(),
    )


def interaction_payload(interaction_id: str, token: str) -> dict[str, Any]:
    """The smallest slash-command interaction discord.py accepts (a DM, so no guild cache)."""
    return {
        "id": interaction_id,
        "application_id": DEFAULT_APPLICATION_ID,
        "type": 2,
        "token": token,
        "version": 1,
        "attachment_size_limit": 8 * 1024 * 1024,
        "user": READER,
        "channel": {"id": DEFAULT_CHANNEL_ID, "type": 1, "recipients": [READER]},
        "data": {"id": "1310000000000000800", "name": "news", "type": 1},
    }


# -- login -----------------------------------------------------------------------------------


async def test_static_login_returns_the_bot_user(discord_server: DiscordServer) -> None:
    http = HTTPClient(loop=asyncio.get_running_loop())
    try:
        me = await http.static_login(DEFAULT_TOKEN)
    finally:
        await http.close()
    assert me["id"] == discord_server.bot_user_id
    assert me["bot"] is True and me["discriminator"] == "0" and me["avatar"] is None
    assert discord_server.calls == [("GET", "/users/@me")]
    assert discord_server.requests[0].headers["Authorization"] == f"Bot {DEFAULT_TOKEN}"


async def test_wrong_token_raises_login_failure(discord_server: DiscordServer) -> None:
    with pytest.raises(discord.LoginFailure):
        async with logged_in("not-the-token"):
            pass
    assert discord_server.count("GET", "/users/@me") == 1


async def test_client_login_fetches_the_application(discord_server: DiscordServer) -> None:
    async with bot_client() as client:
        assert client.user is not None and str(client.user.id) == discord_server.bot_user_id
        assert str(client.application_id) == DEFAULT_APPLICATION_ID
    assert discord_server.calls == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]


# -- messages --------------------------------------------------------------------------------


async def test_sent_messages_are_stored_and_read_back_newest_first(
    discord_server: DiscordServer,
) -> None:
    async with logged_in() as http:
        first = await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params("one", "n-1"))
        second = await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params("two", "n-2"))
        listed = await http.logs_from(DEFAULT_CHANNEL_ID, limit=10)

    assert int(second["id"]) > int(first["id"])
    assert first["nonce"] == "n-1" and first["author"]["id"] == discord_server.bot_user_id
    assert [m["id"] for m in listed] == [second["id"], first["id"]]
    assert all("nonce" not in m for m in listed)  # Discord echoes it on create only
    stored = discord_server.messages(DEFAULT_CHANNEL_ID)
    assert [m.content for m in stored] == ["one", "two"]
    assert stored[0].id == first["id"] and stored[0].nonce == "n-1"
    assert stored[0].embeds[0]["title"] == "AI this week"
    assert stored[0].allowed_mentions == {"parse": []}
    assert stored[0].payload["enforce_nonce"] is True


async def test_messages_parse_into_discord_py_models(discord_server: DiscordServer) -> None:
    async with bot_client() as client:
        channel = client.get_partial_messageable(int(DEFAULT_CHANNEL_ID))
        sent = await channel.send("Hello", embed=discord.Embed(title="Digest"))
        history = [message async for message in channel.history(limit=5)]

    assert sent.content == "Hello" and sent.embeds[0].title == "Digest"
    assert sent.author.bot and sent.created_at.year >= 2025
    assert [message.id for message in history] == [sent.id]


async def test_an_edit_replaces_the_stored_message(discord_server: DiscordServer) -> None:
    async with bot_client() as client:
        channel = client.get_partial_messageable(int(DEFAULT_CHANNEL_ID))
        sent = await channel.send("Draft")
        edited = await sent.edit(content="Final")
        fetched = await channel.fetch_message(sent.id)

    assert edited.content == fetched.content == "Final" and fetched.edited_at is not None
    (stored,) = discord_server.messages()
    assert stored.content == "Final" and stored.edits == 1 and stored.payload["content"] == "Final"
    assert stored.nonce is not None  # Messageable.send makes one up: a random 64-bit number


async def test_a_file_upload_is_read_from_multipart(discord_server: DiscordServer) -> None:
    upload = discord.File(io.BytesIO(b"# Digest\n"), filename="digest.md")
    async with logged_in() as http:
        sent = await http.send_message(
            DEFAULT_CHANNEL_ID, params=handle_message_parameters(content="Attached", file=upload)
        )

    assert [(a["filename"], a["size"]) for a in sent["attachments"]] == [("digest.md", 9)]
    (stored,) = discord_server.messages()
    assert stored.content == "Attached" and stored.filenames == ("digest.md",)
    assert discord_server.requests[-1].headers["Content-Type"].startswith("multipart/form-data")


async def test_mentions_are_resolved_against_allowed_mentions(
    discord_server: DiscordServer,
) -> None:
    text = "@everyone see <@1310000000000000700>"
    async with logged_in() as http:
        await http.send_message(
            DEFAULT_CHANNEL_ID,
            params=handle_message_parameters(
                content=text, allowed_mentions=discord.AllowedMentions.none()
            ),
        )
        await http.send_message(DEFAULT_CHANNEL_ID, params=handle_message_parameters(text))

    muted, loud = discord_server.messages()
    assert not muted.mention_everyone and muted.mentioned_users == ()
    assert loud.mention_everyone and loud.mentioned_users == ("1310000000000000700",)


async def test_a_repeated_nonce_returns_the_first_message(discord_server: DiscordServer) -> None:
    async with logged_in() as http:
        first = await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params())
        again = await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params("edited?"))
        other = await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params(nonce="n-2"))

    assert again["id"] == first["id"] and again["content"] == "Weekly digest"
    assert other["id"] != first["id"]
    assert [m.nonce for m in discord_server.messages()] == ["digest-1-0", "n-2"]


async def test_unknown_channel_raises_not_found(discord_server: DiscordServer) -> None:
    async with logged_in() as http:
        with pytest.raises(discord.NotFound) as caught:
            await http.send_message(UNKNOWN_CHANNEL_ID, params=digest_params())
    assert caught.value.code == 10003
    assert discord_server.messages() == []


async def test_forbidden_channel_raises_forbidden(discord_server: DiscordServer) -> None:
    async with logged_in() as http:
        with pytest.raises(discord.Forbidden) as caught:
            await http.send_message(FORBIDDEN_CHANNEL_ID, params=digest_params())
    assert caught.value.code == 50013
    assert discord_server.messages() == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (handle_message_parameters(content=""), 50006),
        (handle_message_parameters(content="x" * 2001), 50035),
        (handle_message_parameters(content="x", nonce="n" * 26), 50035),
        (
            handle_message_parameters(
                embeds=[discord.Embed(description="d" * 4000) for _ in range(2)]
            ),
            50035,
        ),
    ],
    ids=["empty", "content-too-long", "nonce-too-long", "embeds-over-6000"],
)
async def test_messages_discord_would_reject_raise_http_exception(
    discord_server: DiscordServer, params: MultipartParameters, code: int
) -> None:
    async with logged_in() as http:
        with pytest.raises(discord.HTTPException) as caught:
            await http.send_message(DEFAULT_CHANNEL_ID, params=params)
    assert caught.value.status == 400 and caught.value.code == code
    assert discord_server.messages() == []


# -- scripted failures -----------------------------------------------------------------------


async def test_a_429_is_slept_on_and_retried_once_stored(discord_server: DiscordServer) -> None:
    discord_server.script(CREATE_MESSAGE, RateLimited(retry_after=0.05))
    async with logged_in() as http:
        started = time.monotonic()
        sent = await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params())
        elapsed = time.monotonic() - started

    assert elapsed >= 0.05
    assert discord_server.count("POST", f"/channels/{DEFAULT_CHANNEL_ID}/messages") == 2
    assert [m.id for m in discord_server.messages()] == [sent["id"]]
    assert discord_server.pending() == 0


async def test_a_429_without_via_is_taken_for_a_ban_and_not_retried(
    discord_server: DiscordServer,
) -> None:
    discord_server.script(CREATE_MESSAGE, RateLimited(retry_after=0.05, via=None))
    async with logged_in() as http:
        with pytest.raises(discord.HTTPException) as caught:
            await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params())
    assert caught.value.status == 429
    assert discord_server.count("POST", "/channels/") == 1 and discord_server.messages() == []


async def test_a_global_429_is_retried(discord_server: DiscordServer) -> None:
    discord_server.script(LIST_MESSAGES, RateLimited(retry_after=0.02, global_=True))
    async with logged_in() as http:
        assert await http.logs_from(DEFAULT_CHANNEL_ID, limit=5) == []
    assert discord_server.count("GET", "/channels/") == 2


async def test_a_scripted_503_raises_at_once_without_storing(
    discord_server: DiscordServer,
) -> None:
    discord_server.script(CREATE_MESSAGE, Status(503))
    async with logged_in() as http:
        with pytest.raises(discord.DiscordServerError) as caught:
            await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params())
    assert caught.value.status == 503
    assert discord_server.count("POST", "/channels/") == 1 and discord_server.messages() == []


async def test_a_dropped_answer_raises_but_the_message_exists_and_a_resend_finds_it(
    discord_server: DiscordServer,
) -> None:
    discord_server.script(CREATE_MESSAGE, AcceptThenDrop())
    async with logged_in() as http:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params())
        resent = await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params())

    (stored,) = discord_server.messages()
    assert resent["id"] == stored.id
    assert discord_server.count("POST", "/channels/") == 2


async def test_aiohttp_resends_a_dropped_put_by_itself(discord_server: DiscordServer) -> None:
    discord_server.script(SYNC_GLOBAL_COMMANDS, AcceptThenDrop())
    async with logged_in() as http:
        answer = await http.bulk_upsert_global_commands(
            DEFAULT_APPLICATION_ID, payload=[{"name": "news", "description": "News"}]
        )
    assert [command["name"] for command in answer] == ["news"]
    assert discord_server.count("PUT", "/applications/") == 2


async def test_a_delay_answers_late(discord_server: DiscordServer) -> None:
    discord_server.script(CREATE_MESSAGE, Delay(0.05))
    async with logged_in() as http:
        started = time.monotonic()
        await http.send_message(DEFAULT_CHANNEL_ID, params=digest_params())
        assert time.monotonic() - started >= 0.05
    assert len(discord_server.messages()) == 1


def test_scripting_an_unknown_route_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown route"):
        DiscordServer().script("POST /channels/{id}/messages", Status(500))


async def test_a_route_the_server_lacks_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with DiscordServer() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        async with logged_in() as http:
            with pytest.raises(discord.NotFound):
                await http.request(Route("GET", "/guilds/{guild_id}", guild_id=DEFAULT_GUILD_ID))
    assert len(server.errors) == 1 and "GET /guilds/" in str(server.errors[0])


# -- application commands ----------------------------------------------------------------------


async def test_command_tree_sync_records_global_and_guild_commands(
    discord_server: DiscordServer,
) -> None:
    async with bot_client() as client:
        tree = app_commands.CommandTree(client)

        @tree.command(name="news", description="Search the news")
        @app_commands.describe(query="What to look for")
        async def news(interaction: discord.Interaction, query: str) -> None:
            pass

        synced = await tree.sync()
        guild = discord.Object(id=int(DEFAULT_GUILD_ID))
        tree.copy_global_to(guild=guild)
        in_guild = await tree.sync(guild=guild)
        again = await tree.sync()

    assert [command.name for command in synced] == ["news"]
    assert synced[0].options[0].name == "query"
    assert str(synced[0].application_id) == DEFAULT_APPLICATION_ID
    assert again[0].id == synced[0].id  # ids survive a re-sync, as on Discord
    assert in_guild[0].guild_id == int(DEFAULT_GUILD_ID) and in_guild[0].id != synced[0].id
    assert [c["name"] for c in discord_server.synced_commands() or []] == ["news"]
    assert [c["name"] for c in discord_server.synced_commands(DEFAULT_GUILD_ID) or []] == ["news"]
    assert discord_server.synced_commands(1) is None


# -- interactions and webhooks -------------------------------------------------------------


async def test_interaction_defer_followup_and_edit_original(discord_server: DiscordServer) -> None:
    async with bot_client() as client:
        interaction = discord.Interaction(
            data=interaction_payload("1310000000000000600", "token-1"),  # type: ignore[arg-type]
            state=client._connection,
        )
        deferred = await interaction.response.defer(thinking=True, ephemeral=True)
        followup = await interaction.followup.send("Found 3 stories", wait=True)
        edited = await interaction.edit_original_response(content="Results")
        original = await interaction.original_response()

    assert deferred.is_thinking() and deferred.is_ephemeral()
    (callback,) = discord_server.interaction_responses("1310000000000000600")
    assert callback.type == 5 and callback.data == {"flags": 64}
    assert followup.content == "Found 3 stories"
    assert edited.content == "Results" and original.id == edited.id == deferred.message_id
    assert [(p.method, p.target) for p in discord_server.webhook_posts(DEFAULT_APPLICATION_ID)] == [
        ("POST", None),
        ("PATCH", "@original"),
    ]
    original_message, followup_message = discord_server.interaction_messages("token-1")
    assert original_message.content == "Results" and original_message.flags == 64
    assert followup_message.id == str(followup.id)
    assert discord_server.messages() == []  # none of it is in a channel this server knows


async def test_an_interaction_answered_with_a_message(discord_server: DiscordServer) -> None:
    async with bot_client() as client:
        interaction = discord.Interaction(
            data=interaction_payload("1310000000000000601", "token-2"),  # type: ignore[arg-type]
            state=client._connection,
        )
        answer = await interaction.response.send_message("Hi", ephemeral=True)
        twice = discord.Interaction(
            data=interaction_payload("1310000000000000601", "token-2"),  # type: ignore[arg-type]
            state=client._connection,
        )
        with pytest.raises(discord.HTTPException) as caught:
            await twice.response.send_message("Hi again")

    assert answer.message_id is not None and answer.resource is not None
    assert caught.value.code == 40060
    assert [c.data["content"] for c in discord_server.interaction_responses()] == ["Hi"]


async def test_a_followup_before_any_response_is_an_unknown_webhook(
    discord_server: DiscordServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        followup = discord.Webhook.partial(
            int(DEFAULT_APPLICATION_ID), "never-acknowledged", session=session
        )
        with pytest.raises(discord.NotFound) as caught:
            await followup.send("too early", wait=True)
    assert caught.value.code == 10015


async def test_an_incoming_webhook_posts_into_its_channel(discord_server: DiscordServer) -> None:
    discord_server.script(EXECUTE_WEBHOOK, RateLimited(retry_after=0.02))
    async with aiohttp.ClientSession() as session:
        hook = discord.Webhook.partial(
            int(DEFAULT_WEBHOOK_ID), DEFAULT_WEBHOOK_TOKEN, session=session
        )
        sent = await hook.send("Digest", username="Newsdesk", wait=True)
        assert await hook.send("No wait") is None
        wrong = discord.Webhook.partial(int(DEFAULT_WEBHOOK_ID), "wrong", session=session)
        with pytest.raises(discord.HTTPException) as caught:
            await wrong.send("nope")

    assert sent.author.name == "Newsdesk" and sent.webhook_id == int(DEFAULT_WEBHOOK_ID)
    assert caught.value.status == 401 and caught.value.code == 50027
    assert [m.content for m in discord_server.messages(DEFAULT_CHANNEL_ID)] == ["Digest", "No wait"]
    assert [p.query["wait"] for p in discord_server.webhook_posts(DEFAULT_WEBHOOK_ID)] == ["1", "0"]
