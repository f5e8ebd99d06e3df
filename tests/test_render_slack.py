"""Slack payloads: within Slack's limits, valid for slack_sdk, nothing lost, nothing injected."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest
from slack_sdk.models.blocks import Block

from newsdesk.digest.render_slack import escape, render_slack
from newsdesk.digest.text import WORD_JOINER
from tests.sample_digests import (
    WEEKS,
    hostile_week,
    load_limits,
    long_week,
    normal_week,
    quiet_week,
    story_tokens,
    story_urls,
)

SLACK_LINK = re.compile(r"<([^<>|]*)\|[^<>]*>")
BARE_URL = re.compile(r"(?i)://|www\.")  # what any auto-linker needs


@pytest.fixture(scope="module")
def limits() -> dict:
    return load_limits()


@pytest.fixture(scope="module", params=list(WEEKS))
def rendered(request):
    digest = WEEKS[request.param]()
    return digest, render_slack(digest)


def texts(payload: dict) -> list[str]:
    """Every string Slack reads from a payload: the fallback and each block's text."""
    found = [payload["text"]]
    for block in payload["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [element["text"] for element in block.get("elements", ())]
    return found


def mrkdwn_objects(payload: dict) -> list[dict]:
    objects = [block["text"] for block in payload["blocks"] if "text" in block]
    objects += [element for block in payload["blocks"] for element in block.get("elements", ())]
    return [obj for obj in objects if obj["type"] == "mrkdwn"]


def test_every_payload_is_within_slack_limits(rendered, limits):
    slack = limits["slack"]
    for payload in rendered[1]:
        assert set(payload) == {"text", "blocks"}
        assert 0 < len(payload["blocks"]) <= slack["message"]["max_blocks"]
        assert 0 < len(payload["text"]) <= 3000 < slack["message"]["text_truncated_after_chars"]
        for block in payload["blocks"]:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= slack["section"]["text_max"]
            elif block["type"] == "header":
                assert 0 < len(block["text"]["text"]) <= slack["header"]["text_max"]
                assert block["text"]["type"] == "plain_text"
            elif block["type"] == "context":
                assert 0 < len(block["elements"]) <= slack["context"]["elements_max"]
            else:
                assert block == {"type": "divider"}


def test_every_block_passes_slack_sdk_validation(rendered):
    for payload in rendered[1]:
        for block in payload["blocks"]:
            Block.parse(block).validate_json()  # raises SlackObjectFormationError when invalid


def test_messages_stay_below_the_undocumented_blocks_text_limit(rendered):
    # msg_blocks_too_long was seen from about 11,300 characters (slackapi/bolt-js#2867).
    for payload in rendered[1]:
        assert sum(map(len, texts(payload)[1:])) <= 10_000


def test_no_divider_starts_or_ends_a_message(rendered):
    for payload in rendered[1]:
        assert payload["blocks"][0]["type"] != "divider"
        assert payload["blocks"][-1]["type"] != "divider"


def test_every_story_appears_once_in_one_message_in_order(rendered):
    digest, payloads = rendered
    positions = []
    for token in story_tokens(digest):
        hits = [
            (index, block, text.index(token))
            for index, payload in enumerate(payloads)
            for block, text in enumerate(texts(payload)[1:])
            if token in text
        ]
        assert len(hits) == 1, token
        positions.append(hits[0])
    assert positions == sorted(positions)


def test_normal_week_is_one_message():
    payloads = render_slack(normal_week())
    assert len(payloads) == 1
    blocks = payloads[0]["blocks"]
    assert [block["type"] for block in blocks[:3]] == ["header", "context", "section"]
    assert blocks[1]["elements"][0]["text"] == "16–22 Nov 2026 · 20 of 30 stories from 4 outlets"
    assert blocks[4]["text"]["text"].startswith("*🚀 Model releases*  `")
    assert "*🧑‍💼 Talent &amp; hiring*" in blocks[6]["text"]["text"]
    assert "_…and 1 more_" in blocks[6]["text"]["text"]
    assert payloads[0]["text"].startswith("AI industry digest · 16–22 Nov 2026")


def test_long_week_is_split_and_each_continuation_says_so():
    payloads = render_slack(long_week())
    total = len(payloads)
    assert total > 1
    for number, payload in enumerate(payloads[1:], start=2):
        opening = payload["blocks"][0]
        assert opening["type"] == "context"
        assert opening["elements"][0]["text"].endswith(f"(continued, {number}/{total})")
        assert payload["text"].endswith(f"(continued, {number}/{total})")


def test_a_section_split_over_messages_repeats_its_heading():
    payloads = render_slack(long_week())
    continued = [
        payload["blocks"][1]["text"]["text"]
        for payload in payloads[1:]
        if not payload["blocks"][1]["text"]["text"].startswith("*<")
    ]
    assert continued
    assert all(re.match(r"\*📈 Section \d+ .*\(continued\)\*\n", text) for text in continued)


def test_hostile_titles_are_cut_to_a_readable_length():
    payloads = render_slack(long_week())
    label = SLACK_LINK.search(payloads[0]["blocks"][4]["text"]["text"])
    title = label.group(0).split("|", 1)[1]
    assert 100 < len(title) <= 260
    assert title.endswith("…>")


def test_no_mention_or_broadcast_survives():
    for payload in render_slack(hostile_week()):
        for text in texts(payload):
            assert "<!" not in text
            assert "<@" not in text
            assert "<#" not in text
            assert not re.search(r"@(?:here|channel|everyone)\b", text)
        assert all(obj["verbatim"] is True for obj in mrkdwn_objects(payload))


def test_links_are_only_the_stories_own():
    digest = hostile_week()
    own = {unquote(url) for url in story_urls(digest) if url.startswith("http")}
    linked = []
    for payload in render_slack(digest):
        for text in texts(payload):
            linked += [unquote(url.replace("&amp;", "&")) for url in SLACK_LINK.findall(text)]
            assert not BARE_URL.search(SLACK_LINK.sub("", text)), text
    assert set(linked) == own
    assert len(linked) == len(own)


def test_javascript_url_is_never_linked():
    text = json.dumps(render_slack(hostile_week()), ensure_ascii=False)
    assert "javascript:alert" not in text
    assert "*S901 javascript link*" in text
    assert "*S902 no link at all*" in text


def test_link_urls_are_percent_encoded_and_labels_escaped():
    text = json.dumps(render_slack(hostile_week()), ensure_ascii=False)
    assert "<https://news.example/a%20b%7Cc%28d%29%3Ce%3E?q=1&amp;r=2|S903 odd url>" in text


def test_escape_neutralises_slack_syntax():
    assert (
        escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@" + WORD_JOINER + "U123&gt;"
    )
    assert escape("@here") == "@" + WORD_JOINER + "here"
    assert escape("```code```") == "ˋˋˋcodeˋˋˋ"
    assert escape("> not a quote").startswith("\u00ad&gt;")
    assert "://" not in escape("<https://evil.example|click>")


def test_quiet_week_is_one_short_message_naming_the_filter():
    payloads = render_slack(quiet_week())
    assert len(payloads) == 1
    blocks = payloads[0]["blocks"]
    assert [block["type"] for block in blocks] == ["header", "section"]
    assert blocks[1]["text"]["text"] == (
        "A quiet week: no new stories tagged #talent or #funding between 16 and 22 Nov 2026."
    )
    assert payloads[0]["text"] == blocks[1]["text"]["text"]
