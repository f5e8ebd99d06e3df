"""Discord payloads: within Discord's limits as Discord counts, nothing lost, nothing injected."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import discord
import pytest
from discord.utils import escape_mentions

from newsdesk.digest.render_discord import escape, render_discord, size
from newsdesk.models import DigestSection
from tests.sample_digests import (
    WEEKS,
    digest,
    hostile_week,
    load_limits,
    long_week,
    normal_week,
    quiet_week,
    story,
    story_tokens,
    story_urls,
)

# A masked link's target: after a `]` that is not escaped.
MASKED_LINK = re.compile(r"(?<!\\)\]\(([^()\s]*)\)")
BARE_URL = re.compile(r"(?i)://|www\.")  # what any auto-linker needs


@pytest.fixture(scope="module")
def limits() -> dict:
    return load_limits()


@pytest.fixture(scope="module", params=list(WEEKS))
def rendered(request):
    digest = WEEKS[request.param]()
    return digest, render_discord(digest)


def texts(payload: dict) -> list[str]:
    """Every string Discord shows from a payload, in order."""
    found = [payload["content"]]
    for embed in payload["embeds"]:
        found += [embed.get("title", ""), embed.get("description", "")]
    return found


def test_every_payload_is_within_discord_limits(rendered, limits):
    embed_limits, message = limits["discord"]["embed"], limits["discord"]["message"]
    for payload in rendered[1]:
        assert set(payload) == {"content", "embeds", "allowed_mentions"}
        assert payload["allowed_mentions"] == {"parse": []}
        assert len(payload["content"]) <= message["content_max"]
        assert 0 < len(payload["embeds"]) <= message["embeds_max"]
        for embed in payload["embeds"]:
            assert 0 < size(embed["title"]) <= embed_limits["title_max"]
            assert size(embed.get("description", "")) <= embed_limits["description_max"]
        total = sum(len(discord.Embed.from_dict(embed)) for embed in payload["embeds"])
        assert total <= message["embeds_total_chars_max"]


def test_every_story_appears_once_in_one_message_in_order(rendered):
    digest, payloads = rendered
    positions = []
    for token in story_tokens(digest):
        hits = [
            (index, field, text.index(token))
            for index, payload in enumerate(payloads)
            for field, text in enumerate(texts(payload))
            if token in text
        ]
        assert len(hits) == 1, token
        positions.append(hits[0])
    assert positions == sorted(positions)


def test_normal_week_opens_with_the_title_and_gives_each_section_an_embed():
    payloads = render_discord(normal_week())
    first = payloads[0]["embeds"]
    assert first[0]["title"] == "AI industry digest"
    assert first[0]["description"].startswith("16–22 Nov 2026 · 20 of 30 stories from 4 outlets")
    assert first[1]["title"].startswith("🚀 Model releases  ")
    assert first[1]["title"].endswith("+40%")
    assert (
        "**[S001 A new open-weights model tops the leaderboard](https://news.example/1)**"
        in (first[1]["description"])
    )
    titles = [embed["title"] for payload in payloads for embed in payload["embeds"]]
    assert titles[-1] == "Other news"
    assert not any("(continued)" in title for title in titles)  # short sections stay whole


def test_long_week_continues_sections_and_messages():
    payloads = render_discord(long_week())
    total = len(payloads)
    assert total > 1
    for number, payload in enumerate(payloads[1:], start=2):
        assert payload["content"].endswith(f"(continued, {number}/{total})*")
    titles = [embed["title"] for payload in payloads for embed in payload["embeds"]]
    assert any(title.endswith(" (continued)") for title in titles)


def test_no_mention_survives():
    for payload in render_discord(hostile_week()):
        for text in texts(payload):
            assert escape_mentions(text) == text  # discord.py's escaping is already applied
            assert not re.search(r"@(?:everyone|here)", text)
            for syntax in ("<@", "<#", "<:", "<t:", "</", "<!"):
                assert syntax not in text


def test_links_are_only_the_stories_own():
    digest = hostile_week()
    own = {unquote(url) for url in story_urls(digest) if url.startswith("http")}
    linked = []
    for payload in render_discord(digest):
        for text in texts(payload):
            linked += [unquote(url) for url in MASKED_LINK.findall(text)]
            assert not BARE_URL.search(MASKED_LINK.sub("", text)), text
    assert set(linked) == own
    assert len(linked) == len(own)


def test_javascript_url_is_never_linked():
    text = json.dumps(render_discord(hostile_week()), ensure_ascii=False)
    assert "javascript:alert" not in text
    assert "**S901 javascript link**" in text


def test_link_urls_are_percent_encoded():
    text = json.dumps(render_discord(hostile_week()), ensure_ascii=False)
    assert "[S903 odd url](https://news.example/a%20b%7Cc%28d%29%3Ce%3E?q=1&r=2)" in text


def test_escape_uses_discord_markdown_escaping_and_brackets():
    assert escape("**bold** _it_ `code` ||spoiler||") == (
        r"\*\*bold\*\* \_it\_ \`code\` \|\|spoiler\|\|"
    )
    escaped = escape("[click](https://evil.example)")
    assert escaped.startswith(r"\[click\](https:")
    assert "://" not in escaped
    assert escape("@everyone <@&123456789012345678>") == (
        "@\u200beveryone <\u200b@\u200b&123456789012345678>"
    )
    assert escape("# heading").startswith("\\#")


def test_size_counts_as_discord_does_or_more():
    assert size("  padded  ") == 6
    assert size("😀") == 2  # one code point, two UTF-16 units


def test_quiet_week_is_one_message_naming_the_filter():
    payloads = render_discord(quiet_week())
    assert len(payloads) == 1
    [embed] = payloads[0]["embeds"]
    assert embed["title"] == "AI industry digest"
    assert embed["description"] == (
        "A quiet week: no new stories tagged #talent or #funding between 16 and 22 Nov 2026."
    )


def test_brackets_in_a_title_keep_the_link_working():
    paired = render_discord(digest((DigestSection("x", "X", "", (story(1, title="[PDF] x"),)),)))
    assert r"**[S001 \[PDF\] x](https://news.example/1)**" in paired[0]["embeds"][1]["description"]
    unpaired = render_discord(digest((DigestSection("x", "X", "", (story(1, title="a [b"),)),)))
    assert "**[S001 a ［b](https://news.example/1)**" in unpaired[0]["embeds"][1]["description"]
