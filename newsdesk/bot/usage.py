"""How each `/news` command is typed on each platform, for help, hints and refusals.

Slack has one command whose text `commands.parse_command` reads; Discord has typed options, and
admin commands under `/news-admin`, because Discord sets default permissions per top-level
command. So a hint that is right on one platform is wrong on the other: every message that
names a command asks here.
"""

from __future__ import annotations

# Command -> (Slack usage after "/news ", what it does). Also the order of /news help.
USAGE: dict[str, tuple[str, str]] = {
    "search": ("search <words> [tag:x] [source:y] [since:7d] [page:2]", "search the archive"),
    "digest preview": ("digest preview", "this channel's next digest, only to you"),
    "tags": ("tags", "the tags stories are filed under"),
    "help": ("help", "this help"),
    "feeds list": ("feeds list", "the feeds newsdesk follows"),
    "feeds add": ("feeds add <url> [tag …]", "follow a feed (its current items become archive)"),
    "feeds remove": ("feeds remove <id>", "stop following a feed and delete its items"),
    "feeds pause": ("feeds pause <id>", "stop polling a feed, keeping its items"),
    "feeds resume": ("feeds resume <id>", "poll a paused feed again"),
    "subscribe": (
        'subscribe [tag …] [-tag …] [schedule:"0 9 * * mon"] [tz:Europe/Paris] [lang:zh]',
        "send this channel a digest of those tags (all when none; -tag excludes)",
    ),
    "unsubscribe": ("unsubscribe", "stop this channel's digest"),
    "digest now": ("digest now", "send this channel's digest now"),
}

ADMIN_COMMANDS = frozenset(
    {
        "feeds list",
        "feeds add",
        "feeds remove",
        "feeds pause",
        "feeds resume",
        "subscribe",
        "unsubscribe",
        "digest now",
    }
)

# Command -> its Discord options, as typed after the command's name.
_DISCORD_OPTIONS: dict[str, str] = {
    "search": "query:<words, tag:x, since:7d> [page:2]",
    "feeds add": "url:<url> [tags:research china]",
    "feeds remove": "feed:<id>",
    "feeds pause": "feed:<id>",
    "feeds resume": "feed:<id>",
    "subscribe": (
        'tags:[funding talent] exclude:[policy] schedule:["0 9 * * mon"]'
        " timezone:[Europe/Paris] language:[zh]"
    ),
}


def command_name(command: str, platform: str) -> str:
    """`/news subscribe` on Slack, `/news-admin subscribe` on Discord."""
    if platform == "discord" and command in ADMIN_COMMANDS:
        return f"/news-admin {command}"
    return f"/news {command}"


def command_usage(command: str, platform: str) -> str:
    """The command with its arguments, as the platform takes them."""
    if platform == "discord":
        options = _DISCORD_OPTIONS.get(command)
        return (
            f"{command_name(command, platform)} {options}"
            if options
            else command_name(command, platform)
        )
    return f"/news {USAGE[command][0]}"


def next_page(query: str, page: int, platform: str) -> str:
    if platform == "discord":
        return f"/news search query:{query} page:{page}"
    return f"/news search {query} page:{page}"
