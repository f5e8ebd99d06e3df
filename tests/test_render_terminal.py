"""The terminal digest: feed text is printed as written, never read as rich markup."""

from __future__ import annotations

import io

from rich.console import Console

from newsdesk.digest.render_terminal import render_terminal
from newsdesk.digest.trends import trend
from newsdesk.models import DigestSection, Summary
from tests.sample_digests import digest, normal_week, quiet_week, story, story_tokens


def printed(renderable) -> str:
    console = Console(record=True, width=100, file=io.StringIO(), color_system="truecolor")
    console.print(renderable)
    return console.export_text()


def test_normal_week_shows_every_story_in_order():
    week = normal_week()
    output = printed(render_terminal(week))
    assert output.startswith("AI industry digest\n16–22 Nov 2026 · 20 of 30 stories from 4 outlets")
    positions = [output.index(token) for token in story_tokens(week)]
    assert positions == sorted(positions)
    assert "🧑‍💼 Talent & hiring  ▄▅▅▆█ +40%" in output
    assert "   https://news.example/1\n" in output
    assert "   Why it matters: Cheaper strong models" in output
    assert "   Also in: Outlet 1\n" in output
    assert "…and 4 more" in output


def test_rich_markup_in_feed_text_prints_literally():
    titles = ["[link=https://evil.example]x[/link]", "[bold red]alarm", ":warning: [/]"]
    section = DigestSection(
        tag="x",
        label="[blink]Label[/blink]",
        emoji="",
        stories=tuple(
            story(n, title=title, sources=("[i]Outlet[/i]", "[u]B[/u]"), summary=Summary("[b]s"))
            for n, title in enumerate(titles, start=1)
        ),
        trend=trend([1, 2]),
    )
    output = printed(render_terminal(digest((section,), title="[red]Title[/red]")))
    for title in titles:
        assert title in output
    for literal in (
        "[red]Title[/red]",
        "[blink]Label[/blink]",
        "[i]Outlet[/i]",
        "[u]B[/u]",
        "[b]s",
    ):
        assert literal in output


def test_control_sequences_in_feed_text_are_dropped():
    section = DigestSection("x", "X", "", (story(1, title="\x1b[31mred\x1b[0m \x07bell"),))
    console = Console(record=True, width=100, file=io.StringIO(), color_system=None)
    console.print(render_terminal(digest((section,))))
    raw = console.file.getvalue()
    assert "\x1b" not in raw
    assert "\x07" not in raw
    assert "[31mred" in raw


def test_javascript_url_is_not_shown_as_a_link():
    section = DigestSection("x", "X", "", (story(1, url="javascript:alert(1)"),))
    assert "javascript" not in printed(render_terminal(digest((section,))))


def test_quiet_week_is_a_short_panel():
    output = printed(render_terminal(quiet_week()))
    assert "AI industry digest" in output
    assert "A quiet week: no new stories tagged #talent or #funding" in output
    assert len(output.strip().splitlines()) <= 4
