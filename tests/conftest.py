"""Shared fixtures: the loopback feed server, fresh archives, and the shared corpus."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsdesk.config import FetchSettings
from newsdesk.store import Store
from tests.servers.discord_server import discord_server  # noqa: F401 - a fixture
from tests.servers.feed_server import feed_server  # noqa: F401 - a fixture
from tests.servers.llm_server import llm_server  # noqa: F401 - a fixture
from tests.servers.slack_server import slack_server  # noqa: F401 - a fixture

# ../shared sits beside a checkout in CI and on the developers' machines, not in a user's clone.
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path):
    """A real SQLite archive in a temporary file."""
    with Store.open(tmp_path / "newsdesk.sqlite") as archive:
        yield archive


@pytest.fixture
def loopback_settings() -> FetchSettings:
    """Fetch settings that may reach the feed server on 127.0.0.1, with short timeouts."""
    return FetchSettings(
        allow_private_networks=True, timeout_seconds=2.0, total_timeout_seconds=5.0
    )


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared feed corpus is not at {CORPUS} (it is only beside a dev checkout)")
    return CORPUS
