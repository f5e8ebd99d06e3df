"""A digest for the terminal (`newsdesk digest --preview`, the demo), drawn with rich.

Feed text only ever enters rich as `Text` objects, never as a string rich would read as console
markup, so a title like `[bold red]` or `[link=…]` prints as written. Links are terminal
hyperlinks (OSC 8) where the terminal supports them, and the URL is printed as well.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.text import Text

from newsdesk.digest import text as words
from newsdesk.models import Digest, DigestSection, DigestStory

__all__ = ["render_terminal"]

_INDENT = "   "


def _story(entry: DigestStory) -> list[Text]:
    story = entry.story
    url = words.http_url(story.url)
    head = Text("•  ")
    head.append(words.story_title(story), style=Style(bold=True, link=url))
    if meta := words.story_meta(story):
        head.append(f"  {meta}", style="dim")
    lines = [head]
    if url:
        lines.append(Text(_INDENT + url, style=Style(dim=True, link=url)))
    if summary := words.story_summary(entry):
        lines.append(Text(_INDENT + summary))
    if why := words.story_why(entry):
        line = Text(_INDENT)
        line.append(f"{words.WHY_LABEL}: ", style="bold")
        line.append(why, style="italic")
        lines.append(line)
    if others := words.also_in_line(story):
        lines.append(Text(_INDENT + others, style="dim"))
    return lines


def _section(section: DigestSection) -> list[RenderableType]:
    heading = Text(words.section_heading(section), style="bold cyan")
    if trend := words.trend_label(section):
        heading.append(f"  {trend}", style="cyan")
    lines: list[RenderableType] = [Text(), heading]
    for entry in section.stories:
        lines += _story(entry)
    if section.more:
        lines.append(Text(words.more_label(section.more), style="dim italic"))
    return lines


def render_terminal(digest: Digest) -> RenderableType:
    """The digest as one rich renderable: `Console().print(render_terminal(digest))`."""
    title = Text(words.digest_title(digest), style="bold")
    if digest.quiet:
        return Panel(Text(words.quiet_message(digest)), title=title, title_align="left")
    parts: list[RenderableType] = [title, Text(words.context_line(digest), style="dim")]
    if intro := words.intro(digest):
        parts += [Text(), Text(intro)]
    for section in digest.sections:
        parts += _section(section)
    return Group(*parts)
