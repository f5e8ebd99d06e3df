"""One spelling per article: canonical URLs, plain-text summaries and text fingerprints.

The same story reaches newsdesk through many links: with and without `utm_*` tags, relative to a
feed, with a default port, in another letter case. Its text arrives as feed HTML that is escaped
once, twice or not at all. Deduplication compares these keys, so they have to be computed the same
way everywhere; the parser and the store both call this module and nothing else.

URL rules favour precision over recall: two spellings are merged only when every mainstream server
treats them as one resource, so http and https, and `www.` and the bare domain, stay distinct.
Every function here takes whatever a feed sends and never raises.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote, urljoin, urlsplit

import idna  # installed with httpx, which encodes hosts with it when fetching

__all__ = [
    "MAX_URL_LENGTH",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "canonical_url",
    "clean_text",
    "content_hash",
    "url_host",
]

MAX_URL_LENGTH = 2048

# Query keys that only say where a click came from, never which article it is. Matched after
# lower-casing and percent-decoding the key.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "_hsenc",
        "_hsmi",
        "igshid",
        "yclid",
    }
)
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})?")
# Printable ASCII is left as written; only what cannot go on the wire (spaces, controls,
# non-ASCII) is percent-encoded, the way a browser sends it, so `/café` equals `/caf%C3%A9`.
_WIRE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))
# ASCII that can never appear in a host name; such a "URL" is garbage, not a site.
_BAD_HOST_CHARS = frozenset(' "<>\\^`{|}') | frozenset(map(chr, range(0x20))) | {"\x7f"}


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """Give every link to one article the same key, so the store can tell reposts from news.

    None means "no web page to key on" (not http(s), empty, unparsable, over 2,048 characters),
    which callers treat as "no URL" rather than as an error.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        return None
    try:
        if isinstance(base, str) and base.strip():
            url = urljoin(base.strip(), url)
        result = _canonicalize(url)
    except ValueError:  # urlsplit's bad brackets or ports; UnicodeError is a ValueError too
        return None
    if result is None or len(result) > MAX_URL_LENGTH:
        return None
    return result


def url_host(url: str | None) -> str | None:
    """The host that per-host limits count against, spelled as `canonical_url` spells it.

    IPv6 hosts come back without brackets, as `urllib` and `httpx` give them.
    """
    canonical = canonical_url(url)
    if canonical is None:
        return None
    return urlsplit(canonical).hostname


def _canonicalize(url: str) -> str | None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or "\\" in parts.netloc:
        return None
    hostport = parts.netloc.rpartition("@")[2]  # userinfo is a credential, not part of the page
    authority = _authority(scheme, hostport)
    if authority is None:
        return None
    path = _remove_dot_segments(_normalize_escapes(parts.path) or "/")
    query = _clean_query(_normalize_escapes(parts.query))
    return f"{scheme}://{authority}{path}{'?' + query if query else ''}"


def _authority(scheme: str, hostport: str) -> str | None:
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if end == -1 or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
        host = _normalize_ipv6(host)
    else:
        host, _, port = hostport.partition(":")
        host = _normalize_host(host)
    if not host or any(ch in _BAD_HOST_CHARS for ch in host):
        return None
    if port:
        if not (port.isascii() and port.isdigit()) or int(port) > 65535:
            return None
        port = str(int(port))
    if not port or port == _DEFAULT_PORTS[scheme]:
        return host
    return f"{host}:{port}"


def _normalize_host(host: str) -> str:
    """IDNA 2008 with UTS 46 mapping, as browsers and httpx encode it: `faß.de` is its own
    domain (`xn--fa-hia.de`), which the standard library's IDNA 2003 codec folds into `fass.de`.
    Symbols IDNA 2008 refuses (`☃.net`) still get the 2003 spelling that browsers use."""
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        pass
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:  # empty or over-long labels
        return host.lower()


def _normalize_ipv6(host: str) -> str:
    try:
        return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
    except ValueError:  # zone ids, IPvFuture: keep as written, just lower-cased
        return host.lower()


