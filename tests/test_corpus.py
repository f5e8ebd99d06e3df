"""newsdesk against the shared corpus: thousands of feeds nobody wrote for newsdesk.

Two collections in ../shared/corpus, both read in place (never copied into the repo):

* feedparser's own test corpus (~2,100 small well-formed, ill-formed, encoding, entity and JSON
  cases). parse_feed must never raise on any of them, and must not lose an entry that plain
  feedparser finds: "fastfeedparser first, feedparser when it gives up" (DESIGN.md, "Two
  parsers") is only worth its speed if it yields at least as many distinct items as feedparser
  alone.
* ~150 real feed snapshots (news sites, blogs, GitHub releases, Reddit, YouTube, podcasts; RSS
  0.9x/1.0/2.0, Atom, JSON Feed, some not UTF-8, some broken, some not feeds at all). They are
  served over real HTTP by the loopback feed server, polled into a real SQLite archive in one
  pass, and checked the way an operator would: every readable feed stored with no entry lost,
  every broken one failed with a readable reason and without stopping the others, a second pass
  answered by 304s, and the same titles feedparser gives.

Entry identity, when counting what feedparser finds, is its id, else its link, else its title and
summary, which is how newsdesk identifies items too. Tests that need the corpus take the `corpus`
fixture, which skips them when ../shared is not beside the checkout. Failures list every file
concerned in the assertion message; nothing is printed.
"""

from __future__ import annotations

import csv
import functools
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser

from newsdesk.feeds.canonical import clean_text
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.parse import TITLE_MAX_CHARS, parse_feed
from newsdesk.feeds.poller import poll_feeds
from tests.conftest import NOW
from tests.servers.feed_server import feed_server

# Listing the imported fixture as used keeps ruff from reading the test parameters as F811.
__all__ = ["feed_server"]

FEEDPARSER_FOLDERS = ("wellformed", "illformed", "encoding", "entities", "json")

# What a well-configured server sends for each `format` of real-feeds/index.tsv.
CONTENT_TYPES = {
    "rss2.0": "application/rss+xml",
    "rss0.91": "application/rss+xml",
    "rss0.92": "application/rss+xml",
    "rss(no-version)": "application/rss+xml",
    "rss1.0-rdf": "application/rdf+xml",
    "atom1.0": "application/atom+xml",
    "atom1.0-entry-document": "application/atom+xml",
    "jsonfeed": "application/feed+json",
    "html": "text/html",
    "other-xml/fragment": "application/xml",
}


