"""`newsdesk demo`: the whole pipeline on the bundled sample feeds, with no network: ingest,
then the digest of the samples' last week.

The samples are served over HTTP from 127.0.0.1 by a throwaway server, so the demo exercises the
real fetcher (conditional GET included), parser and store, exactly as a real poll would.
"""

from __future__ import annotations

import asyncio
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from newsdesk.config import FetchSettings, Settings
from newsdesk.digest.compose import DEFAULT_SUBSCRIPTION, ComposedDigest, compose_digest
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.poller import Pipeline, PollOutcome, poll_feeds
from newsdesk.models import Subscription
from newsdesk.store import Store

SAMPLES = resources.files("newsdesk") / "samples"


@dataclass(frozen=True, slots=True)
class SampleFeed:
    file: str
    title: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoRun:
    """What the demo did, for the CLI to print."""

    first_pass: list[PollOutcome]
    second_pass: list[PollOutcome]
    bodies_downloaded_again: int


def _manifest() -> dict[str, Any]:
    return tomllib.loads((SAMPLES / "samples.toml").read_text(encoding="utf-8"))


def sample_feeds() -> list[SampleFeed]:
    """The bundled feeds, as listed in samples/samples.toml."""
    return [
        SampleFeed(file=f["file"], title=f["title"], tags=tuple(f.get("tags", [])))
        for f in _manifest()["feeds"]
    ]


def sample_week() -> tuple[datetime, datetime]:
    """The period of the demo's digest: the samples' last week, whatever today's date is."""
    end = _manifest()["digest_week_ending"]
    return end - timedelta(days=7), end


async def demo_digest(
    store: Store, settings: Settings, max_stories: int | None = None
) -> ComposedDigest:
    """The digest of the samples' last week for the default subscription (everything), with
    the config's digest and summarizer settings: extractive unless an LLM is set up."""
    taxonomy = Pipeline.default().taxonomy
    subscription = Subscription(
        name=DEFAULT_SUBSCRIPTION,
        max_stories=max_stories or settings.digest.max_stories,
        max_per_section=settings.digest.max_per_section,
    )
    start, end = sample_week()
    return await compose_digest(
        store, settings, taxonomy, subscription, now=end, start=start, end=end
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    bodies_sent = 0
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".rdf": "application/rdf+xml",
        ".xml": "application/xml",
        ".json": "application/feed+json",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        if code == 200:
            type(self).bodies_sent += 1
        super().send_response(code, message)


@contextmanager
def serve_directory(directory: Path) -> Iterator[tuple[str, type[_QuietHandler]]]:
    """Serve `directory` on a free loopback port; it answers If-Modified-Since with 304."""
    handler = type("Handler", (_QuietHandler,), {"bodies_sent": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_demo(db_path: Path, on_done: Callable[[PollOutcome], None] | None = None) -> DemoRun:
    """Ingest the samples into a fresh archive at `db_path`, then poll them a second time."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = FetchSettings()
    with (
        resources.as_file(SAMPLES) as directory,
        serve_directory(directory) as (base, handler),
        Store.open(db_path) as store,
    ):
        for sample in sample_feeds():
            # "config" feeds are trusted: the operator chose them, so loopback is allowed.
            store.add_feed(
                f"{base}/{sample.file}", title=sample.title, tags=sample.tags, source="config"
            )

        async def both_passes() -> tuple[list[PollOutcome], list[PollOutcome], int]:
            async with Fetcher(settings) as fetcher:
                first = await poll_feeds(store, fetcher, store.list_feeds(), on_done=on_done)
                bodies_before = handler.bodies_sent
                second = await poll_feeds(store, fetcher, store.list_feeds())
                return first, second, handler.bodies_sent - bodies_before

        first, second, again = asyncio.run(both_passes())
    return DemoRun(first_pass=first, second_pass=second, bodies_downloaded_again=again)
