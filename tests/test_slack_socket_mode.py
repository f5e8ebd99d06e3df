"""Socket Mode, newsdesk's default Slack mode, end to end: the real App, a real WebSocket.

`App.start()` runs Bolt's `AsyncSocketModeHandler` exactly as `newsdesk run` does: it opens a
URL with the app-level token, connects to the Slack test server's WebSocket, and answers the
envelopes the test pushes down it. Replies go to the response URL, Web API calls (users.info)
to the server, and `App.stop()` must leave no socket open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from newsdesk.app import App
from tests.bot_helpers import bot_settings
from tests.servers.slack_server import SlackServer, slash_command_payload

CHANNEL = "C0AINEWS"


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: SlackServer
) -> AsyncIterator[App]:
    """newsdesk's App with Slack in its default (socket) mode against the server; always stopped."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", server.token)
    monkeypatch.setenv("SLACK_APP_TOKEN", server.app_token)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    app = App(bot_settings(tmp_path), slack_base_url=server.base_url)
    await app.start()  # connect=True: the handler opens the socket before start() returns
    try:
        yield app
    finally:
        await app.stop()


async def command(server: SlackServer, text: str, key: str, **fields: Any) -> dict[str, Any]:
    """Push a /news envelope as Slack does and return the client's ack once it arrives."""
    payload = slash_command_payload(
        text, response_url=server.response_url(key), channel_id=CHANNEL, **fields
    )
    envelope_id = server.send_envelope("slash_commands", payload, accepts_response_payload=True)
    return await server.wait_for_ack_async(envelope_id)


async def test_app_connects_over_socket_mode_and_answers_help(tmp_path, monkeypatch, slack_server):
    async with running_app(tmp_path, monkeypatch, slack_server) as app:
        await slack_server.wait_for_socket_async()
        live = slack_server.socket_connections()
        ack = await command(slack_server, "help", "help")
        await eventually(lambda: slack_server.responses("help"))

    assert app.platforms == ["Slack (socket mode)"]
    assert live == 1
    # One to check the app token at start (a bad one is an error, not a retry loop), one to
    # connect.
    assert slack_server.count("apps.connections.open") == 2
    assert set(ack) == {"envelope_id"}  # an empty ack(): the answer goes to the response URL
    [answer] = slack_server.responses("help")
    assert answer["response_type"] == "ephemeral"
    assert "/news subscribe" in answer["text"]


async def test_admin_subscribes_the_channel_over_the_socket(tmp_path, monkeypatch, slack_server):
    async with running_app(tmp_path, monkeypatch, slack_server) as app:
        await slack_server.wait_for_socket_async()
        await command(slack_server, "subscribe funding", "sub", user_id="U0ADMIN")
        await eventually(lambda: slack_server.responses("sub"))
        subscription = app.runtime.store.channel_subscription("slack", CHANNEL)

    assert subscription is not None
    assert (subscription.channel, subscription.include_tags) == (CHANNEL, ("funding",))
    [answer] = slack_server.responses("sub")
    assert answer["response_type"] == "in_channel"
    assert answer["text"].startswith("Subscribed: this channel gets a digest of funding")
    [lookup] = [call.params for call in slack_server.calls if call.method == "users.info"]
    assert lookup["user"] == "U0ADMIN"  # the admin check asked Slack, over the bot token


async def test_stop_closes_the_socket(tmp_path, monkeypatch, slack_server):
    async with running_app(tmp_path, monkeypatch, slack_server):
        await slack_server.wait_for_socket_async()
    await eventually(lambda: slack_server.socket_connections() == 0, timeout=1)

    assert slack_server.sockets_opened() == 1
    assert slack_server.errors == []
