"""A digest as Discord messages: create-message / execute-webhook payloads with embeds.

One embed opens the digest (title, period, intro), then one embed per section, its stories as
masked links. Discord rejects a message whose embeds add up to more than 6,000 characters, and
a section can be longer than one embed, so sections are split over embeds ("(continued)") and
embeds packed into as many messages as it takes.

Feed and model text goes through discord.py's own `escape_markdown` and `escape_mentions`, plus
what those leave: brackets (a masked link's label), `<` (channel, role, emoji and timestamp
syntax) and URLs written in the text. Every payload also carries `allowed_mentions` that allow
nothing, so even a mention that slipped through could not notify anyone.
"""

from __future__ import annotations

from typing import Any

from newsdesk.digest import text as words
from newsdesk.digest.text import defuse_links, fit
from newsdesk.models import Digest, DigestSection, DigestStory

__all__ = [
    "CONTENT_MAX",
    "EMBEDS_PER_MESSAGE_MAX",
    "EMBEDS_TOTAL_MAX",
    "EMBED_DESCRIPTION_MAX",
    "EMBED_TITLE_MAX",
    "NO_MENTIONS",
    "escape",
    "render_discord",
    "size",
]

# Discord's limits; every number with its source is in ../shared/platform-limits.md:
# discord/discord-api-docs @c98d64b, developers/resources/message.mdx#embed-object-embed-limits
# ("measured inclusively", leading and trailing whitespace not counted) and the create-message
# and execute-webhook parameters (10 embeds, 2,000 characters of content).
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBEDS_TOTAL_MAX = 6000  # title + description + fields + footer + author, across all embeds
EMBEDS_PER_MESSAGE_MAX = 10
CONTENT_MAX = 2000

NO_MENTIONS: dict[str, list[str]] = {"parse": []}

# Ours. A story's entry is capped so that it always fits an empty message with its section's
# title, whatever the feed sent: packing then always makes progress.
STORY_TEXT_MAX = 2000
TITLE_TEXT_MAX = 600
CONTINUED_MAX = 300
COLOR = 0x5865F2

_ZWSP = "\u200b"
# Stand-ins for brackets while discord.py escapes the rest (its masked-link rule would put a
# single backslash in front of a whole `[x](y)`); removed from the input first.
_OPEN, _CLOSE = "\ue000", "\ue001"


