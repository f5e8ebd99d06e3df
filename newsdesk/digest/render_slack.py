"""A digest as Slack messages: Block Kit payloads for `chat.postMessage`.

A week of news does not fit one Slack message, and Slack rejects (rather than truncates) a
message over its limits, so the digest is cut into several: a section's stories over several
section blocks, the blocks over several messages, each continuation saying what it continues.

Feed and model text is escaped the way Slack asks (`&`, `<`, `>` as entities), which also means
no `<!channel>`, `<@U…>` or `<https://…|…>` written by a feed can reach Slack as syntax. Text
objects are `verbatim`, so Slack does not auto-link or auto-mention inside them either, and as
a second line of defence URLs and `@words` in feed text are broken with an invisible word joiner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from newsdesk.digest import text as words
from newsdesk.digest.text import WORD_JOINER, defuse_links, fit
from newsdesk.models import Digest, DigestSection, DigestStory

__all__ = [
    "CONTEXT_ELEMENTS_MAX",
    "HEADER_TEXT_MAX",
    "MAX_BLOCKS",
    "MESSAGE_BLOCKS_TEXT_BUDGET",
    "MESSAGE_TEXT_MAX",
    "SECTION_TEXT_MAX",
    "escape",
    "render_slack",
]

# Slack's limits; every number with its source is in ../shared/platform-limits.md.
# "You can include up to 50 blocks in each message" (docs.slack.dev/reference/block-kit/blocks);
# the SDK does not check this one.
MAX_BLOCKS = 50
# python-slack-sdk @ae87985, slack_sdk/models/blocks/blocks.py:131 (SectionBlock text).
SECTION_TEXT_MAX = 3000
# blocks.py:544 (HeaderBlock text, plain_text).
HEADER_TEXT_MAX = 150
# blocks.py:342 (ContextBlock elements).
CONTEXT_ELEMENTS_MAX = 10
# slack_sdk/models/messages/message.py:62-63: Slack truncates a longer message `text`.
MESSAGE_TEXT_MAX = 40_000
# Undocumented: chat.postMessage answers `msg_blocks_too_long` once the text of all blocks adds
# up to about 11,000-13,000 characters (slackapi/bolt-js#2509, #2867). Stay well below it.
MESSAGE_BLOCKS_TEXT_BUDGET = 10_000

# Ours. The fallback `text` is what a notification shows: the title and the period will do.
FALLBACK_TEXT_MAX = 500
HEADING_MAX = 400
STORY_TEXT_MAX = SECTION_TEXT_MAX - 2 * HEADING_MAX
TITLE_TEXT_MAX = 500
CONTEXT_TEXT_MAX = 400  # a continuation's "… (continued, 2/3)" line

# `&`, `<`, `>` are the three characters Slack reserves. A backtick would open a code span or a
# code block that swallows the links after it, and mrkdwn has no escape for it: a look-alike
# (U+02CB MODIFIER LETTER GRAVE ACCENT) reads the same.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "\u02cb"})
_PLAIN_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# `@here`, `@channel`, `@everyone` and `@name` notify when a message is sent with link_names.
_AT_WORD = re.compile(r"@(?=\w)")

_DIVIDER: dict[str, Any] = {"type": "divider"}


def escape(text: str) -> str:
    """Untrusted plain text as mrkdwn that shows it literally and can neither link, mention
    nor notify."""
    text = _AT_WORD.sub("@" + WORD_JOINER, defuse_links(text).translate(_ESCAPES))
    # `&gt;` starting a line still quotes it; an invisible soft hyphen in front does not.
    return "\u00ad" + text if text.startswith("&gt;") else text


def _escape_plain(text: str) -> str:
    """For plain_text, which Slack neither formats nor parses for links or mentions: the three
    reserved characters, and URLs and `@words` broken all the same in case that ever changes."""
    return _AT_WORD.sub("@" + WORD_JOINER, defuse_links(text).translate(_PLAIN_ESCAPES))


def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL (with `&` as an entity, as Slack writes links itself);
    the label alone for anything else, so a `javascript:` URL is never a link."""
    target = words.http_url(url)
    if target is None:
        return label
    return f"<{target.replace('&', '&amp;')}|{label}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": fit(text, HEADER_TEXT_MAX, _escape_plain),
            "emoji": True,
        },
    }


def _text_size(block: dict[str, Any]) -> int:
    """The characters of text a block adds to its message (what msg_blocks_too_long counts)."""
    size = len(block.get("text", {}).get("text", ""))
    return size + sum(len(element.get("text", "")) for element in block.get("elements", ()))


# --- stories and sections -------------------------------------------------------------------


