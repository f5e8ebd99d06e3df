"""Reading `/news …` text: the one parser Slack uses, with errors that say what is accepted."""

from __future__ import annotations

import pytest

from newsdesk.bot.commands import Command, UsageError, parse_command
from newsdesk.bot.formatting import split_message


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Command("help")),
        ("  HELP ", Command("help")),
        ("tags", Command("tags")),
        ("search deepseek v4", Command("search", {"query": "deepseek v4", "page": 1})),
        (
            'search "mixture of experts" tag:research page:3',
            Command("search", {"query": '"mixture of experts" tag:research', "page": 3}),
        ),
        ("search 深度求索 发布", Command("search", {"query": "深度求索 发布", "page": 1})),
        ("digest preview", Command("digest preview")),
        ("digest NOW", Command("digest now")),
        ("feeds list", Command("feeds list")),
        (
            "feeds add https://example.com/feed.xml research china",
            Command(
                "feeds add", {"url": "https://example.com/feed.xml", "tags": ["research", "china"]}
            ),
        ),
        ("feeds pause 3", Command("feeds pause", {"feed": "3"})),
        ("unsubscribe", Command("unsubscribe")),
        (
            'subscribe funding -policy schedule:"30 8 * * 1-5" tz:Asia/Shanghai lang:zh',
            Command(
                "subscribe",
                {
                    "tags": ["funding"],
                    "exclude": ["policy"],
                    "schedule": "30 8 * * 1-5",
                    "timezone": "Asia/Shanghai",
                    "language": "zh",
                },
            ),
        ),
    ],
)
def test_slash_command_text_is_read_into_a_command(text, command):
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "message", "usage_of"),
    [
        ("search", "say what to search for", "search"),
        ("search page:2", "say what to search for", "search"),
        ("search x page:0", "page:0 is not a page number", "search"),
        ("feeds add", "give the feed's URL", "feeds add"),
        ("feeds remove 1 2", "give one feed's id (see feeds list) or URL", "feeds remove"),
        ("feeds delete 1", "feeds takes one of: list | add | remove | pause | resume", None),
        ("digest preview please", "digest preview takes no arguments", "digest preview"),
        ('subscribe schedule:"0 9', "a quote is not closed", "subscribe"),
        ("weather", "there is no command 'weather'", None),
    ],
)
def test_text_that_is_not_a_command_says_why(text, message, usage_of):
    with pytest.raises(UsageError) as error:
        parse_command(text)
    assert str(error.value) == message
    assert error.value.command == usage_of


def test_long_replies_are_split_at_line_breaks_within_the_limit():
    text = "\n".join(f"line {n} " + "x" * 30 for n in range(100))
    parts = split_message(text, 500)
    assert all(len(part) <= 500 for part in parts)
    assert "\n".join(parts) == text
    assert split_message("y" * 1200, 500) == ["y" * 500, "y" * 500, "y" * 200]