def size(text: str) -> int:
    """Characters as Discord counts them, erring long: whitespace at the ends is trimmed, and
    UTF-16 code units (which JavaScript counts) are never fewer than code points."""
    return len(text.strip().encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Untrusted plain text as Discord markdown that shows it literally and cannot link,
    mention or format."""
    from discord.utils import escape_markdown, escape_mentions  # ~0.2 s; only when rendering

    text = defuse_links(text.replace(_OPEN, "").replace(_CLOSE, ""))
    # ignore_links=False: no text here is a live link any more, and discord.py would leave
    # whatever it takes for one (`<a:/…>`) unescaped.
    text = escape_markdown(text.replace("[", _OPEN).replace("]", _CLOSE), ignore_links=False)
    text = text.replace(_OPEN, "\\[").replace(_CLOSE, "\\]").replace("<", "<" + _ZWSP)
    return escape_mentions(text)


def _fit(text: str, limit: int) -> str:
    return fit(text, limit, escape, size)


def link(url: str | None, label: str) -> str:
    """`[label](url)` for an http(s) URL; the label alone for anything else."""
    target = words.http_url(url)
    if not target:
        return label
    if not _balanced(label):
        # Discord's parser (simple-markdown's LINK_INSIDE) matches brackets in a label without
        # honouring backslashes, so an unpaired one (a title cut after its "[") breaks the
        # link. Full-width brackets look the same and are not syntax.
        label = label.replace("\\[", "\uff3b").replace("\\]", "\uff3d")
    return f"[{label}]({target})"


def _balanced(label: str) -> bool:
    depth = 0
    for char in label:
        depth += (char == "[") - (char == "]")
        if depth < 0:
            return False
    return depth == 0


def _embed(title: str, description: str) -> dict[str, Any]:
    embed: dict[str, Any] = {"title": title, "color": COLOR}
    if description.strip():
        embed["description"] = description
    return embed


def _embed_size(embed: dict[str, Any]) -> int:
    return size(embed.get("title", "")) + size(embed.get("description", ""))


# --- stories and sections -------------------------------------------------------------------


def _story(entry: DigestStory, budget: int = STORY_TEXT_MAX) -> str:
    story = entry.story
    title = _fit(words.story_title(story), TITLE_TEXT_MAX)
    head = f"**{link(story.url, title)}**"
    if size(head) > budget // 2:  # an absurdly long URL: the title without its link
        head = f"**{title}**"
    if meta := words.story_meta(story):
        head += f" — {_fit(meta, budget // 4)}"
    lines = [head]
    for prefix, plain in (
        ("", words.story_summary(entry)),
        (f"**{words.WHY_LABEL}:** ", words.story_why(entry)),
        (f"*{words.ALSO_IN_LABEL}:* ", words.also_in(story)),
    ):
        room = budget - sum(size(line) + 1 for line in lines) - size(prefix)
        if plain and room > 40:
            lines.append(prefix + _fit(plain, room))
    return "\n".join(lines)


def _section_parts(section: DigestSection) -> tuple[str, str, list[str]]:
    """A section's embed title, the title of its continuations, and its story entries."""
    heading = words.section_heading(section)
    trend = words.trend_label(section)
    trend = f"  {_fit(trend, 60)}" if trend else ""
    title = _fit(heading, EMBED_TITLE_MAX - size(trend)) + trend
    continued = _fit(heading, EMBED_TITLE_MAX - 12) + " (continued)"
    entries = [_story(entry) for entry in section.stories]
    if section.more:
        entries.append(f"*{words.more_label(section.more)}*")
    return title, continued, entries


# --- messages -------------------------------------------------------------------------------


class _Messages:
    """Embeds packed into messages in order, each message within EMBEDS_PER_MESSAGE_MAX embeds
    and EMBEDS_TOTAL_MAX characters.

    A section that fits one embed stays whole (moving to the next message if need be); a longer
    one fills each message and continues in the next, so that a huge week takes as few
    messages (and API calls) as the limits allow.
    """

    def __init__(self) -> None:
        self.messages: list[list[dict[str, Any]]] = [[]]
        self.used = 0

    def room(self, title: str) -> int:
        """The longest description a new embed titled `title` can have in this message."""
        if len(self.messages[-1]) >= EMBEDS_PER_MESSAGE_MAX:
            return -1
        return min(EMBED_DESCRIPTION_MAX, EMBEDS_TOTAL_MAX - self.used - size(title))

    def add(self, title: str, description: str) -> None:
        embed = _embed(title, description)
        self.messages[-1].append(embed)
        self.used += _embed_size(embed)

    def next_message(self) -> None:
        self.messages.append([])
        self.used = 0

    def add_section(self, title: str, continued: str, entries: list[str]) -> None:
        whole = "\n\n".join(entries)
        if size(whole) <= EMBED_DESCRIPTION_MAX:
            if size(whole) > self.room(title):
                self.next_message()
            self.add(title, whole)
            return
        description = ""
        for entry in entries:
            while True:
                candidate = f"{description}\n\n{entry}" if description else entry
                if size(candidate) <= self.room(title):
                    description = candidate
                    break
                if description:  # this embed is full: close it, continue in another
                    self.add(title, description)
                    title, description = continued, ""
                else:  # this message is full
                    self.next_message()
        if description:
            self.add(title, description)


def _payload(content: str, embeds: list[dict[str, Any]]) -> dict[str, Any]:
    return {"content": content, "embeds": embeds, "allowed_mentions": {"parse": []}}


def render_discord(digest: Digest) -> list[dict[str, Any]]:
    """The message payloads of a digest, to send in order: `content`, `embeds` and
    `allowed_mentions`. A quiet digest is one message with one embed. The caller adds what the
    endpoint needs (a webhook's username, a `nonce`)."""
    title = _fit(words.digest_title(digest), EMBED_TITLE_MAX)
    if digest.quiet:
        quiet = _fit(words.quiet_message(digest), EMBED_DESCRIPTION_MAX)
        return [_payload("", [_embed(title, quiet)])]

    opening = _fit(words.context_line(digest), 500)
    if intro := words.intro(digest):
        opening += "\n\n" + _fit(intro, EMBED_DESCRIPTION_MAX - size(opening) - 2)
    packer = _Messages()
    packer.add(title, opening)
    for section in digest.sections:
        packer.add_section(*_section_parts(section))
    messages = packer.messages

    total = len(messages)
    payloads = [_payload("", messages[0])]
    for number, message in enumerate(messages[1:], start=2):
        label = _fit(words.continued_label(digest, number, total), CONTINUED_MAX)
        payloads.append(_payload(f"*{label}*", message))
    return payloads
