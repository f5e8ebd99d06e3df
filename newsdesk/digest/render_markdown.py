"""A digest as a Markdown document, for webhooks, files and e-mail.

Markdown renderers differ (CommonMark, GitHub's, Python-Markdown in a mailer), so feed and model
text is escaped for all of them, but no more than that, since people read the file raw too:
what opens an inline construct anywhere in a line (emphasis, code, links, HTML, tables,
strikethrough, entities, GitHub's `$` math) is backslash-escaped everywhere; block markers
(`-`, `+`, `=`, `#`, `>`, `1.`) only where they would start a line. CommonMark lets any ASCII
punctuation be escaped, so none of this shows a stray backslash. No HTML from a feed survives,
because `<` never does; the only links are the stories' own.
"""

from __future__ import annotations

import re

from newsdesk.digest import text as words
from newsdesk.digest.text import defuse_links
from newsdesk.models import Digest, DigestSection, DigestStory

__all__ = ["escape", "render_markdown"]

_INLINE = re.compile(r"([\\`*_\[\]<|~&$])")
# A list item, a heading, a quote, a setext underline or a thematic break, at a line's start.
_BLOCK_START = re.compile(r"^(?:([-+=#>])|(\d+)([.)]))")
_BREAK = "  "  # a hard line break inside a list item, in every Markdown dialect


def escape(text: str) -> str:
    """Untrusted plain text as Markdown that shows it literally, with no link or HTML."""
    text = _INLINE.sub(r"\\\1", defuse_links(text))
    return _BLOCK_START.sub(_escape_block_start, text, count=1)


def _escape_block_start(match: re.Match[str]) -> str:
    marker, number, delimiter = match.groups()
    return f"\\{marker}" if marker else f"{number}\\{delimiter}"


def _link(url: str | None, label: str) -> str:
    target = words.http_url(url)
    return f"[{label}]({target})" if target else label


def _story(entry: DigestStory) -> str:
    story = entry.story
    line = f"- **{_link(story.url, escape(words.story_title(story)))}**"
    if meta := words.story_meta(story):
        line += f" — {escape(meta)}"
    lines = [line]
    if summary := words.story_summary(entry):
        lines.append(escape(summary))
    if why := words.story_why(entry):
        lines.append(f"**{words.WHY_LABEL}:** {escape(why)}")
    if others := words.also_in(story):
        lines.append(f"*{words.ALSO_IN_LABEL}:* {escape(others)}")
    return (_BREAK + "\n  ").join(lines)


def _section(section: DigestSection) -> str:
    heading = f"## {escape(words.section_heading(section))}"
    if trend := words.trend_label(section):
        heading += f" {escape(trend)}"
    parts = [heading, "\n".join(_story(entry) for entry in section.stories)]
    if section.more:
        parts.append(f"*{words.more_label(section.more)}*")
    return "\n\n".join(parts)


def render_markdown(digest: Digest) -> str:
    """The digest as one Markdown document, ending with a newline."""
    parts = [f"# {escape(words.digest_title(digest))}"]
    if digest.quiet:
        parts.append(escape(words.quiet_message(digest)))
        return "\n\n".join(parts) + "\n"
    parts.append(f"*{escape(words.context_line(digest))}*")
    if intro := words.intro(digest):
        parts.append(escape(intro))
    parts += [_section(section) for section in digest.sections]
    return "\n\n".join(parts) + "\n"
