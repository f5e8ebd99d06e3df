"""Feed bytes -> normalized Items: fastfeedparser first, feedparser when it gives up.

fastfeedparser (lxml-based) parses real feeds about a hundred times faster than feedparser, and
reads RSS 0.9x/1.0/2.0, RDF, Atom and JSON Feed. On malformed documents it either raises or finds
no entries, and only then is feedparser's forgiving parser worth its cost (../shared/DESIGN.md,
"Two parsers"). Both are handed only the bytes we downloaded, never a URL or a string they might
treat as one: fastfeedparser fetches strings that look like URLs, and feedparser opens strings
and bytes that name a local file.

Every entry becomes an Item, including entries with no id (identified by link, then by a hash of
their text): a feed reader that drops entries loses news.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import fastfeedparser
import feedparser

from newsdesk.feeds.canonical import canonical_url, clean_text, content_hash
from newsdesk.models import Item, ParsedFeed

TITLE_MAX_CHARS = 300
AUTHOR_MAX_CHARS = 200
GUID_MAX_CHARS = 1000
# A feed's clock may run a little ahead of ours; beyond this a date is taken as wrong.
FUTURE_TOLERANCE = timedelta(hours=1)
# feedparser flags these, but they describe the HTTP headers, not a broken document: GitHub
# serves feeds as text/plain, and many servers declare a charset the XML then overrides.
_HARMLESS = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
_TTL = re.compile(rb"<ttl>\s*(\d{1,6})\s*</ttl>", re.IGNORECASE)


def parse_feed(
    body: bytes,
    *,
    content_type: str | None = None,
    url: str | None = None,
    now: datetime | None = None,
    summary_max_chars: int = 1000,
) -> ParsedFeed:
    """Read what can be read from a feed body; `error` says why the rest could not be.

    `url` is the feed's own address: relative links are resolved against it.
    """
    now = now or datetime.now(UTC)
    fast_error = None
    try:
        document = fastfeedparser.parse(body)
        entries = list(document.get("entries") or [])
        if entries:
            feed = document.get("feed") or {}
            return _normalize(
                feed, entries, url, now, summary_max_chars, _ttl(body), None, "fastfeedparser"
            )
    except Exception as exc:  # a third-party parser on hostile input: any error is possible
        fast_error = str(exc) or type(exc).__name__

    try:
        document = feedparser.parse(
            io.BytesIO(body),
            response_headers=_headers(content_type, url),
            sanitize_html=False,  # clean_text strips all markup anyway, much faster
            resolve_relative_uris=False,  # canonical_url resolves the links we keep
        )
    except Exception as exc:
        return ParsedFeed(title=None, link=None, items=[], error=f"unreadable feed: {exc}")

    error = None
    problem = document.get("bozo_exception")
    if document.get("bozo") and not isinstance(problem, _HARMLESS):
        error = f"malformed feed: {problem}"
    if not document.entries and fast_error and not document.feed:
        error = f"not a feed: {fast_error}"
    ttl = _int_or_none(document.feed.get("ttl")) or _ttl(body)
    return _normalize(
        document.feed, document.entries, url, now, summary_max_chars, ttl, error, "feedparser"
    )


def _normalize(
    feed: Mapping[str, Any],
    entries: list[Mapping[str, Any]],
    url: str | None,
    now: datetime,
    summary_max_chars: int,
    ttl: int | None,
    error: str | None,
    parser: str,
) -> ParsedFeed:
    base = canonical_url(feed.get("link"), url) or url
    items: list[Item] = []
    seen: set[str] = set()
    for entry in entries:
        item = _item(entry, base, now, summary_max_chars)
        if item.guid not in seen:  # a feed listing one entry twice is one item
            seen.add(item.guid)
            items.append(item)
    return ParsedFeed(
        title=clean_text(feed.get("title"), TITLE_MAX_CHARS) or None,
        link=canonical_url(feed.get("link"), url),
        items=items,
        ttl_minutes=ttl,
        error=error,
        parser=parser,
    )


def _item(entry: Mapping[str, Any], base: str | None, now: datetime, max_chars: int) -> Item:
    link = canonical_url(_text(entry.get("link")), base)
    summary = clean_text(_summary_html(entry, max_chars), max_chars)
    title = clean_text(_text(entry.get("title")), TITLE_MAX_CHARS)
    if not title:
        title = clean_text(summary, 120) or link or "(untitled)"
    digest = content_hash(title, summary)
    raw_id = _text(entry.get("id")).strip()
    guid = raw_id[:GUID_MAX_CHARS] if raw_id else (link or f"sha1:{digest}")
    author = clean_text(_text(entry.get("author")), AUTHOR_MAX_CHARS) or None
    return Item(
        guid=guid,
        url=link,
        title=title,
        summary=summary,
        author=author,
        published=_published(entry, now),
        content_hash=digest,
    )


def _summary_html(entry: Mapping[str, Any], max_chars: int) -> str:
    """The entry's authored HTML: its first content block, else its summary/description.

    Content comes first because fastfeedparser fills a missing description from the content
    with tags stripped but <script> bodies kept as text; clean_text drops those bodies only
    while they are still inside their tags. Long articles are cut before cleaning: only the
    first `max_chars` characters of text survive it anyway.
    """
    content = entry.get("content")
    if isinstance(content, list):
        for block in content:
            value = _text(block.get("value") if isinstance(block, Mapping) else block)
            if value.strip():
                return value[: max(20_000, 20 * max_chars)]
    for key in ("summary", "description"):
        value = _text(entry.get(key))
        if value.strip():
            return value[: max(20_000, 20 * max_chars)]
    return ""


def _published(entry: Mapping[str, Any], now: datetime) -> datetime | None:
    """The entry's date in UTC, or None when missing, unreadable or in the future."""
    for key in ("published", "updated", "created"):
        moment = _parse_date(entry.get(f"{key}_parsed")) or _parse_date(entry.get(key))
        if moment is not None:
            return None if moment > now + FUTURE_TOLERANCE else moment
    return None


def _parse_date(value: Any) -> datetime | None:
    try:
        if isinstance(value, time.struct_time):  # feedparser's *_parsed, already UTC
            return datetime(*value[:6], tzinfo=UTC)
        if isinstance(value, str) and value:
            moment = datetime.fromisoformat(value.strip())  # fastfeedparser gives ISO 8601
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
    except (ValueError, TypeError, OverflowError):
        return None
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):  # feedparser *_detail dicts, JSON Feed author objects
        return _text(value.get("value") or value.get("name"))
    return value if isinstance(value, str) else str(value)


def _ttl(body: bytes) -> int | None:
    match = _TTL.search(body, 0, 65536)  # <ttl> belongs to the channel, before the items
    return int(match.group(1)) if match else None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _headers(content_type: str | None, url: str | None) -> dict[str, str]:
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    if url:
        headers["content-location"] = url
    return headers
