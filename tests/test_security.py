"""Security: admin-added feeds cannot reach private networks, and secrets never leak.

The SSRF guard is tested through the whole path an admin uses (`/news feeds add` → `add_feed`
→ `Fetcher`), with the network itself replaced at httpcore's own seam: `FakeInternet` answers
DNS from a table and routes the one "public" address to the loopback feed server. The guard
between them is the real one, so a broken guard would connect where these tests say it must
not.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpcore
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from newsdesk.config import FetchSettings
from newsdesk.feeds.admin import FeedRefused, add_feed
from newsdesk.feeds.fetch import Fetcher, PublicOnlyBackend
from tests.bot_helpers import bot_settings, make_runtime
from tests.sample_digests import normal_week

pytestmark = pytest.mark.faults

PUBLIC = "93.184.216.34"  # what "news.example" resolves to on this fake internet

YESTERDAY = format_datetime(datetime.now(UTC) - timedelta(days=1))
RSS = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Newsroom</title>
<item><guid>1</guid><title>Qwen 4 released</title><link>https://news.example/qwen-4</link>
<description>Alibaba's new model family ships with open weights.</description>
<pubDate>{YESTERDAY}</pubDate></item></channel></rss>"""


class FakeInternet(httpcore.AsyncNetworkBackend):
    """DNS from a table, and one public address routed to the loopback feed server; every
    connection attempt is recorded by the address the guard let through."""

    def __init__(self, feed_server_port: int, dns: dict[str, list[str]]) -> None:
        self.dns = dns
        self.routes = {PUBLIC: ("127.0.0.1", feed_server_port)}
        self.connections: list[str] = []
        self._real = httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> list[str]:
        if _is_address(host):
            return [host]  # as getaddrinfo does for a literal address
        if host not in self.dns:
            raise OSError(f"{host}: Name or service not known")
        return self.dns[host]

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connections.append(host)
        if host not in self.routes:
            raise httpcore.ConnectError(f"no route to {host} on the fake internet")
        return await self._real.connect_tcp(*self.routes[host], timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def guard(self) -> PublicOnlyBackend:
        return PublicOnlyBackend(inner=self, resolve=self.resolve)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


DNS = {
    "news.example": [PUBLIC],
    "intranet.example": ["10.20.30.40"],
    "metadata.example": ["169.254.169.254"],
    "rebind.example": [PUBLIC, "127.0.0.1"],  # one public, one private answer
    "v6.example": ["::1"],
}


@pytest.fixture
def internet(feed_server) -> FakeInternet:
    feed_server.add("/feed.xml", RSS)
    return FakeInternet(feed_server.port, DNS)


async def added(store, internet: FakeInternet, url: str):
    """`add_feed` as /news feeds add calls it, with the default settings (no private nets)."""
    async with Fetcher(FetchSettings(timeout_seconds=2), guard=internet.guard()) as fetcher:
        return await add_feed(store, fetcher, url, source="chat")


async def test_a_public_feed_is_added_through_the_guard(store, internet):
    result = await added(store, internet, "http://news.example/feed.xml")
    assert result.outcome.status == "new"
    assert internet.connections == [PUBLIC]


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080/feed.xml", "127.0.0.1"),
        ("http://10.0.0.1/feed.xml", "10.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]/feed.xml", "::1"),
        ("http://intranet.example/feed.xml", "10.20.30.40"),
        ("http://metadata.example/feed.xml", "169.254.169.254"),
        ("http://rebind.example/feed.xml", "127.0.0.1"),
        ("http://v6.example/feed.xml", "::1"),
    ],
)
async def test_a_feed_on_a_private_address_is_refused_without_connecting(
    store, internet, url, address
):
    with pytest.raises(FeedRefused) as refused:
        await added(store, internet, url)
    assert f"it resolves to {address}" in str(refused.value)
    assert "fetch.allow_private_networks = true" in str(refused.value)
    assert internet.connections == []  # not a single packet towards it
    assert store.list_feeds() == []