def _feedparser(data: bytes) -> Any:
    """Plain feedparser on the bytes, as a user of feedparser alone would call it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return feedparser.parse(io.BytesIO(data))


def _identity(entry: Mapping[str, Any]) -> tuple[str, ...]:
    if entry.get("id"):
        return ("id", entry["id"])
    if entry.get("link"):
        return ("link", entry["link"])
    return ("text", entry.get("title") or "", entry.get("summary") or "")


def _distinct_entries(entries: list[Any]) -> list[Any]:
    """The first entry of each identity, in feed order."""
    seen: set[tuple[str, ...]] = set()
    distinct = []
    for entry in entries:
        key = _identity(entry)
        if key not in seen:
            seen.add(key)
            distinct.append(entry)
    return distinct


def _feedparser_corpus(corpus: Path) -> list[Path]:
    root = corpus / "feedparser-tests"
    files = sorted(p for d in FEEDPARSER_FOLDERS for p in (root / d).rglob("*") if p.is_file())
    assert len(files) > 2000, f"expected ~2,100 case files under {root}, found {len(files)}"
    return files


# --- feedparser's corpus --------------------------------------------------------------------


def test_parse_feed_never_raises_on_feedparsers_test_corpus(corpus):
    root = corpus / "feedparser-tests"
    crashes = []
    for path in _feedparser_corpus(corpus):
        try:
            parse_feed(path.read_bytes(), now=NOW)
        except Exception as exc:
            crashes.append(f"{path.relative_to(root)}: {type(exc).__name__}: {exc}")

    assert not crashes, f"parse_feed raised on {len(crashes)} files:\n" + "\n".join(crashes)


# Two entries with no id, no title and no text, which feedparser tells apart only by a link it
# reads wrongly (each file's own Expect: line says both entries link to /alternate, and feedparser
# 6.0.14 fails it). Indistinguishable empty entries are one item.
FEEDPARSER_MISREADS = {
    f"wellformed/{folder}/{name}.xml"
    for folder in ("atom", "atom10")
    for name in ("entry_link_no_href_link_priority", "entry_link_rel_enclosure_no_href")
}


def test_no_entry_feedparser_finds_in_its_corpus_is_lost(corpus):
    root = corpus / "feedparser-tests"
    files = _feedparser_corpus(corpus)
    losses = []
    theirs = ours = 0
    for path in files:
        data = path.read_bytes()
        expected = len(_distinct_entries(_feedparser(data).entries))
        got = len(parse_feed(data, now=NOW).items)
        theirs += expected
        ours += got
        if got < expected and str(path.relative_to(root)) not in FEEDPARSER_MISREADS:
            losses.append(f"{path.relative_to(root)}: feedparser {expected}, parse_feed {got}")

    assert not losses, (
        f"parse_feed yields fewer items than feedparser's distinct entries in {len(losses)} of "
        f"{len(files)} files (corpus totals: feedparser {theirs}, parse_feed {ours}):\n"
        + "\n".join(losses)
    )


# --- the real feeds -------------------------------------------------------------------------


@dataclass(frozen=True)
class RealFeed:
    """One snapshot of real-feeds/index.tsv and what feedparser alone reads from it."""

    path: str  # relative to real-feeds/, also the route it is served at
    kind: str
    format: str
    declared_encoding: str
    listed_entries: int  # the index's count of <item>/<entry>/items
    data: bytes
    feedparser_entries: list[Any]  # distinct, in feed order

    @property
    def content_type(self) -> str:
        base = CONTENT_TYPES[self.format]
        return f"{base}; charset={self.declared_encoding}" if self.declared_encoding else base

    @property
    def route(self) -> str:
        return "/" + self.path

    @property
    def minimum_items(self) -> int:
        """Items newsdesk must store: all feedparser finds, else all the index lists.

        JSON Feed and a few broken documents that fastfeedparser can salvage are unreadable to
        feedparser 6; for them the index's count is the yardstick.
        """
        return len(self.feedparser_entries) or self.listed_entries


@functools.cache  # feedparser takes seconds over these files; read them once per session
def _real_feeds(corpus: Path) -> tuple[RealFeed, ...]:
    root = corpus / "real-feeds"
    with (root / "index.tsv").open(encoding="utf-8", newline="") as index:
        rows = [row for row in csv.DictReader(index, delimiter="\t", quoting=csv.QUOTE_NONE)]
    feeds = []
    for row in rows:
        if row["kind"] == "expected_output":  # fastfeedparser's expected results, not feeds
            continue
        data = (root / row["path"]).read_bytes()
        feeds.append(
            RealFeed(
                path=row["path"],
                kind=row["kind"],
                format=row["format"],
                declared_encoding=row["declared_encoding"],
                listed_entries=int(row["item_or_entry_count"] or 0),
                data=data,
                feedparser_entries=_distinct_entries(_feedparser(data).entries),
            )
        )
    assert len(feeds) > 140, f"expected ~150 feed snapshots in {root}/index.tsv"
    return tuple(feeds)


def _readable(error: str | None) -> bool:
    """An error an admin can read: one line of words, not a traceback or a repr dump."""
    return bool(
        error
        and error.strip()
        and error.isprintable()
        and "Traceback" not in error
        and len(error) <= 500
    )


def _serve_and_add(corpus: Path, feed_server, store) -> dict[str, RealFeed]:
    """Serve every snapshot from the loopback server and follow each; returns them by URL."""
    by_url = {}
    for feed in _real_feeds(corpus):
        feed_server.add_file(
            feed.route, corpus / "real-feeds" / feed.path, content_type=feed.content_type
        )
        url = feed_server.url(feed.route)
        store.add_feed(url, now=NOW)
        by_url[url] = feed
    return by_url


def _one_host_settings(loopback_settings):
    """Room for the biggest snapshot, and no queueing behind the per-host limit: every feed
    lives on the same 127.0.0.1 server."""
    return loopback_settings.model_copy(
        update={"max_bytes": 20 * 1024 * 1024, "per_host_concurrency": 16}
    )


async def test_one_poll_stores_every_readable_real_feed_and_fails_only_the_broken_ones(
    corpus, feed_server, store, loopback_settings
):
    by_url = _serve_and_add(corpus, feed_server, store)

    async with Fetcher(_one_host_settings(loopback_settings)) as fetcher:
        outcomes = await poll_feeds(store, fetcher, store.due_feeds(NOW), now=lambda: NOW)

    assert len(outcomes) == len(by_url)
    stored = {feed.url: feed for feed in store.list_feeds()}
    problems = []
    for outcome in outcomes:
        snapshot = by_url[outcome.feed.url]
        feed = stored[outcome.feed.url]
        wanted = snapshot.minimum_items
        if wanted:
            if outcome.status != "new" or feed.item_count < wanted:
                problems.append(
                    f"{snapshot.path}: {outcome.status} ({outcome.error}), stored "
                    f"{feed.item_count} items, feedparser/index find {wanted}"
                )
        elif outcome.status != "failed" or not _readable(outcome.error):
            problems.append(
                f"{snapshot.path} ({snapshot.kind}, {snapshot.format}, not a readable feed): "
                f"{outcome.status} with error {outcome.error!r}, stored {feed.item_count} items"
            )
        elif feed.last_error != outcome.error or feed.error_count != 1 or feed.item_count:
            problems.append(
                f"{snapshot.path}: failed, but the archive shows last_error={feed.last_error!r}, "
                f"error_count={feed.error_count}, items={feed.item_count}"
            )

    failed = sum(outcome.status == "failed" for outcome in outcomes)
    assert not problems, (
        f"{len(problems)} of {len(outcomes)} real feeds polled wrongly ({failed} failed):\n"
        + "\n".join(problems)
    )


async def test_second_poll_of_the_stored_real_feeds_downloads_no_body(
    corpus, feed_server, store, loopback_settings
):
    by_url = _serve_and_add(corpus, feed_server, store)
    async with Fetcher(_one_host_settings(loopback_settings)) as fetcher:
        await poll_feeds(store, fetcher, store.due_feeds(NOW), now=lambda: NOW)
        # Feeds that failed stored no validators and would rightly be downloaded again.
        stored = [feed for feed in store.list_feeds() if feed.last_success_at is not None]
        routes = [by_url[feed.url].route for feed in stored]
        before = {route: feed_server.bodies_sent(route) for route in routes}

        second = await poll_feeds(store, fetcher, stored, now=lambda: NOW)

    assert len(stored) > 140
    after = {route: feed_server.bodies_sent(route) for route in routes}
    resent = [
        f"{route}: {before[route]} -> {after[route]}"
        for route in routes
        if after[route] != before[route]
    ]
    not_304 = [
        f"{by_url[o.feed.url].path}: {o.status} ({o.error})"
        for o in second
        if o.status != "not_modified"
    ]
    assert sum(after.values()) == sum(before.values()), (
        "bodies downloaded again despite stored validators:\n" + "\n".join(resent)
    )
    assert not not_304, "feeds not answered 304 on the second pass:\n" + "\n".join(not_304)


def test_titles_match_feedparsers_for_99_percent_of_real_entries(corpus):
    compared = 0
    mismatches = []
    for snapshot in _real_feeds(corpus):
        if not snapshot.feedparser_entries:
            continue
        items = parse_feed(snapshot.data, content_type=snapshot.content_type, now=NOW).items
        expected = [
            clean_text(e.get("title"), TITLE_MAX_CHARS) for e in snapshot.feedparser_entries
        ]
        if len(items) != len(expected):
            # Entries cannot be paired up; count every titled one as a mismatch.
            titled = sum(1 for title in expected if title)
            compared += titled
            mismatches += [
                f"{snapshot.path}: {len(items)} items, feedparser {len(expected)}"
            ] * titled
            continue
        for title, item in zip(expected, items, strict=True):
            if not title:  # feedparser has no title; newsdesk derives one from the summary
                continue
            compared += 1
            if item.title != title:
                mismatches.append(f"{snapshot.path}: {item.title!r} != feedparser {title!r}")

    agreeing = compared - len(mismatches)
    assert compared > 1500
    assert agreeing >= 0.99 * compared, (
        f"only {agreeing} of {compared} titles equal feedparser's; mismatches:\n"
        + "\n".join(mismatches)
    )


def test_no_real_feed_gets_replacement_characters_that_feedparser_avoids(corpus):
    # A U+FFFD in a stored title means bytes were decoded with the wrong charset: the reader
    # sees "Relat�rio" where feedparser shows "Relatório".
    garbled = []
    for snapshot in _real_feeds(corpus):
        parsed = parse_feed(snapshot.data, content_type=snapshot.content_type, now=NOW)
        ours = [t for i in parsed.items for t in (i.title, i.summary) if "\ufffd" in t]
        theirs = any(
            "\ufffd" in clean_text(e.get(key))
            for e in snapshot.feedparser_entries
            for key in ("title", "summary")
        )
        if ours and not theirs:
            garbled.append(f"{snapshot.path} ({len(ours)} texts), e.g. {ours[0][:80]!r}")

    assert not garbled, "mis-decoded text where feedparser decodes it:\n" + "\n".join(garbled)
