"""Building a digest: which stories a channel gets, in what order, under which headings.

Pure functions over plain stories, so these need no server and no database; the store's side
(which stories became news when) is tested in test_digest_store.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsdesk.digest.build import build_digest, default_period, section_tag
from newsdesk.digest.trends import sparkline, trend
from newsdesk.feeds.tagging import taxonomy_from_dict
from newsdesk.models import Story, Subscription
from tests.conftest import NOW

TAXONOMY = taxonomy_from_dict(
    {
        "tags": [
            {"name": "deepseek", "label": "DeepSeek", "emoji": "🐋", "priority": 100},
            {"name": "talent", "label": "Talent & hiring", "emoji": "🧑‍💼", "priority": 90},
            {"name": "funding", "label": "Funding", "emoji": "💰", "priority": 85},
            {"name": "research", "label": "Research", "emoji": "📄", "priority": 65},
            # Same priority as research but later in the file: files after it.
            {"name": "policy", "label": "Policy", "priority": 65},
        ]
    }
)
START, END = NOW - timedelta(days=7), NOW
EVERYTHING = Subscription(name="all")


def story(
    id: int,
    *tags: str,
    sources: int = 1,
    hours_ago: float = 24,
    title: str | None = None,
) -> Story:
    moment = NOW - timedelta(hours=hours_ago)
    return Story(
        id=id,
        title=title or f"Story {id}",
        url=f"https://news.example/{id}",
        summary="",
        first_seen=moment,
        last_seen=moment,
        published=moment,
        item_count=sources,
        sources=tuple(f"Outlet {n}" for n in range(sources)),
        tags=tags,
        news_at=moment,
    )


def build(stories, subscription=EVERYTHING, **kwargs):
    return build_digest(
        stories,
        subscription=subscription,
        taxonomy=TAXONOMY,
        start=START,
        end=END,
        title="Weekly",
        **kwargs,
    )


def titles(digest) -> list[list[str]]:
    return [[entry.story.title for entry in section.stories] for section in digest.sections]


def test_sections_follow_taxonomy_order_and_untagged_stories_come_last():
    digest = build(
        [
            story(1),
            story(2, "research"),
            story(3, "deepseek"),
            story(4, "funding"),
            story(5, "policy"),
            story(6, "my-feed-tag"),
        ]
    )
    assert [s.tag for s in digest.sections] == [
        "deepseek", "funding", "research", "policy", "my-feed-tag", ""
    ]  # fmt: skip
    assert [s.label for s in digest.sections][-2:] == ["my-feed-tag", "Other news"]
    assert digest.sections[0].emoji == "🐋"


def test_a_story_is_filed_under_its_highest_priority_tag_only():
    digest = build([story(1, "research", "talent", "funding")])
    assert [s.tag for s in digest.sections] == ["talent"]
    assert len(digest.stories) == 1


def test_a_channel_that_includes_tags_files_stories_under_those_tags():
    talent_channel = Subscription(name="hiring", include_tags=("talent",))
    digest = build([story(1, "deepseek", "talent"), story(2, "deepseek")], talent_channel)
    assert titles(digest) == [["Story 1"]]
    assert digest.sections[0].tag == "talent"
    assert section_tag(story(1, "deepseek", "talent"), TAXONOMY) == "deepseek"


def test_include_is_any_of_and_exclude_drops_a_story_with_any_excluded_tag():
    subscription = Subscription(
        name="money", include_tags=("funding", "talent"), exclude_tags=("deepseek",)
    )
    digest = build(
        [story(1, "funding"), story(2, "talent"), story(3, "funding", "deepseek"), story(4)],
        subscription,
    )
    assert sorted(e.story.id for e in digest.stories) == [1, 2]
    assert digest.matched == 2


def test_more_outlets_rank_first_then_tag_priority_then_freshness():
    digest = build(
        [
            story(1, "research", hours_ago=1),
            story(2, "research", sources=3, hours_ago=150),
            story(3, "research", hours_ago=100),
        ]
    )
    assert titles(digest) == [["Story 2", "Story 1", "Story 3"]]
    scores = [entry.score for entry in digest.stories]
    assert scores == sorted(scores, reverse=True)


def test_the_overall_cap_keeps_the_best_stories_across_sections():
    subscription = Subscription(name="short", max_stories=2, max_per_section=5)
    digest = build(
        [story(1, "research"), story(2, "deepseek"), story(3, "funding", sources=2)],
        subscription,
    )
    assert sorted(e.story.id for e in digest.stories) == [2, 3]
    assert [s.tag for s in digest.sections] == ["deepseek", "funding"]
    assert digest.matched == 3


def test_a_busy_section_is_capped_and_says_how_many_more_it_had():
    subscription = Subscription(name="s", max_stories=10, max_per_section=2)
    digest = build(
        [story(i, "deepseek", hours_ago=i) for i in range(1, 6)] + [story(9, "funding")],
        subscription,
    )
    deepseek, funding = digest.sections
    assert [e.story.id for e in deepseek.stories] == [1, 2]
    assert deepseek.more == 3
    assert funding.more == 0 and len(funding.stories) == 1


def test_only_stories_that_became_news_in_the_period_are_chosen():
    digest = build([story(1, hours_ago=1), story(2, hours_ago=24 * 8), story(3, hours_ago=-1)])
    assert [e.story.id for e in digest.stories] == [1]


def test_an_empty_week_is_a_quiet_digest_that_keeps_its_period_and_filter():
    subscription = Subscription(name="t", include_tags=("talent",))
    digest = build([story(1, "funding")], subscription)
    assert digest.quiet and digest.stories == [] and digest.matched == 0
    assert digest.include_tags == ("talent",)
    assert (digest.period_start, digest.period_end) == (START, END)


def test_rebuilding_from_the_same_stories_gives_the_same_digest():
    stories = [story(i, "research", hours_ago=24) for i in range(1, 8)]
    assert build(stories) == build(list(reversed(stories)))


def test_sections_carry_the_trend_of_their_tag():
    digest = build(
        [story(1, "talent"), story(2)],
        weekly_counts={"talent": [1, 2, 2, 3, 5], "": [9, 9, 9, 9, 9]},
    )
    talent, other = digest.sections
    assert talent.trend.counts == (1, 2, 2, 3, 5)
    assert talent.trend.label == "▃▄▄▆█ +67%"
    assert other.trend is None


def test_sparkline_keeps_empty_weeks_below_any_week_with_stories():
    assert sparkline([0, 1, 50, 100]) == "▁▂▅█"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([]) == ""


@pytest.mark.parametrize(
    ("counts", "label"),
    [
        ([2, 3, 3, 5, 7], "▄▅▅▆█ +40%"),
        ([4, 2], "█▅ -50%"),
        ([3, 3], "██ +0%"),
        ([0, 4], "▁█ new"),
        ([0, 0], "▁▁"),
    ],
)
def test_trend_label_shows_the_change_from_last_week(counts, label):
    assert trend(counts).label == label


def test_the_default_period_runs_from_the_last_digest_or_a_week_back():
    assert default_period(NOW, None, days=7) == (NOW - timedelta(days=7), NOW)
    last = NOW - timedelta(days=3)
    assert default_period(NOW, last) == (last, NOW)
    # A clock that went backwards never makes a period that ends before it starts.
    assert default_period(NOW, NOW + timedelta(hours=1)) == (NOW, NOW)
