"""The Markdown document: hostile text stays text, the only links are the stories' own.

The document is checked as a CommonMark parser reads it (markdown-it-py, which rich already
depends on), not only as a string.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

from newsdesk.digest.render_markdown import escape, render_markdown
from tests.sample_digests import (
    hostile_week,
    long_week,
    normal_week,
    quiet_week,
    story_tokens,
    story_urls,
)

BARE_URL = re.compile(r"(?i)://|www\.")  # what any auto-linker needs


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [value for name, value in attrs if name == "href"]

    def handle_data(self, data):
        self.text.append(data)


def parse(markdown: str) -> _Tags:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    tags = _Tags()
    tags.feed(html)
    return tags


def test_normal_week_reads_as_a_document():
    markdown = render_markdown(normal_week())
    assert markdown.startswith("# AI industry digest\n\n*16–22 Nov 2026 · 20 of 30 stories")
    assert "\n## 🧑‍💼 Talent \\& hiring ▄▅▅▆█ +40%\n" in markdown
    assert (
        "- **[S001 A new open-weights model tops the leaderboard](https://news.example/1)**"
        " — Outlet 0 · 2 outlets  \n  The lab released" in markdown
    )
    assert "  **Why it matters:** Cheaper" in markdown
    assert "  *Also in:* Outlet 1\n" in markdown
    assert "\n*…and 1 more*\n" in markdown
    assert markdown.endswith("\n")


@pytest.mark.parametrize("make", [normal_week, long_week, hostile_week])
def test_every_story_appears_once_in_order(make):
    digest = make()
    markdown = render_markdown(digest)
    positions = [markdown.index(token) for token in story_tokens(digest)]
    assert all(markdown.count(token) == 1 for token in story_tokens(digest))
    assert positions == sorted(positions)


def test_hostile_text_stays_text():
    tags = parse(render_markdown(hostile_week()))
    allowed = {"h1", "h2", "p", "em", "strong", "ul", "li", "a", "br"}
    assert set(tags.tags) <= allowed  # no code, quote, table, heading, image or raw HTML
    assert tags.tags.count("h1") == 1
    assert tags.tags.count("h2") == 1
    text = "".join(tags.text)
    for hostile in ("<!channel>", "<script>alert(1)</script>", "**bold**", "```", "||spoiler||"):
        assert hostile in text


def test_links_are_only_the_stories_own():
    digest = hostile_week()
    markdown = render_markdown(digest)
    tags = parse(markdown)
    own = {unquote(url) for url in story_urls(digest) if url.startswith("http")}
    assert {unquote(href) for href in tags.hrefs} == own
    assert len(tags.hrefs) == len(own)
    assert not BARE_URL.search("".join(tags.text))
    assert "javascript:" not in markdown


def test_escape_backslashes_what_markdown_would_read():
    assert escape("**a** _b_ `c` [d](e) <f> | ~g~ & $h$") == (
        r"\*\*a\*\* \_b\_ \`c\` \[d\](e) \<f> \| \~g\~ \& \$h\$"
    )
    assert escape("# not a heading") == r"\# not a heading"
    assert escape("- not a list") == r"\- not a list"
    assert escape("1. not a list") == r"1\. not a list"
    assert escape("mid-line # and > stay") == "mid-line # and > stay"


def test_quiet_week_is_a_title_and_a_sentence():
    assert render_markdown(quiet_week()) == (
        "# AI industry digest\n\n"
        "A quiet week: no new stories tagged #talent or #funding between 16 and 22 Nov 2026.\n"
    )