async def test_a_redirect_from_a_public_feed_to_a_private_address_is_refused(
    store, internet, feed_server
):
    feed_server.add(
        "/moved.xml", "", status=302, headers={"Location": "http://intranet.example/admin"}
    )
    with pytest.raises(FeedRefused) as refused:
        await added(store, internet, "http://news.example/moved.xml")
    assert "refused to connect to intranet.example: it resolves to 10.20.30.40" in str(
        refused.value
    )
    assert internet.connections == [PUBLIC]  # the first hop only
    assert store.list_feeds() == []


async def test_the_config_may_allow_private_networks_for_admin_feeds(store, feed_server):
    feed_server.add("/feed.xml", RSS)
    settings = FetchSettings(allow_private_networks=True, timeout_seconds=2)
    async with Fetcher(settings) as fetcher:
        result = await add_feed(store, fetcher, feed_server.url("/feed.xml"), source="chat")
    assert result.outcome.status == "new"


# --- secrets ------------------------------------------------------------------------------------

SLACK_TOKEN = "xoxb-SECRET-slack-7f3a9c"
LLM_KEY = "sk-SECRET-llm-41b2d8"
WEBHOOK_URL_SECRET = "T0SECRET/B0SECRET/hook-9e8d7c"


def archive_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


async def test_no_secret_reaches_the_logs_or_the_database(
    tmp_path, monkeypatch, caplog, capfd, llm_server, feed_server
):
    """Run what touches secrets (an LLM-summarized digest, a webhook delivery with a 404 and a
    retry-worthy error, a Slack client refused) with every logger at DEBUG, then grep."""
    from tests.servers.slack_server import SlackServer

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("NEWSDESK_TEST_LLM_KEY", LLM_KEY)
    llm_server.require_key = LLM_KEY
    with SlackServer(token=SLACK_TOKEN) as slack:
        monkeypatch.setenv("TEAM_HOOK", slack.webhook_url(WEBHOOK_URL_SECRET))
        monkeypatch.setenv("BROKEN_HOOK", f"{slack.origin}/services/{WEBHOOK_URL_SECRET}/x")
        feed_server.add("/feed.xml", RSS)
        settings = bot_settings(
            tmp_path,
            feeds=[{"url": feed_server.url("/feed.xml")}],
            summarizer={
                "provider": "openai-compatible",
                "base_url": llm_server.base_url,
                "model": "test-model",
                "api_key_env": "NEWSDESK_TEST_LLM_KEY",
            },
            subscriptions=[
                {"name": "hook", "platform": "slack", "webhook_env": "TEAM_HOOK"},
                {"name": "broken", "platform": "slack", "webhook_env": "BROKEN_HOOK"},
                {"name": "team", "platform": "slack", "channel": "C0AINEWS"},
            ],
        )
        bad_client = AsyncWebClient(token="xoxb-SECRET-wrong", base_url=slack.base_url)
        async with make_runtime(settings, slack_client=bad_client) as runtime:
            runtime.outbox.sleep = _no_sleep
            await runtime.poll_due()  # a story, so the digests ask the LLM for summaries
            for name in ("hook", "broken", "team"):
                subscription = runtime.store.get_subscription(name)
                await runtime.send_digest(subscription)
                runtime.outbox.enqueue(subscription, normal_week())
            await runtime.outbox.resume()
        assert slack.webhook_posts(WEBHOOK_URL_SECRET)  # the hook did receive digests
    assert llm_server.calls > 0  # the key was used

    output = caplog.text + "".join(capfd.readouterr())
    stored = archive_bytes(Path(settings.store.path))
    for secret in (SLACK_TOKEN, LLM_KEY, WEBHOOK_URL_SECRET, "xoxb-SECRET-wrong"):
        assert secret not in output
        assert secret.encode() not in stored


async def _no_sleep(seconds: float) -> None:
    return None


def test_a_registered_secret_is_redacted_from_any_logger_and_from_tracebacks(caplog):
    from newsdesk.logs import register_secret

    secret = "xapp-SECRET-registered-5c1d"
    register_secret(secret)
    register_secret("short")  # too short to be a credential: left alone
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library").debug("connecting with %s", secret)
    try:
        raise RuntimeError(f"refused token {secret}")
    except RuntimeError:
        logging.getLogger("another").exception("failed")
    logging.getLogger("x").info("a short word stays")
    text = caplog.text
    assert secret not in text
    assert "connecting with [redacted]" in text
    assert "RuntimeError: refused token [redacted]" in text
    assert "a short word stays" in text
