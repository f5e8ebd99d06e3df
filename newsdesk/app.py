"""The composition root: `newsdesk run` builds the parts from the config and runs them.

One asyncio loop holds everything: the Slack app (Socket Mode, or HTTP with the signing
secret), the Discord client, and the scheduler. Each platform starts only when its token is in
the environment; with neither, the bot still polls and delivers to webhooks, files and the
terminal. SIGINT and SIGTERM stop it cleanly: the schedule stops firing, running polls and
deliveries finish, and anything cut short is resumed from the store on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any, TextIO

import aiohttp
import httpx

from newsdesk.config import Settings, secret_from_env
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.poller import Pipeline
from newsdesk.runtime import Runtime
from newsdesk.scheduler import Scheduler
from newsdesk.store import DEFAULT_BUSY_TIMEOUT, Store

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot cannot start as configured; the message says which setting to fix."""


@dataclass
class App:
    """A running newsdesk. `start()` then `stop()`, or `run()` until a signal."""

    settings: Settings
    config_source: str = "<defaults>"
    terminal: TextIO | None = None
    # Where the platforms' APIs are; only tests change them.
    slack_base_url: str | None = None
    # Seconds a write waits for another process's lock on the database (`--lock-timeout`).
    lock_timeout: float = DEFAULT_BUSY_TIMEOUT
    runtime: Runtime | None = None
    scheduler: Scheduler | None = None
    platforms: list[str] = field(default_factory=list)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _background: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self, *, connect: bool = True) -> None:
        """Open everything and start serving; `connect=False` skips the gateway and socket
        connections (the HTTP clients are still built), for tests."""
        try:
            self.runtime = runtime = await self._stack.enter_async_context(
                open_runtime(
                    self.settings,
                    self.config_source,
                    terminal=self.terminal,
                    lock_timeout=self.lock_timeout,
                )
            )
            await self._start_slack(runtime, connect)
            await self._start_discord(runtime, connect)
            self.scheduler = Scheduler(runtime)
            self.scheduler.start()
        except BaseException:
            await self.stop()
            raise
        log.info(
            "newsdesk is running: %s; %d subscriptions",
            ", ".join(self.platforms)
            or "no chat platform (digests go to webhooks, files and the terminal)",
            len(runtime.subscriptions()),
        )
        self._spawn(self._first_pass())

    async def _first_pass(self) -> None:
        """Poll what is due, then send missed digests, then poll on the schedule: a digest
        caught up after downtime then carries the news that arrived meanwhile."""
        assert self.runtime is not None and self.scheduler is not None
        await self.scheduler.poll_tick()
        await self.scheduler.catch_up()
        self.scheduler.start_polling()

    async def run(self) -> None:
        """Start, wait for SIGINT or SIGTERM, stop."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows
                loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
        finally:
            log.info("stopping: letting running work finish")
            await self.stop()

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._stack.aclose()

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        """A background task ended: say so if it failed (e.g. the Discord gateway gave up),
        rather than leave the error to be lost with the task."""
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s stopped", task.get_coro(), exc_info=task.exception())

    async def _start_slack(self, runtime: Runtime, connect: bool) -> None:
        config = self.settings.slack
        token = _secret(config.bot_token_env)
        if token is None:
            return
        from slack_sdk.web.async_client import AsyncWebClient

        from newsdesk.bot.slack_app import EVENTS_PATH, build_slack_app

        if config.mode == "socket":
            secret = _secret(config.app_token_env)
            if secret is None:
                raise StartupError(
                    f"[slack].mode is socket but {config.app_token_env} (an xapp-… app-level"
                    ' token with connections:write) is not set; set it, or use mode = "http"'
                )
        else:
            secret = _secret(config.signing_secret_env)
            if secret is None:
                raise StartupError(
                    f"[slack].mode is http but {config.signing_secret_env} (the app's signing"
                    " secret) is not set"
                )
        base = {"base_url": self.slack_base_url} if self.slack_base_url else {}
        # Delivery's own client: no retry handlers, so a dropped post is never resent blindly.
        runtime.slack_client = AsyncWebClient(token=token, retry_handlers=[], **base)
        await _check_token(
            runtime.slack_client.auth_test(), f"the bot token in {config.bot_token_env}"
        )
        if config.mode == "socket":
            app = build_slack_app(runtime, config, token=token, base_url=self.slack_base_url)
            # slack_sdk retries a refused connection forever; a bad token is better said now.
            await _check_token(
                app.client.apps_connections_open(app_token=secret),
                f"the app-level token in {config.app_token_env} (it needs connections:write)",
            )
            if connect:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                handler = AsyncSocketModeHandler(app, secret)
                self._stack.push_async_callback(handler.close_async)
                await handler.connect_async()
        else:
            app = build_slack_app(
                runtime, config, token=token, signing_secret=secret, base_url=self.slack_base_url
            )
            from aiohttp import web

            runner = web.AppRunner(app.web_app(path=EVENTS_PATH, port=config.http_port))
            await runner.setup()
            self._stack.push_async_callback(runner.cleanup)
            site = web.TCPSite(runner, config.http_host, config.http_port)
            await site.start()
            log.info(
                "Slack events at http://%s:%d%s", config.http_host, config.http_port, EVENTS_PATH
            )
        self.platforms.append(f"Slack ({config.mode} mode)")

    async def _start_discord(self, runtime: Runtime, connect: bool) -> None:
        config = self.settings.discord
        token = _secret(config.token_env)
        if token is None:
            return
        import discord

        from newsdesk.bot.discord_app import NewsBot

        bot = NewsBot(runtime, config)
        self._stack.push_async_callback(bot.close)
        try:
            await bot.login(token)  # also syncs the commands (setup_hook)
        except discord.LoginFailure:
            raise StartupError(f"Discord refused the token in {config.token_env}") from None
        runtime.discord_http = bot.http
        if connect:
            self._spawn(bot.connect(reconnect=True))
        self.platforms.append("Discord")


async def _check_token(call: Awaitable[Any], what: str) -> None:
    """Refuse to start on a token Slack rejects; only warn when Slack cannot be reached (it
    may be back by the time a digest is due)."""
    from slack_sdk.errors import SlackApiError

    try:
        await call
    except SlackApiError as exc:
        raise StartupError(f"Slack refused {what}: {exc.response.get('error')}") from None
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        log.warning("could not check %s with Slack: %s", what, exc)


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    config_source: str = "<defaults>",
    *,
    terminal: TextIO | None = None,
    lock_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> AsyncIterator[Runtime]:
    """The store, fetcher and webhook client around a Runtime synced with the config; chat
    clients are the caller's to add."""
    with Store.open(settings.store.path, timeout=lock_timeout) as store:
        async with (
            Fetcher(settings.fetch) as fetcher,
            httpx.AsyncClient(timeout=30.0, follow_redirects=False) as http,
        ):
            runtime = Runtime(
                store=store,
                settings=settings,
                pipeline=Pipeline.from_settings(settings),
                fetcher=fetcher,
                http=http,
                terminal=terminal,
            )
            runtime.sync_config(config_source)
            yield runtime


@contextlib.asynccontextmanager
async def delivery_runtime(
    settings: Settings,
    config_source: str = "<defaults>",
    *,
    lock_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> AsyncIterator[Runtime]:
    """A Runtime that can deliver but serves nothing: the chat platforms' HTTP clients only,
    no Bolt app, gateway or scheduler. For `newsdesk digest --send`, e.g. from cron."""
    async with contextlib.AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(
            open_runtime(settings, config_source, lock_timeout=lock_timeout)
        )
        token = _secret(settings.slack.bot_token_env)
        if token is not None:
            from slack_sdk.web.async_client import AsyncWebClient

            runtime.slack_client = AsyncWebClient(token=token, retry_handlers=[])
        token = _secret(settings.discord.token_env)
        if token is not None:
            import discord
            from discord.http import HTTPClient

            client = HTTPClient(asyncio.get_running_loop())
            stack.push_async_callback(client.close)
            try:
                await client.static_login(token)
            except discord.LoginFailure:
                raise StartupError(
                    f"Discord refused the token in {settings.discord.token_env}"
                ) from None
            runtime.discord_http = client
        yield runtime


def _secret(variable: str) -> str | None:
    return secret_from_env(variable)
