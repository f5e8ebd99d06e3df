"""parse_feed on small inline documents: what a reader ends up seeing for each kind of feed.

Every format newsdesk promises to read (RSS 0.91, RSS 1.0/RDF, RSS 2.0, Atom 1.0, JSON Feed 1.1)
must come out as the same plain Items: canonical URL, plain-text summary, author, a UTC date or
None. Around that sit the rules that keep the archive honest: an entry without an id is kept
(identified by its canonical link, else by a hash of its text), a feed listing one entry twice
yields one item, dates from the future or from nowhere are not invented, and broken, empty or
mislabelled documents give an `error` (never an exception) while keeping whatever can be read.

The safety tests hand parse_feed bytes that spell a local path or a URL: the parsers it wraps
open files and fetch URLs given as strings, and a feed body must never make newsdesk do either.
The documents are written inline, so each test shows the exact input its assertion is about.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import pytest

from newsdesk.feeds.parse import parse_feed
from newsdesk.models import ParsedFeed
from tests.conftest import NOW
from tests.servers.feed_server import feed_server

# Listing the imported fixture as used keeps ruff from reading the test parameters as F811.
__all__ = ["feed_server"]

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"


def parse(body: bytes, **kwargs) -> ParsedFeed:
    """parse_feed with newsdesk's fixed test clock."""
    return parse_feed(body, now=NOW, **kwargs)


def rss(items: str, *, channel: str = "", encoding: str = "utf-8") -> str:
    """An RSS 2.0 document around `items`; `channel` adds channel-level elements."""
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Site News</title><link>https://site.example/</link>"
        f"<description>News from the site</description>{channel}{items}</channel></rss>"
    )


def atom(entries: str, *, feed_link: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Lab Blog</title><id>urn:lab:blog</id>{feed_link}"
        f"<updated>2025-06-10T01:30:00Z</updated>{entries}</feed>"
    ).encode()


def titles(parsed: ParsedFeed) -> list[str]:
    return [item.title for item in parsed.items]


# --- each format ------------------------------------------------------------------------------

RSS_20 = rss(
    "<item><title>Model &amp; weights released</title>"
    "<link>https://site.example/a/?utm_source=rss&amp;id=7</link>"
    '<guid isPermaLink="false">site-news-1</guid>'
    "<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;, and more&lt;/p&gt;</description>"
    "<dc:creator>Jane Doe</dc:creator><pubDate>Tue, 10 Jun 2025 09:30:00 +0800</pubDate></item>"
    "<item><title>Second story</title><link>https://site.example/b</link>"
    '<guid isPermaLink="false">site-news-2</guid>'
    "<pubDate>Mon, 09 Jun 2025 20:30:00 -0500</pubDate></item>"
).encode()


def test_rss_20_item_reads_every_field_with_the_date_in_utc():
    parsed = parse(RSS_20, content_type=RSS_TYPE, url="https://site.example/feed.xml")

    assert parsed.error is None
    assert (parsed.title, parsed.link) == ("Site News", "https://site.example/")
    first, second = parsed.items
    assert first.guid == "site-news-1"
    assert first.url == "https://site.example/a/?id=7"  # tracking parameter dropped
    assert first.title == "Model & weights released"
    assert first.summary == "Hello world, and more"
    assert first.author == "Jane Doe"
    # 09:30 at +08:00 is 01:30 UTC; 20:30 at -05:00 is 01:30 UTC the next day.
    assert first.published == datetime(2025, 6, 10, 1, 30, tzinfo=UTC)
    assert second.published == datetime(2025, 6, 10, 1, 30, tzinfo=UTC)


