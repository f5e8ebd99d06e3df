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
from urllib.parse import urlsplit

import fastfeedparser
import feedparser
from lxml import etree

try:  # the date reader fastfeedparser applies to GUIDs; private, so guarded
    from fastfeedparser.main import _parse_date as _fast_parse_date
except ImportError:  # pragma: no cover - a fastfeedparser without it does not guess either
    _fast_parse_date = None

from newsdesk.feeds.canonical import canonical_url, clean_text, content_hash
from newsdesk.models import Item, ParsedFeed

TITLE_MAX_CHARS = 300
AUTHOR_MAX_CHARS = 200
GUID_MAX_CHARS = 1000
# A feed's clock may run a little ahead of ours; beyond this a date is taken as wrong.
FUTURE_TOLERANCE = timedelta(hours=1)
_STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_XHTML_TEXT = re.compile(
    rb"""<(?:\w+:)?(?:title|summary|subtitle)\b[^>]*type\s*=\s*["']xhtml["']"""
)
_XML_DECLARATION_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*""")
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Labels that lie: Chinese sites declare gb2312 and use GBK characters (gb18030 is a superset of
# both), and "latin-1" on the web means windows-1252, as in every browser.
_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "iso-8859-1": "windows-1252",
    "latin-1": "windows-1252",
    "latin1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
}
_SINGLE_BYTE_WESTERN = {"windows-1252", "iso-8859-15", "cp1252"}
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

    `url` is the feed's own address: relative links resolve against the channel's link, else
    against it. `content_type` is the response's header, whose charset wins over the document's.
    """
    now = now or datetime.now(UTC)
    fast_error = None
    fast_empty = None  # the channel fastfeedparser read, when it read one with no entries
    utf8 = to_utf8(body, content_type)
    if utf8 is None:
        fast_error = "the bytes do not decode in the declared encoding"
    elif _XHTML_TEXT.search(utf8):
        fast_error = "XHTML text constructs"  # fastfeedparser reads them as empty text
    else:
        try:
            document = fastfeedparser.parse(utf8)
            entries = list(document.get("entries") or [])
            feed = document.get("feed") or {}
            if entries:
                return _normalize(
                    feed,
                    entries,
                    url,
                    now,
                    summary_max_chars,
                    _ttl(body),
                    _malformation(utf8),
                    "fastfeedparser",
                )
            malformed = _malformation(utf8)
            if malformed is None:
                fast_empty = feed
            else:
                fast_error = malformed
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

    problem = document.get("bozo_exception")
    error = None
    if document.get("bozo") and not isinstance(problem, _HARMLESS):
        error = f"malformed feed: {problem}"
    if not document.entries:
        if fast_empty is not None:  # a valid feed with nothing in it (JSON Feed included)
            return _normalize(
                fast_empty, [], url, now, summary_max_chars, _ttl(body), None, "fastfeedparser"
            )
        if not document.get("version"):
            error = f"not a feed: {fast_error or error or 'no RSS, Atom or JSON Feed found'}"
    ttl = _int_or_none(document.feed.get("ttl")) or _ttl(body)
    return _normalize(
        document.feed, document.entries, url, now, summary_max_chars, ttl, error, "feedparser"
    )


def to_utf8(body: bytes, content_type: str | None = None) -> bytes | None:
    """The document re-encoded as UTF-8 with a matching XML declaration, or None.

    fastfeedparser trusts the XML declaration alone and silently cuts text at the first byte
    that does not decode, so the encoding is settled here, the way RFC 7303 orders it: a
    byte-order mark, then the HTTP charset, then the XML declaration, then UTF-8. None means the
    bytes do not decode as declared: feedparser, which guesses, gets them instead.
    """
    head = body[:4]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            encoding = codec
            break
    else:
        if body.lstrip()[:1] in (b"{", b"["):
            return body  # JSON Feed is UTF-8 by definition
        declared = _declared_charset(content_type) or _xml_declaration_encoding(body)
        encoding = _ENCODING_ALIASES.get((declared or "utf-8").lower(), declared or "utf-8")
        if encoding != "utf-8" and encoding in _SINGLE_BYTE_WESTERN and _is_utf8(body):
            # Servers often label UTF-8 as Latin-1 by default; valid multi-byte UTF-8 is
            # vanishingly unlikely in real Latin-1 text, so the bytes are believed instead.
            encoding = "utf-8"
        if encoding == "utf-8":
            return body if _is_utf8(body) else None
    try:
        text = body.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None
    text = _XML_DECLARATION_ENCODING.sub(r"\g<1>utf-8", text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8")


def _malformation(body: bytes) -> str | None:
    """Why a document fastfeedparser recovered from is not well-formed XML, if it is not.

    fastfeedparser parses in recover mode and says nothing of what it skipped; the admin should
    know that a feed is losing entries. JSON needs no check: it parsed or it raised.
    """
    if body.lstrip()[:1] in (b"{", b"["):
        return None
    try:
        etree.fromstring(body, _STRICT_XML)
    except etree.XMLSyntaxError as exc:
        return f"malformed feed: {exc}"
    return None


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
    if link and raw_id == _text(entry.get("link")).strip():
        # fastfeedparser copies a missing <guid> from <link>: identify the item by the
        # canonical link, so rotating tracking parameters do not make it new on every poll;
        # but keep the fragment, which some feeds use to tell items on one page apart.
        fragment = urlsplit(raw_id).fragment
        raw_id = f"{link}#{fragment}" if fragment else link
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
    """The entry's date in UTC, or None when missing, unreadable or in the future.

    dict.get skips feedparser's deprecated published<-updated mapping (and its warning).
    """
    for key in ("published", "updated", "created"):
        raw = dict.get(entry, key)
        moment = _parse_date(dict.get(entry, f"{key}_parsed")) or _parse_date(raw)
        if moment is None:
            continue
        if key == "published" and _date_guessed_from_guid(entry, raw):
            return None
        return None if moment > now + FUTURE_TOLERANCE else moment
    return None


def _date_guessed_from_guid(entry: Mapping[str, Any], published: Any) -> bool:
    """True when fastfeedparser made the date up by reading an undated item's GUID as one.

    It does that for RSS items without <pubDate> (a GUID "7" becomes the 7th of this month);
    a date that equals the GUID read as a date, with no <updated> beside it, is that guess.
    """
    guid = _text(dict.get(entry, "id")).strip()
    if not guid or len(guid) > 64 or "updated" in entry or guid.startswith(("http://", "https://")):
        return False  # a date written as a GUID is short; long GUIDs are not worth the parse
    return _fast_parse_date is not None and _fast_parse_date(guid) == published


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


def _declared_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _xml_declaration_encoding(body: bytes) -> str | None:
    match = re.match(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", body[:200])
    return match.group(1).decode("ascii") if match else None


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
