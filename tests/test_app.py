"""`newsdesk run`: one process, one loop; no tokens still works, tokens bring both platforms."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from newsdesk.app import App, StartupError
from tests.bot_helpers import bot_settings
from tests.servers.discord_server import DEFAULT_CHANNEL_ID
from tests.servers.slack_server import signed_headers, slash_command_body

# Published yesterday: stored as the new feed's backfill, it is news as of then, so it is in
# the digest of the fire just missed rather than the next one.
YESTERDAY = format_datetime(datetime.now(UTC) - timedelta(days=1))
RSS = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Frontier Signals</title>
<item><guid>1</guid><title>Kimi K3 tops the open-model leaderboard</title>
<link>https://signals.example/kimi</link><description>Moonshot's new model leads.</description>
<pubDate>{YESTERDAY}</pubDate></item></channel></rss>"""
SECRET = "5e0c2b7a9d1f3e5a7c9b0d2f4a6c8e01"
DISCORD_CHANNEL = DEFAULT_CHANNEL_ID


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_with_no_tokens_polls_prints_the_due_digest_and_stops_on_sigterm(
    tmp_path: Path, feed_server
):
    feed_server.add("/signals.xml", RSS)
    config = tmp_path / "newsdesk.toml"
    config.write_text(
        f"""
[fetch]
allow_private_networks = true
[bot]
schedule = "* * * * *"   # every minute: the start catches up the fire just missed
[[feeds]]
url = "{feed_server.url("/signals.xml")}"
[[subscriptions]]
name = "screen"
platform = "terminal"
""",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "newsdesk", "--config", str(config), "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 30
        while "Kimi K3" not in output and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=20)
    finally:
        process.kill()
    assert "AI industry digest" in output
    assert "Kimi K3 tops the open-model leaderboard" in output
    assert process.returncode == 0
    assert "no chat platform" in log
    assert "stopping" in log


async def test_socket_mode_without_an_app_token_says_which_variable_to_set(tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    app = App(bot_settings(tmp_path))
    with pytest.raises(StartupError, match=r"SLACK_APP_TOKEN .* is not set"):
        await app.start(connect=False)


async def test_with_tokens_it_serves_slack_and_discord_and_delivers_to_both(
    tmp_path, monkeypatch, feed_server, slack_server, discord_server, caplog
):
    caplog.set_level(logging.DEBUG)
    feed_server.add("/signals.xml", RSS)
    port = free_port()
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_server.token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("DISCORD_TOKEN", discord_server.token)
    settings = bot_settings(
        tmp_path,
        bot={"schedule": "* * * * *"},
        slack={"mode": "http", "http_host": "127.0.0.1", "http_port": port},
        discord={"application_id": str(discord_server.application_id)},
        feeds=[{"url": feed_server.url("/signals.xml")}],
        subscriptions=[
            {"name": "slack-team", "platform": "slack", "channel": "C0AINEWS"},
            {"name": "discord-team", "platform": "discord", "channel": DISCORD_CHANNEL},
        ],
    )
    app = App(settings, slack_base_url=slack_server.base_url)
    await app.start(connect=False)
    try:
        for _ in range(200):
            if slack_server.messages("C0AINEWS") and discord_server.messages(DISCORD_CHANNEL):
                break
            await asyncio.sleep(0.05)
        body = slash_command_body(
            text="search kimi",
            user_id="U0MEMBER",
            channel_id="C0AINEWS",
            response_url=slack_server.response_url("k"),
        )
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://127.0.0.1:{port}/slack/events",
                content=body,
                headers=signed_headers(SECRET, body),
            )
        for _ in range(100):
            if slack_server.responses("k"):
                break
            await asyncio.sleep(0.05)
    finally:
        await app.stop()

    assert app.platforms == ["Slack (http mode)", "Discord"]
    [slack_message] = slack_server.messages("C0AINEWS")
    assert "Kimi K3" in str(slack_message.blocks)
    [discord_message] = discord_server.messages(DISCORD_CHANNEL)
    assert "Kimi K3" in str(discord_message.embeds)
    assert discord_message.nonce.startswith("nd")
    assert response.status_code == 200
    assert "Kimi K3 tops the open-model leaderboard" in slack_server.responses("k")[0]["text"]
    assert {c["name"] for c in discord_server.synced_commands()} == {"news", "news-admin"}
    for secret in (slack_server.token, SECRET, discord_server.token):
        assert secret not in caplog.text  # every library's debug log included


@pytest.mark.parametrize(
    ("variable", "says"),
    [
        ("SLACK_BOT_TOKEN", "Slack refused the bot token in SLACK_BOT_TOKEN: invalid_auth"),
        ("SLACK_APP_TOKEN", "Slack refused the app-level token in SLACK_APP_TOKEN"),
    ],
)
async def test_a_token_slack_refuses_stops_the_start_with_a_clear_error(
    tmp_path, monkeypatch, slack_server, variable, says
):
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_server.token)
    monkeypatch.setenv("SLACK_APP_TOKEN", slack_server.app_token)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv(variable, "xoxb-revoked" if variable == "SLACK_BOT_TOKEN" else "xapp-nope")
    app = App(bot_settings(tmp_path), slack_base_url=slack_server.base_url)
    with pytest.raises(StartupError) as error:
        await app.start()  # a refused token is said at once, not retried forever
    assert str(error.value).startswith(says)
    assert "revoked" not in str(error.value) and "nope" not in str(error.value)