def test_rss_091_item_in_latin_1_is_read_with_its_link_as_guid():
    body = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Old School</title><link>http://old.example/</link>'
        b"<description>Since 1999</description><language>en</language>"
        b"<item><title>Caf\xe9 opens downtown</title><link>http://old.example/cafe</link>"
        b"<description>A new caf\xe9 &lt;i&gt;opened&lt;/i&gt; today.</description></item>"
        b"</channel></rss>"
    )

    parsed = parse(body, content_type=RSS_TYPE, url="http://old.example/rss.xml")

    assert parsed.error is None
    assert parsed.title == "Old School"
    [item] = parsed.items
    assert item.guid == item.url == "http://old.example/cafe"
    assert item.title == "Café opens downtown"
    assert item.summary == "A new café opened today."
    assert item.published is None


def test_rss_10_rdf_item_reads_dublin_core_author_and_date():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://papers.example/">
    <title>Research Digest</title><link>https://papers.example/</link><description>d</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://papers.example/p/1"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://papers.example/p/1">
    <title>Sparse attention at scale</title><link>https://papers.example/p/1</link>
    <description>We show &lt;em&gt;sparse&lt;/em&gt; attention works.</description>
    <dc:creator>A. Researcher</dc:creator><dc:date>2025-06-10T09:30:00+08:00</dc:date>
  </item>
