"""OPML import and export, so a newsroom can move its subscriptions in and out of newsdesk.

Every feed reader (Feedly, Inoreader, NetNewsWire, Miniflux, ...) exports subscriptions as OPML, so
this is how an admin seeds newsdesk with the feeds the team already reads, and how they take them
back out. Readers differ in the details: some nest feeds in folders, some use OPML 2.0's
`category` attribute, some spell `xmlUrl` in lower case, and some export entries that are not
pollable feeds at all. `parse_opml` absorbs those differences and turns folders and categories into
newsdesk tags, so the digest can group items the way the team already groups its feeds.

The file is uploaded by a person, so it is untrusted: it is parsed without entity expansion, DTD
loading or network access, and a document that declares entities is refused outright instead of
being parsed carefully, because OPML never needs them and they are how "billion laughs" and
external-entity attacks get in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

__all__ = ["OpmlError", "OpmlFeed", "parse_opml", "to_opml"]


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription, reduced to what newsdesk can act on.

    `title` is None when the exporter gave no name; the feed's own title then takes over once it
    is fetched. `tags` are already normalized (lower case, no spaces), so tags that came from a
    folder and tags that came from a `category` attribute compare equal.
    """

    url: str
    title: str | None
    tags: tuple[str, ...] = ()


class OpmlError(ValueError):
    """The upload cannot be read as a subscription list; the message is meant for the admin."""


# "<!ENTITY" as spelled in the byte encodings an XML document can plausibly arrive in. Checked on
# the raw bytes because libxml2 expands internal entities inside attribute values even with
# resolve_entities=False, so a billion-laughs document must be turned away before it is parsed.
_ENTITY_MARKERS = tuple(
    "<!ENTITY".encode(encoding)
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_HTTP_SCHEMES = frozenset({"http", "https"})
# OPML 2.0: "a string of comma-separated slash-delimited category strings".
_CATEGORY_SEPARATORS = re.compile(r"[,/]")
# Separators are folded into '-' too, so a folder called "AI/ML" cannot become two tags on the
# next import of our own export.
_TAG_JOINERS = re.compile(r"[\s,/\-]+")
# Characters XML 1.0 cannot carry at all; a feed's title fetched from the web may contain them.
_NOT_XML_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Feeds from an OPML subscription list (OPML 1.0/2.0 as exported by feed readers).

    Entries that are not pollable (no URL, or a scheme other than http/https, such as a reader's
    internal `feed://` or `file:` links) are skipped silently: the admin uploaded a reader's
    export, not a list they curated for us, and one odd entry should not fail the import. A URL
    listed twice keeps its first occurrence, which is where the admin most likely filed it.
    """
    if any(marker in data for marker in _ENTITY_MARKERS):
        raise _entity_refusal()
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise OpmlError(f"malformed XML at line {error.lineno}: {error.msg}") from error
    # Second line of defence for encodings the byte scan above does not know.
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _entity_refusal()

    root_name = _local_name(root)
    if root_name != "opml":
        raise OpmlError(f"not an OPML document: the root element is <{root_name}>")
    body = next((child for child in _elements(root) if _local_name(child) == "body"), None)
    if body is None:
        raise OpmlError("not a usable OPML document: <opml> has no <body> listing the feeds")

    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for outline, folder_tags in _walk_outlines(body):
        attributes = _attributes(outline)
        url = attributes.get("xmlurl", "").strip()
        if url in seen or not _is_pollable(url):
            continue
        seen.add(url)
        categories = _CATEGORY_SEPARATORS.split(attributes.get("category", ""))
        tags = _unique([*folder_tags, *(_tag(category) for category in categories)])
        feeds.append(OpmlFeed(url=url, title=_title(attributes), tags=tags))
    return feeds


def to_opml(feeds: Iterable[OpmlFeed], title: str = "newsdesk feeds") -> bytes:
    """An OPML 2.0 document (UTF-8, with XML declaration, dateCreated in RFC 822) that other
    readers import.

    Feeds are written flat, with their tags in the `category` attribute rather than as folders:
    a feed can carry several tags but sit in only one folder, and readers that ignore `category`
    still import every feed. A feed without a title gets an empty `text`, so it comes back as
    None instead of as its URL; readers name such feeds from the feed itself.
    """
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = _xml_safe(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    for feed in feeds:
        outline = etree.SubElement(body, "outline", type="rss", text=_xml_safe(feed.title or ""))
        if feed.title:
            outline.set("title", _xml_safe(feed.title))
        outline.set("xmlUrl", _xml_safe(feed.url))
        tags = _unique(_tag(_xml_safe(tag)) for tag in feed.tags)
        if tags:
            outline.set("category", ",".join(tags))
    # lxml writes the declaration with single quotes; a few importers only accept double ones.
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + etree.tostring(opml, encoding="UTF-8", pretty_print=True)


def _entity_refusal() -> OpmlError:
    return OpmlError(
        "refused: the document declares XML entities (<!ENTITY ...>), which OPML never needs "
        "and which can expand a small file into gigabytes"
    )


def _walk_outlines(body: etree._Element) -> Iterator[tuple[etree._Element, tuple[str, ...]]]:
    """Yield outlines in document order with the tags of the folders around them.

    Iterative rather than recursive so that a deeply nested upload cannot exhaust the stack.
    """
    stack: list[tuple[etree._Element, tuple[str, ...]]] = [
        (child, ()) for child in reversed(list(_elements(body)))
    ]
    while stack:
        element, folder_tags = stack.pop()
        if _local_name(element) != "outline":
            continue
        yield element, folder_tags
        attributes = _attributes(element)
        inner_tags = folder_tags
        if not attributes.get("xmlurl", "").strip():
            # No feed URL: a folder, whose name files the feeds inside it.
            folder_tag = _tag(_title(attributes) or "")
            if folder_tag:
                inner_tags = (*folder_tags, folder_tag)
        stack.extend((child, inner_tags) for child in reversed(list(_elements(element))))


def _elements(parent: etree._Element) -> Iterator[etree._Element]:
    """Child elements only: comments and processing instructions are legal anywhere in OPML."""
    return (child for child in parent if isinstance(child.tag, str))


def _local_name(element: etree._Element) -> str:
    """Tag name without namespace, lower-cased, since some exporters namespace or capitalize it."""
    return etree.QName(element).localname.lower()


def _attributes(outline: etree._Element) -> dict[str, str]:
    """Attributes by lower-cased name, because exporters disagree on `xmlUrl` versus `xmlurl`."""
    attributes: dict[str, str] = {}
    for name, value in outline.attrib.items():
        if not name.startswith("{"):  # another application's namespaced extension
            attributes.setdefault(name.lower(), value)
    return attributes


def _title(attributes: dict[str, str]) -> str | None:
    """`text` first: it is what the reader displayed, possibly renamed by the user."""
    for name in ("text", "title"):
        value = attributes.get(name, "").strip()
        if value:
            return value
    return None


def _is_pollable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme.lower() in _HTTP_SCHEMES and bool(parts.netloc)


def _tag(name: str) -> str:
    return _TAG_JOINERS.sub("-", name.strip().lower()).strip("-")


def _unique(tags: Iterable[str]) -> tuple[str, ...]:
    """Drop empty and repeated tags, keeping the first position so folder tags lead."""
    return tuple(dict.fromkeys(tag for tag in tags if tag))


def _xml_safe(text: str) -> str:
    return _NOT_XML_CHARS.sub("", text)