def _story(entry: DigestStory, budget: int = STORY_TEXT_MAX) -> str:
    """One story's lines: the linked title and where it comes from, the summary, why it
    matters, and who else carried it; the later lines shortened to fit the budget."""
    story = entry.story
    title = fit(words.story_title(story), TITLE_TEXT_MAX, escape)
    head = f"*{link(story.url, title)}*"
    if len(head) > budget // 2:  # an absurdly long URL: the title without its link
        head = f"*{title}*"
    if meta := words.story_meta(story):
        head += f" — {fit(meta, budget // 4, escape)}"
    lines = [head]
    for prefix, plain in (
        ("", words.story_summary(entry)),
        (f"*{words.WHY_LABEL}:* ", words.story_why(entry)),
        (f"{words.ALSO_IN_LABEL}: ", words.also_in(story)),
    ):
        room = budget - sum(len(line) + 1 for line in lines) - len(prefix)
        if plain and room > 40:
            lines.append(prefix + fit(plain, room, escape))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Unit:
    """A block to place, and how to place it: after a divider when it opens a section; with
    its section's heading repeated when it has to open a continuation message."""

    block: dict[str, Any]
    opening: dict[str, Any] | None = None
    divider: bool = False


def _section_units(section: DigestSection) -> list[_Unit]:
    heading = words.section_heading(section)
    trend = words.trend_label(section)
    trend = f"  `{fit(trend, 100, escape)}`" if trend else ""
    head = f"*{fit(heading, HEADING_MAX - 2 - len(trend), escape)}*{trend}"
    continued = f"*{fit(heading, HEADING_MAX - 20, escape)} (continued)*"
    entries = [_story(entry) for entry in section.stories]
    if section.more:
        entries.append(f"_{words.more_label(section.more)}_")

    bodies: list[str] = []  # each fits a section block after a heading of up to HEADING_MAX
    for entry in entries:
        if bodies and len(bodies[-1]) + 2 + len(entry) <= SECTION_TEXT_MAX - HEADING_MAX - 2:
            bodies[-1] += "\n\n" + entry
        else:
            bodies.append(entry)
    units = [_Unit(_section(f"{head}\n\n{bodies[0]}"), divider=True)] if bodies else []
    units += [_Unit(_section(body), _section(f"{continued}\n\n{body}")) for body in bodies[1:]]
    return units


# --- messages -------------------------------------------------------------------------------


def _pack(first: list[dict[str, Any]], units: list[_Unit]) -> list[list[dict[str, Any]]]:
    """Blocks into messages: at most MAX_BLOCKS (one kept for a continuation's context line)
    and MESSAGE_BLOCKS_TEXT_BUDGET characters each, never a divider at either end."""
    messages = [list(first)]
    used = sum(map(_text_size, first))
    for unit in units:
        block, extra = unit.block, [_DIVIDER] if unit.divider else []
        room = MAX_BLOCKS - (0 if len(messages) == 1 else 1)
        if (
            len(messages[-1]) + len(extra) + 1 > room
            or used + _text_size(block) > MESSAGE_BLOCKS_TEXT_BUDGET
        ):
            messages.append([])
            used, block, extra = CONTEXT_TEXT_MAX, unit.opening or unit.block, []
        messages[-1] += [*extra, block]
        used += _text_size(block)
    return messages


def _payload(fallback: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": fit(fallback, FALLBACK_TEXT_MAX, escape), "blocks": blocks}


def render_slack(digest: Digest) -> list[dict[str, Any]]:
    """The `chat.postMessage` payloads (`text` and `blocks`) of a digest, to post in order.

    A quiet digest is one short message; a long one is several, each within Slack's limits.
    The caller adds the channel (and anything else the API call needs).
    """
    title = words.digest_title(digest)
    if digest.quiet:
        quiet = words.quiet_message(digest)
        return [_payload(quiet, [_header(title), _section(fit(quiet, SECTION_TEXT_MAX, escape))])]

    context = words.context_line(digest)
    first = [_header(title), _context(fit(context, SECTION_TEXT_MAX, escape))]
    if intro := words.intro(digest):
        first.append(_section(fit(intro, SECTION_TEXT_MAX, escape)))
    units = [unit for section in digest.sections for unit in _section_units(section)]
    messages = _pack(first, units)

    total = len(messages)
    payloads = [_payload(f"{title} · {context}", messages[0])]
    for number, blocks in enumerate(messages[1:], start=2):
        label = words.continued_label(digest, number, total)
        opening = _context(fit(label, CONTEXT_TEXT_MAX, escape))
        payloads.append(_payload(label, [opening, *blocks]))
    return payloads