</rdf:RDF>"""

    parsed = parse(body, content_type="application/rdf+xml")

    assert (parsed.title, parsed.error) == ("Research Digest", None)
    [item] = parsed.items
    assert item.url == "https://papers.example/p/1"
    assert item.title == "Sparse attention at scale"
    assert item.summary == "We show sparse attention works."
    assert item.author == "A. Researcher"
    assert item.published == datetime(2025, 6, 10, 1, 30, tzinfo=UTC)


def test_atom_entry_reads_html_title_summary_author_and_published_date():
    body = atom(
        '<entry><title type="html">Scaling &lt;i&gt;laws&lt;/i&gt; revisited</title>'
        '<id>tag:lab.example,2025:1</id><link rel="alternate" href="https://lab.example/posts/1"/>'
        '<summary type="html">&lt;p&gt;We &lt;b&gt;trained&lt;/b&gt; bigger models.&lt;/p&gt;'
        "</summary><author><name>Ada Lovelace</name></author>"
        "<published>2025-06-10T09:30:00+08:00</published><updated>2025-06-11T00:00:00Z</updated>"
        "</entry>"
    )

    parsed = parse(body, content_type=ATOM_TYPE)

    assert (parsed.title, parsed.error) == ("Lab Blog", None)
    [item] = parsed.items
    assert item.guid == "tag:lab.example,2025:1"
    assert item.url == "https://lab.example/posts/1"
    assert item.title == "Scaling laws revisited"
    assert item.summary == "We trained bigger models."
    assert item.author == "Ada Lovelace"
    assert item.published == datetime(2025, 6, 10, 1, 30, tzinfo=UTC)  # published, not updated


def test_atom_xhtml_title_and_summary_are_read_as_text():
    # Atom 1.0 text constructs may be inline XHTML; TypePad and others send titles this way.
    body = atom(
        '<entry><id>urn:lab:1</id><updated>2025-06-10T01:30:00Z</updated><title type="xhtml">'
        '<div xmlns="http://www.w3.org/1999/xhtml">Scaling <i>laws</i> revisited</div></title>'
        '<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        "We <b>trained</b> bigger models.</div></summary></entry>"
    )

    [item] = parse(body, content_type=ATOM_TYPE).items

    assert item.title == "Scaling laws revisited"
    assert item.summary == "We trained bigger models."


def test_json_feed_11_items_read_html_or_text_content_and_authors():
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "AI Newsletter",
            "home_page_url": "https://letter.example/",
            "items": [
                {
                    "id": "letter-1",
                    "url": "https://letter.example/issues/1?utm_campaign=feed",
                    "title": "Issue 1: open weights",
                    "content_html": "<p>Hello <b>readers</b></p><script>track()</script>",
                    "authors": [{"name": "Grace Hopper"}],
                    "date_published": "2025-06-10T09:30:00+08:00",
                },
                {"id": "letter-2", "title": "Issue 2", "content_text": "Plain text issue"},
            ],
        }
    ).encode()

    parsed = parse(body, content_type=JSON_FEED_TYPE)

    assert (parsed.title, parsed.error) == ("AI Newsletter", None)
    first, second = parsed.items
    assert first.guid == "letter-1"
    assert first.url == "https://letter.example/issues/1"
    assert first.title == "Issue 1: open weights"
    assert first.summary == "Hello readers"
    assert first.author == "Grace Hopper"
    assert first.published == datetime(2025, 6, 10, 1, 30, tzinfo=UTC)
    assert (second.guid, second.summary, second.url) == ("letter-2", "Plain text issue", None)


# --- identity -----------------------------------------------------------------------------


def test_entry_without_guid_takes_its_canonical_link_as_guid():
    body = rss(
        "<item><title>Absolute</title><link>https://site.example/a?utm_source=rss</link></item>"
        "<item><title>Relative</title><link>/news/b?id=3&amp;utm_medium=feed</link></item>"
    ).encode()

    parsed = parse(body, content_type=RSS_TYPE, url="https://site.example/feed.xml")

    assert [(i.guid, i.url) for i in parsed.items] == [
        ("https://site.example/a", "https://site.example/a"),
        ("https://site.example/news/b?id=3", "https://site.example/news/b?id=3"),
    ]


def test_entries_without_guid_or_link_are_kept_with_distinct_text_hashes():
    body = rss(
        "<item><title>Linked</title><link>https://site.example/linked</link></item>"
        "<item><title>Status update</title><description>The API is back.</description></item>"
        "<item><title>Status update</title><description>The API is down.</description></item>"
    ).encode()

    parsed = parse(body, content_type=RSS_TYPE)

    linked, back, down = parsed.items
    assert linked.guid == "https://site.example/linked"
    assert back.guid.startswith("sha1:") and down.guid.startswith("sha1:")
    assert back.guid != down.guid
    assert (back.summary, down.summary) == ("The API is back.", "The API is down.")


def test_duplicate_guid_within_one_feed_yields_one_item():
    body = rss(
        "<item><title>First copy</title><guid>story-1</guid></item>"
        "<item><title>Other story</title><guid>story-2</guid></item>"
        "<item><title>Second copy</title><guid>story-1</guid></item>"
    ).encode()

    parsed = parse(body, content_type=RSS_TYPE)

    assert [(i.guid, i.title) for i in parsed.items] == [
        ("story-1", "First copy"),
        ("story-2", "Other story"),
    ]


# --- text ---------------------------------------------------------------------------------


def test_summary_html_is_stripped_to_plain_text():
    body = rss(
        "<item><title>Markup</title><guid>m-1</guid><description><![CDATA["
        '<p>Intro</p><script>alert("pwned")</script><style>p { color: red }</style>'
        "<p>caf&eacute; &amp; cr&egrave;me &#8212; done&nbsp;now</p>]]></description></item>"
    ).encode()

    [item] = parse(body, content_type=RSS_TYPE).items

    assert item.summary == "Intro café & crème — done now"


@pytest.mark.parametrize("cap", [80, 100, 1000])
def test_summary_is_capped_at_summary_max_chars(cap):
    long_text = "Researchers released a model. " * 100  # 3,000 characters
    body = rss(
        f"<item><title>Long</title><guid>l-1</guid><description>{long_text}</description></item>"
    ).encode()

    [item] = parse(body, content_type=RSS_TYPE, summary_max_chars=cap).items

    assert len(item.summary) <= cap
    assert len(item.summary) > cap // 2
    assert item.summary.startswith("Researchers released a model.")
    assert item.summary.endswith("…")


@pytest.mark.parametrize(
    "body",
    [
        rss(
            "<item><title>Full text only</title><guid>c-1</guid><content:encoded><![CDATA["
            "<p>The <b>whole</b> article.</p>]]></content:encoded></item>"
        ).encode(),
        atom(
            "<entry><id>urn:c:1</id><title>Full text only</title>"
            '<updated>2025-06-10T01:30:00Z</updated><content type="html">'
            "&lt;p&gt;The &lt;b&gt;whole&lt;/b&gt; article.&lt;/p&gt;</content></entry>"
        ),
    ],
    ids=["rss content:encoded", "atom content"],
)
def test_entry_without_summary_uses_its_first_content_block(body):
    [item] = parse(body).items

    assert item.summary == "The whole article."


def test_entry_without_title_gets_one_from_its_summary():
    body = rss(
        "<item><guid>t-1</guid><description>&lt;p&gt;Short note about &lt;b&gt;GPUs&lt;/b&gt;."
        "&lt;/p&gt;</description></item>"
        f"<item><guid>t-2</guid><description>{'Long sentence about training runs. ' * 20}"
        "</description></item>"
    ).encode()

    short, long = parse(body, content_type=RSS_TYPE).items

    assert short.title == short.summary == "Short note about GPUs."
    assert long.title.startswith("Long sentence about training runs.")
    assert len(long.title) <= 120


def test_cjk_titles_and_summaries_survive_intact():
    title = "人工智能：大模型「开源」发布 — 日本語のニュース · 한국어 뉴스"
    summary = "深度学习框架更新，支持更长的上下文。"
    body = rss(
        f"<item><title>{title}</title><guid>zh-1</guid><description>{summary}</description></item>"
    ).encode()
    json_body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "机器之心",
            "items": [{"id": "zh-1", "title": title, "content_text": summary}],
        },
        ensure_ascii=False,
    ).encode()

    [from_rss] = parse(body, content_type=RSS_TYPE).items
    json_feed = parse(json_body, content_type=JSON_FEED_TYPE)

    assert (from_rss.title, from_rss.summary) == (title, summary)
    assert json_feed.title == "机器之心"
    assert [(i.title, i.summary) for i in json_feed.items] == [(title, summary)]


# --- links and dates ----------------------------------------------------------------------


def test_relative_links_resolve_against_the_feed_url():
    feed_url = "https://blog.example/feeds/atom.xml"
    body = atom(
        '<entry><id>urn:r:1</id><title>One</title><link href="posts/one.html"/>'
        "<updated>2025-06-10T01:30:00Z</updated></entry>"
        '<entry><id>urn:r:2</id><title>Two</title><link href="/2025/two"/>'
        "<updated>2025-06-10T01:30:00Z</updated></entry>"
        '<entry><id>urn:r:3</id><title>Three</title><link href="../up/three?x=1"/>'
        "<updated>2025-06-10T01:30:00Z</updated></entry>"
    )

    parsed = parse(body, content_type=ATOM_TYPE, url=feed_url)

    assert [i.url for i in parsed.items] == [
        "https://blog.example/feeds/posts/one.html",
        "https://blog.example/2025/two",
        "https://blog.example/up/three?x=1",
    ]


def rfc822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def test_a_date_more_than_an_hour_ahead_is_dropped_but_a_slightly_fast_clock_is_kept():
    slightly_ahead = NOW + timedelta(minutes=30)
    body = rss(
        f"<item><title>Fast clock</title><guid>d-1</guid><pubDate>{rfc822(slightly_ahead)}"
        "</pubDate></item>"
        f"<item><title>Two hours ahead</title><guid>d-2</guid>"
        f"<pubDate>{rfc822(NOW + timedelta(hours=2))}</pubDate></item>"
        "<item><title>Years ahead</title><guid>d-3</guid>"
        "<pubDate>Wed, 01 Jan 2031 00:00:00 GMT</pubDate></item>"
    ).encode()

    parsed = parse(body, content_type=RSS_TYPE)

    assert [i.published for i in parsed.items] == [slightly_ahead, None, None]


@pytest.mark.parametrize(
    "date_element",
    [
        "",
        "<pubDate>the day after tomorrow</pubDate>",
        "<pubDate>Tue, 45 Foo 2025 99:99:99 GMT</pubDate>",
        "<pubDate>2025-13-45</pubDate>",
    ],
    ids=["missing", "words", "impossible RFC 822", "impossible ISO"],
)
def test_missing_or_unparsable_date_gives_no_published_date(date_element):
    body = rss(
        f"<item><title>Undated</title><guid>undated-entry</guid>{date_element}</item>"
    ).encode()

    [item] = parse(body, content_type=RSS_TYPE).items

    assert item.published is None


@pytest.mark.parametrize("guid", ["7", "2024"])
def test_an_undated_entry_does_not_get_a_date_made_up_from_its_guid(guid):
    # Podcast episode numbers and years are common non-permalink GUIDs; they are not dates.
    # (A date made up from "7" lands in the real current month, so after NOW it would be
    # dropped as future; "2024" gives a past date whatever the real clock says.)
    body = rss(
        f'<item><title>Episode</title><guid isPermaLink="false">{guid}</guid></item>'
    ).encode()

    [item] = parse(body, content_type=RSS_TYPE).items

    assert item.guid == guid
    assert item.published is None


def test_ttl_is_read_in_minutes():
    body = rss("<item><title>A</title><guid>a</guid></item>", channel="<ttl>60</ttl>").encode()

    assert parse(body, content_type=RSS_TYPE).ttl_minutes == 60


# --- broken, empty and foreign documents -------------------------------------------------------

_STORIES = "".join(
    f"<item><title>Story {n}</title><link>https://broken.example/{n}</link>"
    f"<description>Text {n}</description></item>"
    for n in (1, 2, 3)
)


@pytest.mark.parametrize(
    "body",
    [
        rss(_STORIES).encode()[: -len("</channel></rss>")]
        + b"<item><title>Story 4</title><link>https://broken.exa",
        rss(_STORIES + "<item><title>Story 4<link>https://broken.example/4</link></item>").encode(),
    ],
    ids=["truncated", "unclosed title"],
)
def test_malformed_feed_keeps_the_entries_before_the_break_and_reports_an_error(body):
    parsed = parse(body, content_type=RSS_TYPE)

    assert titles(parsed)[:3] == ["Story 1", "Story 2", "Story 3"]
    assert [i.summary for i in parsed.items[:3]] == ["Text 1", "Text 2", "Text 3"]
    assert parsed.error, "a broken feed must say so, or nobody learns it is losing entries"


HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body>"
    b"<h1>Welcome to nginx!</h1><p>If you see this page, the web server is installed.</p>"
    b'<p><a href="/feed">Our feed</a></p></body></html>'
)


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", RSS_TYPE], ids=["as html", "as rss"]
)
def test_html_page_is_not_a_feed(content_type):
    parsed = parse(HTML_PAGE, content_type=content_type, url="https://site.example/feed")

    assert parsed.items == []
    assert parsed.error, "an HTML page where a feed should be must be reported"


_EMPTY_RSS = rss("").encode()
_EMPTY_ATOM = atom("")
_EMPTY_JSON = json.dumps(
    {"version": "https://jsonfeed.org/version/1.1", "title": "Quiet", "items": []}
).encode()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_EMPTY_RSS, RSS_TYPE),
        (_EMPTY_RSS, "text/xml"),
        (_EMPTY_RSS, None),  # the server sent no Content-Type
        (_EMPTY_ATOM, ATOM_TYPE),
        (_EMPTY_JSON, JSON_FEED_TYPE),
    ],
    ids=["rss", "rss as text/xml", "rss without content type", "atom", "json feed"],
)
def test_valid_empty_feed_has_no_items_and_no_error(body, content_type):
    parsed = parse(body, content_type=content_type, url="https://site.example/feed")

    assert parsed.items == []
    assert parsed.error is None
    assert parsed.title in ("Site News", "Lab Blog", "Quiet")


@pytest.mark.parametrize("body", [b"", b"  \r\n\t "], ids=["empty", "whitespace"])
def test_empty_body_is_an_error_not_an_exception(body):
    parsed = parse(body, content_type=RSS_TYPE, url="https://site.example/feed")

    assert parsed.items == []
    assert parsed.error


# --- encodings ----------------------------------------------------------------------------

_WESTERN = rss(
    "<item><title>Crème brûlée “best” recipe</title><link>https://cafe.example/1</link>"
    "<description>Naïve café owners</description></item>"
).replace("Site News", "Café — news")


def test_windows_1252_bytes_declared_as_utf8_do_not_raise_and_keep_the_item():
    parsed = parse(_WESTERN.encode("cp1252"), content_type=RSS_TYPE)

    [item] = parsed.items
    assert item.url == "https://cafe.example/1"
    assert "recipe" in item.title and "owners" in item.summary


@pytest.mark.parametrize(
    "content_type", [RSS_TYPE, f"{RSS_TYPE}; charset=windows-1252"], ids=["no charset", "charset"]
)
def test_windows_1252_bytes_declared_as_utf8_are_decoded_as_windows_1252(content_type):
    # Every byte of windows-1252 text that is not ASCII is invalid UTF-8, and feedparser
    # recovers it; when the server names the charset, RFC 7303 makes that name win outright.
    parsed = parse(_WESTERN.encode("cp1252"), content_type=content_type)

    assert parsed.title == "Café — news"
    assert [(i.title, i.summary) for i in parsed.items] == [
        ("Crème brûlée “best” recipe", "Naïve café owners")
    ]


def chinese_feed(encoding: str, declared: str, title: str = "人工智能新闻：大模型发布") -> bytes:
    return (
        rss(
            f"<item><title>{title}</title><link>https://zh.example/1</link>"
            "<description>中文摘要内容</description></item>"
            "<item><title>深度学习框架更新</title><link>https://zh.example/2</link></item>",
            encoding=declared,
        )
        .replace("Site News", "机器之心")
        .encode(encoding)
    )


@pytest.mark.parametrize("encoding", ["gb2312", "gbk"])
def test_chinese_bytes_declared_as_utf8_do_not_raise_and_keep_every_item(encoding):
    parsed = parse(chinese_feed(encoding, declared="utf-8"), content_type=RSS_TYPE)

    assert [i.url for i in parsed.items] == ["https://zh.example/1", "https://zh.example/2"]
    assert all(item.title for item in parsed.items)


@pytest.mark.parametrize(
    ("encoding", "declared", "title"),
    [
        ("gb2312", "gb2312", "人工智能新闻：大模型发布"),
        ("gbk", "gbk", "朱镕基与陶喆的新闻"),  # 镕 and 喆 exist in GBK, not in GB2312
        ("gbk", "GB2312", "朱镕基与陶喆的新闻"),  # the label Chinese sites often use for GBK
    ],
    ids=["gb2312", "gbk", "gbk labelled gb2312"],
)
def test_declared_chinese_encoding_decodes_the_right_titles(encoding, declared, title):
    parsed = parse(chinese_feed(encoding, declared, title), content_type=RSS_TYPE)

    assert parsed.error is None
    assert parsed.title == "机器之心"
    assert titles(parsed) == [title, "深度学习框架更新"]
    assert parsed.items[0].summary == "中文摘要内容"


# --- safety: a body is only ever bytes to parse --------------------------------------------------


def test_body_naming_a_local_feed_file_is_not_read_from_disk(tmp_path):
    feed_file = tmp_path / "secret-feed.xml"
    feed_file.write_bytes(rss(_STORIES).encode())
    assert len(parse(feed_file.read_bytes()).items) == 3  # the file itself is a readable feed

    for body in (str(feed_file).encode(), feed_file.as_uri().encode()):
        parsed = parse(body)
        assert parsed.items == [], f"parse_feed read {body!r} from disk"
        assert parsed.title is None


def test_body_that_is_a_url_is_not_fetched(feed_server):
    feed_server.add("/feed.xml", rss(_STORIES))
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}/feed.xml"

    for url in (closed_url, feed_server.url("/feed.xml")):
        parsed = parse(url.encode())
        assert parsed.items == [], f"parse_feed fetched {url}"

    assert feed_server.hits("/feed.xml") == 0
