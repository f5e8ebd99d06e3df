"""Building a bot runtime for tests: real store, fetcher and clients; a clock the test sets."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from newsdesk.app import open_runtime
from newsdesk.config import Settings, settings_from_dict
from newsdesk.runtime import Runtime


class Clock:
    """A settable clock: `clock()` is now; tests move it with `clock.now = …`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def bot_settings(tmp_path: Path, **raw: Any) -> Settings:
    """Settings from TOML-shaped dicts, with the store in tmp_path and fetching allowed to
    reach the loopback feed server."""
    raw.setdefault("store", {"path": str(tmp_path / "newsdesk.sqlite")})
    fetch = raw.setdefault("fetch", {})
    fetch.setdefault("allow_private_networks", True)
    fetch.setdefault("timeout_seconds", 2.0)
    fetch.setdefault("total_timeout_seconds", 5.0)
    bot = raw.setdefault("bot", {})
    bot.setdefault("retry_base_seconds", 0.01)
    return settings_from_dict(raw)


@asynccontextmanager
async def make_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    slack_client: Any = None,
    discord_http: Any = None,
    terminal: io.StringIO | None = None,
) -> AsyncIterator[Runtime]:
    """A Runtime over a real SQLite file, synced with the settings' feeds and subscriptions."""
    async with open_runtime(
        settings, terminal=terminal if terminal is not None else io.StringIO()
    ) as runtime:
        runtime.slack_client = slack_client
        runtime.discord_http = discord_http
        if clock is not None:
            runtime.clock = clock
        yield runtime
