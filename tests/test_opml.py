"""OPML import/export: the exports real feed readers produce, and the uploads an attacker could."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest
from lxml import etree

from newsdesk.feeds.opml import OpmlError, OpmlFeed, parse_opml, to_opml

FEEDLY_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Alice subscriptions in feedly Cloud</title></head>
  <body>
    <outline text="AI Labs" title="AI Labs">
      <outline type="rss" text="OpenAI News" title="OpenAI News"
               xmlUrl="https://openai.com/news/rss.xml" htmlUrl="https://openai.com/news"/>
      <outline text="Deep Research" title="Deep Research">
        <outline type="rss" text="  DeepMind Blog  " title="DeepMind Blog"
                 xmlUrl="  https://deepmind.google/blog/rss.xml  "/>
      </outline>
    </outline>
    <outline text="Hardware" title="Hardware">
      <!-- Feedly leaves comments alone; so must we -->
      <outline type="rss" text="SemiAnalysis" xmlUrl="https://semianalysis.com/feed"/>
    </outline>
  </body>
</opml>
"""


def test_feedly_export_folders_become_tags_of_the_feeds_inside() -> None:
    assert parse_opml(FEEDLY_EXPORT) == [
        OpmlFeed("https://openai.com/news/rss.xml", "OpenAI News", ("ai-labs",)),
        OpmlFeed(
            "https://deepmind.google/blog/rss.xml", "DeepMind Blog", ("ai-labs", "deep-research")
        ),
        OpmlFeed("https://semianalysis.com/feed", "SemiAnalysis", ("hardware",)),
    ]


def test_inoreader_flat_export_gives_untagged_feeds_in_order() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Subscriptions from Inoreader [https://www.inoreader.com]</title></head>
  <body>
    <outline text="Import AI" title="Import AI" type="rss"
             xmlUrl="https://importai.substack.com/feed" htmlUrl="https://importai.net"/>
    <outline title="Only a title" type="rss" xmlUrl="http://example.org/a.xml"/>
    <outline type="rss" xmlUrl="http://example.org/b.xml"/>
  </body>
</opml>
"""
    assert parse_opml(data) == [
        OpmlFeed("https://importai.substack.com/feed", "Import AI"),
        OpmlFeed("http://example.org/a.xml", "Only a title"),
        OpmlFeed("http://example.org/b.xml", None),
    ]


def test_lower_case_xmlurl_attribute_is_read() -> None:
    data = b'<opml><body><outline text="Lower" xmlurl="https://example.org/lower"/></body></opml>'
    assert parse_opml(data) == [OpmlFeed("https://example.org/lower", "Lower")]


def test_category_attribute_splits_on_commas_and_slashes_into_tags() -> None:
    data = b"""<opml version="2.0"><body>
      <outline text="Policy">
        <outline text="Chips" xmlUrl="https://example.org/chips"
                 category="/AI/Research,chips, Big Tech,policy"/>
      </outline>
    </body></opml>"""
    [feed] = parse_opml(data)
    assert feed.tags == ("policy", "ai", "research", "chips", "big-tech")


def test_entries_without_a_pollable_http_url_are_skipped_silently() -> None:
    data = b"""<opml><body>
      <outline text="empty" xmlUrl=""/>
      <outline text="blank" xmlUrl="   "/>
      <outline text="feed scheme" xmlUrl="feed://example.org/rss"/>
      <outline text="local" xmlUrl="file:///etc/passwd"/>
      <outline text="script" xmlUrl="javascript:alert(1)"/>
      <outline text="no host" xmlUrl="https://"/>
      <outline text="kept" xmlUrl="HTTPS://example.org/kept"/>
    </body></opml>"""
    assert parse_opml(data) == [OpmlFeed("HTTPS://example.org/kept", "kept")]


def test_duplicate_url_is_kept_once_where_it_first_appears() -> None:
    data = b"""<opml><body>
      <outline text="First"><outline text="A" xmlUrl="https://example.org/a"/></outline>
      <outline text="Second"><outline text="A again" xmlUrl=" https://example.org/a "/></outline>
    </body></opml>"""
    assert parse_opml(data) == [OpmlFeed("https://example.org/a", "A", ("first",))]


def test_round_trip_keeps_hostile_and_chinese_titles_and_tags() -> None:
    feeds = [
        OpmlFeed("https://example.org/q?a=1&b=2", 'Tom & "Jerry" <b>\'s</b> > news', ("ai", "r&d")),
        OpmlFeed("https://example.cn/rss", "机器之心 — 人工智能", ("中文", "big-tech")),
        OpmlFeed("https://example.org/untitled", None),
    ]
    exported = to_opml(feeds, title='Team <feeds> & "more"')

    assert parse_opml(exported) == feeds
    assert exported.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "机器之心".encode() in exported  # real UTF-8, not character references
    root = etree.fromstring(exported)
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == 'Team <feeds> & "more"'
    created = parsedate_to_datetime(root.findtext("head/dateCreated"))
    assert abs(created.timestamp() - time.time()) < 60


def test_export_normalizes_tags_and_drops_characters_xml_cannot_carry() -> None:
    exported = to_opml([OpmlFeed("https://example.org/x", "bell\x07 title", ("AI/ML", "AI ML"))])
    assert parse_opml(exported) == [OpmlFeed("https://example.org/x", "bell title", ("ai-ml",))]


def test_rss_feed_is_not_an_opml_document_and_the_error_names_its_root() -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    with pytest.raises(OpmlError, match=r"not an OPML document: the root element is <rss>"):
        parse_opml(rss)


def test_malformed_xml_error_names_the_line() -> None:
    data = b'<opml>\n<body>\n<outline text="a" xmlUrl="https://example.org/a">\n</body></opml>'
    with pytest.raises(OpmlError, match=r"^malformed XML at line 4: "):
        parse_opml(data)


def test_entity_expansion_document_is_refused() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<opml><body><outline text="&lol3;" xmlUrl="https://example.org/&lol3;"/></body></opml>"""
    with pytest.raises(OpmlError, match="entities"):
        parse_opml(laughs)
    with pytest.raises(OpmlError, match="entities"):
        parse_opml(
            laughs.replace(b'"1.0"?>', b'"1.0" encoding="UTF-16"?>').decode().encode("utf-16")
        )


def test_external_entity_document_is_refused() -> None:
    xxe = b"""<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml><body><outline text="&xxe;" xmlUrl="https://example.org/"/></body></opml>"""
    with pytest.raises(OpmlError, match="entities"):
        parse_opml(xxe)


def test_bom_and_declared_non_utf8_encodings_are_accepted() -> None:
    body = '<opml><body><outline text="Café" xmlUrl="https://example.org/c"/></body></opml>'
    utf8_bom = '\ufeff<?xml version="1.0" encoding="UTF-8"?>' + body
    latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?>' + body
    expected = [OpmlFeed("https://example.org/c", "Café")]
    assert parse_opml(utf8_bom.encode("utf-8")) == expected
    assert parse_opml(latin1.encode("latin-1")) == expected
    assert parse_opml(latin1.replace("ISO-8859-1", "UTF-16").encode("utf-16")) == expected


def test_empty_body_gives_no_feeds() -> None:
    assert parse_opml(b'<opml version="2.0"><head/><body/></opml>') == []
    assert parse_opml(to_opml([])) == []


def test_opml_without_a_body_is_an_error() -> None:
    with pytest.raises(OpmlError, match="no <body>"):
        parse_opml(b"<opml><head/></opml>")
