"""The words every renderer shares: periods, counts, headings, the quiet-week message."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from newsdesk.digest import text as words
from newsdesk.digest.trends import trend
from newsdesk.models import DigestSection, Summary
from tests.sample_digests import digest, normal_week, quiet_week, story


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (at(2026, 11, 16), at(2026, 11, 23), "16–22 Nov 2026"),
        (at(2026, 11, 28), at(2026, 12, 5), "28 Nov – 4 Dec 2026"),
        (at(2026, 12, 29), at(2027, 1, 5), "29 Dec 2026 – 4 Jan 2027"),
        (at(2026, 11, 16), at(2026, 11, 17), "16 Nov 2026"),
        (at(2026, 11, 16, 9), at(2026, 11, 23, 9), "16–23 Nov 2026"),
    ],
)
def test_period_label_shows_the_last_day_inside_the_exclusive_period(start, end, label):
    assert words.period_label(start, end) == label


def test_period_phrase_reads_inside_a_sentence():
    assert words.period_phrase(at(2026, 11, 16), at(2026, 11, 23)) == "between 16 and 22 Nov 2026"
    assert words.period_phrase(at(2026, 11, 28), at(2026, 12, 5)) == (
        "between 28 Nov and 4 Dec 2026"
    )
    assert words.period_phrase(at(2026, 11, 16), at(2026, 11, 17)) == "on 16 Nov 2026"


def test_context_line_counts_stories_and_outlets_and_what_the_caps_left_out():
    assert words.context_line(normal_week()) == "16–22 Nov 2026 · 20 of 30 stories from 4 outlets"
    one = digest((DigestSection("x", "X", "", (story(1),)),))
    assert words.context_line(one) == "16–22 Nov 2026 · 1 story from 1 outlet"


def test_quiet_message_names_the_include_filter_and_the_period():
    assert words.quiet_message(quiet_week()) == (
        "A quiet week: no new stories tagged #talent or #funding between 16 and 22 Nov 2026."
    )


def test_quiet_message_without_a_filter_and_with_an_exclusion():
    assert words.quiet_message(digest(())) == (
        "A quiet week: no new stories between 16 and 22 Nov 2026."
    )
    message = words.quiet_message(digest((), include_tags=("a", "b", "c"), exclude_tags=("d",)))
    assert "tagged #a, #b or #c (leaving out #d)" in message


def test_quiet_message_says_day_for_a_daily_digest():
    daily = replace(digest(()), period_end=at(2026, 11, 17))
    assert words.quiet_message(daily) == "A quiet day: no new stories on 16 Nov 2026."


def test_section_heading_is_emoji_and_label_or_other_news():
    assert words.section_heading(DigestSection("talent", "Talent & hiring", "🧑‍💼", ())) == (
        "🧑‍💼 Talent & hiring"
    )
    assert words.section_heading(DigestSection("policy", "Policy", "", ())) == "Policy"
    assert words.section_heading(DigestSection("", "", "", ())) == "Other news"


def test_trend_label_is_the_sparkline_and_the_change():
    section = DigestSection("t", "T", "", (), trend=trend([5, 7]))
    assert words.trend_label(section).endswith("+40%")
    assert words.trend_label(DigestSection("t", "T", "", ())) == ""


def test_story_meta_names_the_outlet_and_counts_them_when_several():
    assert words.story_meta(story(1).story) == "The Verge"
    assert words.story_meta(story(1, sources=("A", "B", "C")).story) == "A · 3 outlets"
    assert words.story_meta(story(1, sources=()).story) == ""


def test_also_in_lists_the_other_outlets_up_to_a_cap():
    many = story(1, sources=tuple(f"O{n}" for n in range(9))).story
    assert words.also_in(many) == "O1, O2, O3, O4, O5 +3 more"
    assert words.also_in_line(story(1, sources=("A", "B")).story) == "Also in: B"
    assert words.also_in(story(1).story) == ""


def test_more_and_why_lines():
    assert words.more_label(3) == "…and 3 more"
    entry = story(1, summary=Summary("Text.", why="It matters."))
    assert words.why_line(entry) == "Why it matters: It matters."
    assert words.why_line(story(1)) == ""


def test_summary_falls_back_to_the_feed_text_before_summarizing():
    assert words.story_summary(story(1)) == "The feed's own summary."
    assert words.story_summary(story(1, summary=Summary("Model text."))) == "Model text."


def test_clean_makes_one_line_without_controls_or_direction_overrides():
    assert words.clean("a\nb\r\tc\x00d\u202ee\u2066f", 100) == "a b c def"
    assert words.clean("👩‍💻 keeps its joiner", 100) == "👩‍💻 keeps its joiner"


def test_clean_truncates_long_text_at_a_word_with_an_ellipsis():
    cut = words.clean("word " * 5000, 250)
    assert len(cut) <= 250
    assert cut.endswith("word…")
    assert len(words.clean("深" * 5000, 250)) == 250


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "ftp://x.example/", "https://", "/relative"]
)
def test_only_http_urls_with_a_host_are_links(url):
    assert words.http_url(url) is None


def test_link_urls_percent_encode_what_ends_a_link():
    assert words.http_url("https://x.example/a b|c(d)<e>[f]?q=1&r=2#g") == (
        "https://x.example/a%20b%7Cc%28d%29%3Ce%3E%5Bf%5D?q=1&r=2#g"
    )
    assert words.http_url("https://例え.jp/パス") == "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9"
    assert words.http_url("https://x.example/%41") == "https://x.example/%41"


def test_urls_written_in_text_are_defused():
    written = "see https://evil.example, _steam://x and WWW.evil.example"
    defused = words.defuse_links(written)
    assert "://" not in defused
    assert "www." not in defused.lower()
    assert defused.replace(words.WORD_JOINER, "") == written


def test_fit_measures_the_escaped_text():
    escape = lambda text: text.replace("&", "&amp;")  # noqa: E731
    fitted = words.fit("& " * 100, 50, escape)
    assert len(fitted) <= 50
    assert fitted.endswith("…")
    assert words.fit("short & sweet", 50, escape) == "short &amp; sweet"
