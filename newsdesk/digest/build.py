"""Building a digest: which of a period's stories a subscription gets, in what order, under
which headings. Pure: stories and the taxonomy in, a `Digest` out.

Ranking wants the story a busy reader most needs first. A story carried by more outlets is more
likely to matter (each extra outlet adds 1 to its score), a higher-priority tag breaks ties
between equally covered stories (up to 1 more), and freshness within the period (up to 0.5)
orders the rest: so a DeepSeek release in three outlets beats a talent story in one, and among
single-outlet stories the taxonomy's priorities decide. The chosen stories are grouped under
their highest-priority tag, sections in taxonomy order, with caps on the whole digest and on
each section so that one busy topic cannot crowd out the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsdesk.digest.trends import trend
from newsdesk.feeds.tagging import Taxonomy
from newsdesk.models import Digest, DigestSection, DigestStory, Story, Subscription

__all__ = ["OTHER_LABEL", "build_digest", "default_period", "score_story", "section_tag"]

OTHER_LABEL = "Other news"
SOURCE_WEIGHT = 1.0
PRIORITY_WEIGHT = 1.0 / 100  # taxonomy priorities run 0-100
FRESHNESS_WEIGHT = 0.5


def default_period(
    now: datetime, last_end: datetime | None, days: int = 7
) -> tuple[datetime, datetime]:
    """The period a digest built `now` covers: from where the last one ended (so no story is
    missed or repeated), or the last `days` days for a subscription's first digest."""
    start = now - timedelta(days=days) if last_end is None else min(last_end, now)
    return start, now


def matches(story: Story, subscription: Subscription) -> bool:
    """A subscription's tag filter: any included tag (or no include list), no excluded one."""
    tags = set(story.tags)
    if subscription.include_tags and tags.isdisjoint(subscription.include_tags):
        return False
    return tags.isdisjoint(subscription.exclude_tags)


def section_tag(story: Story, taxonomy: Taxonomy, include: Iterable[str] = ()) -> str:
    """The tag a story is filed under: its highest-priority tag, among the subscription's
    included tags when it has some (a talent channel files a DeepSeek hire under talent).
    Tags the taxonomy does not know (a feed's own) come after known ones; "" means none."""
    include = set(include)
    candidates = [tag for tag in story.tags if not include or tag in include]
    ranked = taxonomy.rank(candidates)
    if ranked:
        return ranked[0].name
    return min(candidates, default="")


def score_story(story: Story, priority: int, start: datetime, end: datetime) -> float:
    """The rank score; the module docstring explains the weights."""
    span = (end - start).total_seconds()
    moment = story.news_at or story.first_seen
    freshness = (moment - start).total_seconds() / span if span > 0 else 1.0
    return (
        SOURCE_WEIGHT * len(story.sources)
        + PRIORITY_WEIGHT * priority
        + FRESHNESS_WEIGHT * min(1.0, max(0.0, freshness))
    )


@dataclass(slots=True)
class _Section:
    tag: str
    stories: list[DigestStory]
    more: int = 0


def build_digest(
    stories: Iterable[Story],
    *,
    subscription: Subscription,
    taxonomy: Taxonomy,
    start: datetime,
    end: datetime,
    title: str,
    weekly_counts: Mapping[str, Sequence[int]] | None = None,
) -> Digest:
    """Select, rank and group the stories that became news in [start, end) for a subscription.

    `weekly_counts` (tag -> stories per week, oldest first, ending with the digest's week) gives
    each section its trend line; sections without counts have none.
    """
    chosen: list[tuple[float, Story, str]] = []
    for story in stories:
        moment = story.news_at or story.first_seen
        if not (start <= moment < end) or not matches(story, subscription):
            continue
        tag = section_tag(story, taxonomy, subscription.include_tags)
        known = taxonomy.get(tag)
        chosen.append((score_story(story, known.priority if known else 0, start, end), story, tag))
    # Best first; equal scores: the newer story, then the later id (stable across rebuilds).
    chosen.sort(key=lambda row: (row[0], row[1].news_at or row[1].first_seen, row[1].id))
    chosen.reverse()

    sections: dict[str, _Section] = {}
    shown = 0
    for score, story, tag in chosen:
        section = sections.setdefault(tag, _Section(tag, []))
        if shown < subscription.max_stories and len(section.stories) < subscription.max_per_section:
            section.stories.append(DigestStory(story=story, score=round(score, 4)))
            shown += 1
        else:
            section.more += 1

    counts = weekly_counts or {}
    return Digest(
        subscription=subscription.name,
        title=title,
        period_start=start,
        period_end=end,
        sections=tuple(
            _finish(sections[tag], taxonomy, counts.get(tag))
            for tag in _section_order(sections, taxonomy)
            if sections[tag].stories
        ),
        matched=len(chosen),
        include_tags=subscription.include_tags,
        exclude_tags=subscription.exclude_tags,
        language=subscription.language,
    )


def _section_order(tags: Iterable[str], taxonomy: Taxonomy) -> list[str]:
    """Taxonomy order (priority, then file order); then feed-only tags by name; "Other" last."""
    tags = set(tags)
    known = [tag.name for tag in taxonomy.rank(tags)]
    unknown = sorted(tag for tag in tags if tag and taxonomy.get(tag) is None)
    return known + unknown + ([""] if "" in tags else [])


def _finish(section: _Section, taxonomy: Taxonomy, counts: Sequence[int] | None) -> DigestSection:
    known = taxonomy.get(section.tag)
    if not section.tag:
        label, emoji = OTHER_LABEL, ""
    elif known is None:
        label, emoji = section.tag, ""
    else:
        label, emoji = known.label, known.emoji
    return DigestSection(
        tag=section.tag,
        label=label,
        emoji=emoji,
        stories=tuple(section.stories),
        more=section.more,
        trend=trend(counts) if counts and section.tag else None,
    )
