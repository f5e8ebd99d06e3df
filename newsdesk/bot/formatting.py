"""How command replies are written on each platform: the only thing commands need to know.

Command logic (`newsdesk.bot.commands`) writes replies through a `Formatter`, so it never
escapes anything itself and never sees platform syntax. Everything that came from a feed or a
user goes through `text` (escaped: no markup, no mentions, no links) or `link` (a link only for
the story's own http(s) URL); `code` and `bold` are for our own words.
"""

from __future__ import annotations

from typing import Protocol

from newsdesk.digest import render_discord, render_slack


class Formatter(Protocol):
    platform: str
    # A reply longer than this is split into several messages (at line breaks).
    max_chars: int

    def text(self, value: str) -> str: ...

    def bold(self, value: str) -> str: ...

    def code(self, value: str) -> str: ...

    def link(self, url: str | None, label: str) -> str: ...

    def quote(self, value: str) -> str: ...


class SlackFormat:
    platform = "slack"
    max_chars = 3000  # one section block's text

    def text(self, value: str) -> str:
        return render_slack.escape(value)

    def bold(self, value: str) -> str:
        return f"*{render_slack.escape(value)}*"

    def code(self, value: str) -> str:
        # Entities show literally even in code, and keep `<!channel>` from being syntax.
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f"`{value.replace('`', 'ˋ')}`"

    def link(self, url: str | None, label: str) -> str:
        return render_slack.link(url, render_slack.escape(label))

    def quote(self, value: str) -> str:
        return "> " + render_slack.escape(value).lstrip("\u00ad")


class DiscordFormat:
    platform = "discord"
    max_chars = 2000  # a message's content

    def text(self, value: str) -> str:
        return render_discord.escape(value)

    def bold(self, value: str) -> str:
        return f"**{render_discord.escape(value)}**"

    def code(self, value: str) -> str:
        # allowed_mentions already stops pings; the joiner keeps @everyone from even looking
        # like one.
        value = value.replace("@", "@\u2060")
        return f"`{value.replace('`', 'ˋ')}`"

    def link(self, url: str | None, label: str) -> str:
        return render_discord.link(url, render_discord.escape(label))

    def quote(self, value: str) -> str:
        return "> " + render_discord.escape(value)


def split_message(text: str, limit: int) -> list[str]:
    """Cut a reply into messages of at most `limit` characters, at line breaks where possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