def _normalize_escapes(component: str) -> str:
    """RFC 3986 says `%7E`, `%7e` and `~` are one character; a feed may use any of them."""
    component = quote(component, safe=_WIRE_SAFE)
    if "%" not in component:
        return component
    return _PERCENT.sub(_normalize_escape, component)


def _normalize_escape(match: re.Match[str]) -> str:
    hex_digits = match.group(1)
    if hex_digits is None:
        # A `%` that starts no escape can only mean itself; spelling it `%25` also stops a
        # decoded neighbour from forming a new escape (`%2%41` -> `%2A`) on the next pass.
        return "%25"
    char = chr(int(hex_digits, 16))
    return char if char in _UNRESERVED else "%" + hex_digits.upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for an absolute path, written as a segment stack."""
    if "." not in path:
        return path
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")  # `/a/b/..` is the directory `/a/`, not the file `/a`
    return "/" + "/".join(kept)


def _clean_query(query: str) -> str:
    params = []
    for param in query.split("&"):
        if not param:
            continue  # `?&a=1&&` carries nothing between the separators
        key, _, value = param.partition("=")
        lowered = key.lower()
        if lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES):
            continue
        params.append((key, value, param))
    params.sort()
    return "&".join(param for _, _, param in params)


# --- text -------------------------------------------------------------------------------------

# Elements whose content is code or embedded documents, never words of the summary.
_SKIP_CONTENT = frozenset({"script", "style", "noscript", "template", "iframe", "svg"})
# Elements that sit inside a line; any other tag (p, br, div, li, h1-h6, tr, td, blockquote,
# unknown custom elements ...) separates words, so `<p>one</p><p>two</p>` cannot become "onetwo".
# _BLOCK lists the other common tags only so that the second decoding pass can tell real markup
# from text that merely looks like a tag.
# fmt: off
_INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "ins", "kbd", "mark", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strike",
    "strong", "sub", "sup", "time", "tt", "u", "var", "wbr"
})
_BLOCK = frozenset({
    "address", "article", "aside", "audio", "blockquote", "br", "caption", "center", "dd",
    "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "img", "li", "main", "nav",
    "ol", "p", "picture", "pre", "section", "source", "summary", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "ul", "video"
})
# fmt: on
_KNOWN_TAGS = _SKIP_CONTENT | _INLINE | _BLOCK
# Invisible characters that split or join words go away; control characters become spaces.
# Unicode whitespace (NBSP, U+3000, U+2028, tabs ...) is what str.split() folds.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]+")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]+")
_TAG = re.compile(r"<[^>]*>")
# CPython's HTMLParser before 3.11.13 / 3.12.11 / 3.13.4 (gh-135462, CVE-2025-6069) rescans to
# the end of the input for every unterminated tag, comment or CDATA section: 200 kB of `<a`
# takes a minute. These linear passes remove those constructs before the parser sees them, and
# make the output the same on every Python version.
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)  # unclosed: runs to the end, as in HTML5
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)", re.DOTALL)
_UNTERMINATED_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")  # no `>` before the next `<`: not a tag
# Past this much input a summary's first max_chars of text are long decided; bounds the work.
_MAX_INPUT_CHARS = 200_000


class _TextExtractor(HTMLParser):
    """Collects the words a reader would see. With `known_only`, tags that are not HTML stay
    as text, so that an escaped `<think>` in a second decoding pass is kept as written."""

    def __init__(self, known_only: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._known_only = known_only

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._known_only and tag not in _KNOWN_TAGS:
            self.handle_data(self.get_starttag_text() or "")
        elif tag in _SKIP_CONTENT:
            self._skip_depth += 1
        elif tag not in _INLINE and not self._skip_depth:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self._known_only and tag not in _KNOWN_TAGS:
            self.handle_data(f"</{tag}>")
        elif tag in _SKIP_CONTENT:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag not in _INLINE and not self._skip_depth:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if not self._known_only or tag in _KNOWN_TAGS:  # `<think/>` was already kept whole
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def _html_to_text(markup: str, known_only: bool = False) -> str:
    markup = _COMMENT.sub("", markup)
    markup = _CDATA.sub(lambda match: html.escape(match.group(1), quote=False), markup)
    if not known_only:  # a first pass reads markup, where a trailing `<a hr` is a cut-off tag
        markup = _drop_truncated_tag(markup)
    markup = _UNTERMINATED_LT.sub("&lt;", markup)
    parser = _TextExtractor(known_only)
    try:
        parser.feed(markup)
        parser.close()
    except AssertionError:  # _markupbase rejects some `<![...` declarations this way
        return html.unescape(_TAG.sub(" ", markup))
    return "".join(parser.parts)


def _drop_truncated_tag(markup: str) -> str:
    """Feeds cut summaries mid-tag (`... <a href="htt`); that fragment is not text to show."""
    start = markup.rfind("<")
    if start != -1 and ">" not in markup[start:]:
        following = markup[start + 1 : start + 2]
        if following and following.isascii() and (following.isalpha() or following in "/!"):
            return markup[:start]
    return markup


def clean_text(text: str | None, max_chars: int = 1000) -> str:
    """Turn feed HTML into the plain text a digest shows and the fingerprint reads.

    Entities are decoded at most twice because feeds often escape one level too many
    (`&amp;nbsp;`, `&lt;p&gt;`); the second pass also removes tags that were escaped, but only
    real HTML tags, so text such as "the <think> block" survives.
    """
    if not isinstance(text, str) or not text:
        return ""
    text = text[: max(_MAX_INPUT_CHARS, 10 * max_chars)]
    if "<" in text or "&" in text:  # plain text skips the (pure Python) HTML parser
        decoded = _html_to_text(text) if "<" in text else html.unescape(text)
        if decoded != text and "<" in decoded:
            decoded = _html_to_text(decoded, known_only=True)
        elif decoded != text and "&" in decoded:
            decoded = html.unescape(decoded)  # the same decoding, without the parser's cost
        text = decoded
    text = " ".join(text.split())
    if not text.isprintable():  # a C-speed test that spares the common text two regex scans
        text = " ".join(_CONTROL.sub(" ", _INVISIBLE.sub("", text)).split())
    return truncate(text, max_chars)


def truncate(text: str, max_chars: int) -> str:
    """Cut at a word boundary so the ellipsis never lands inside a word, keeping the result
    (ellipsis included) within `max_chars`. Text without nearby spaces (CJK, long URLs) is cut
    at the cap: a boundary far back would throw away most of the allowed length."""
    if len(text) <= max_chars:
        return text
    if max_chars <= 1:
        return "…" if max_chars == 1 else ""
    limit = max_chars - 1
    cut = limit
    if not (_is_wide(text[limit - 1]) or _is_wide(text[limit])):
        space = text.rfind(" ", limit // 2, limit + 1)
        if space > 0:
            cut = space
    return text[:cut].rstrip() + "…"


def _is_wide(char: str) -> bool:
    # CJK scripts do not separate words with spaces: a wide character ends or starts a word.
    return unicodedata.east_asian_width(char) in ("W", "F")


# --- fingerprints -----------------------------------------------------------------------------


def content_hash(title: str, summary: str) -> str:
    """Recognise syndicated copies of one article whose links differ.

    Copies differ in punctuation, case, full-width forms and spacing, never in words, so only
    letters, digits and their combining marks (which carry vowels in Indic scripts) are hashed.
    16 hex characters (64 bits) keep collisions negligible at newsdesk's scale.
    """
    text = _fingerprint_text(title) + "\n" + _fingerprint_text(summary)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _fingerprint_text(text: str | None) -> str:
    if not isinstance(text, str):
        return ""
    if text.isascii():  # most feed text: NFKC changes nothing and a regex is ~10x faster
        return _NOT_ASCII_ALNUM.sub("", text.lower())
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in folded if ch.isalnum() or unicodedata.category(ch).startswith("M"))


_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")
