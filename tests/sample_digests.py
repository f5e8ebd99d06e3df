"""Digests built straight from the dataclasses, for the renderer tests: a normal week, a very
long one, one full of hostile text, and a quiet one. No store, no feeds: rendering is pure.

Every story's title starts with a unique token (`S001`, `S002`, …) so a test can find each story
in the output, whatever else the renderer did to the title.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdesk.digest.trends import trend
from newsdesk.models import Digest, DigestSection, DigestStory, Story, Summary

SHARED = Path(__file__).resolve().parents[2] / "shared"
LIMITS_DOC = SHARED / "platform-limits.md"

START = datetime(2026, 11, 16, tzinfo=UTC)
END = datetime(2026, 11, 23, tzinfo=UTC)

HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "@everyone",
    "@here",
    "@channel",
    "<@U123>",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "<#C123>",
    "<#123456789012345678>",
    "<!subteam^S123|team>",
    "[click](https://evil.example)",
    "<https://evil.example|click>",
    "https://evil.example/bare",
    "www.evil.example",
    "x_https://evil.example/underscored",
    "**bold**",
    "```",
    "`code`",
    "&amp;",
    "&",
    "<script>alert(1)</script>",
    "[link=https://evil.example]x[/link]",
    "[bold red]",
    "# heading",
    "> quote",
    "||spoiler||",
    "\u202eRTL override",
    "zero\u200bwidth\u200djoin\u2060",
    "עברית",
    "深度求索发布新模型",
    "🚀🧑‍💼",
    "line\nbreak\r\ttab",
]


def token(number: int) -> str:
    return f"S{number:03d}"


def story(
    number: int,
    *,
    title: str = "",
    url: str | None = "",
    sources: tuple[str, ...] = ("The Verge",),
    summary: Summary | None = None,
    tags: tuple[str, ...] = ("model-release",),
) -> DigestStory:
    when = START + timedelta(hours=number)
    return DigestStory(
        story=Story(
            id=number,
            title=f"{token(number)} {title or 'A new open-weights model tops the leaderboard'}",
            url=f"https://news.example/{number}" if url == "" else url,
            summary="The feed's own summary.",
            first_seen=when,
            last_seen=when,
            published=when,
            item_count=len(sources),
            sources=sources,
            tags=tags,
            news_at=when,
        ),
        score=10.0 - number / 100,
        summary=summary,
    )


def digest(sections: tuple[DigestSection, ...], **fields) -> Digest:
    fields = {"matched": sum(len(s.stories) + s.more for s in sections), **fields}
    return Digest(
        subscription="ai",
        title=fields.pop("title", "AI industry digest"),
        period_start=START,
        period_end=END,
        sections=sections,
        **fields,
    )


SECTIONS = [
    ("model-release", "Model releases", "🚀"),
    ("talent", "Talent & hiring", "🧑‍💼"),
    ("funding", "Funding", "💰"),
    ("policy", "Policy", ""),
    ("", "Other news", ""),
]


def normal_week() -> Digest:
    """20 stories in 5 sections, with LLM summaries, several outlets and trends."""
    sections, number = [], 0
    for index, (tag, label, emoji) in enumerate(SECTIONS):
        stories = []
        for _ in range(4):
            number += 1
            stories.append(
                story(
                    number,
                    sources=tuple(f"Outlet {n}" for n in range(1 + number % 4)),
                    summary=Summary(
                        text=(
                            "The lab released weights and a technical report; early benchmarks "
                            "put it ahead of larger models on coding and maths, at a fraction "
                            "of the inference cost."
                        ),
                        why="Cheaper strong models shift what start-ups can afford to build.",
                        origin="llm",
                    ),
                    tags=(tag,) if tag else (),
                )
            )
        sections.append(
            DigestSection(
                tag=tag,
                label=label,
                emoji=emoji,
                stories=tuple(stories),
                more=index,
                trend=trend([2, 3, 3, 5, 7]) if tag else None,
            )
        )
    return digest(tuple(sections), intro="A busy week for open models and AI hiring.")


def long_week() -> Digest:
    """200 stories in 20 sections; 10,000-character titles, summaries and reasons; 50 outlets."""
    sections = []
    for index in range(20):
        stories = tuple(
            story(
                number,
                title="Long title " * 1000,
                sources=tuple(f"Outlet number {n} with a long name" for n in range(50)),
                summary=Summary(text="Summary words " * 800, why="Because " * 1300),
            )
            for number in range(index * 10 + 1, index * 10 + 11)
        )
        sections.append(
            DigestSection(
                tag=f"tag-{index}",
                label=f"Section {index} " * 20,
                emoji="📈",
                stories=stories,
                more=3,
                trend=trend([1, 2, 3, 4, index + 1]),
            )
        )
    return digest(tuple(sections), title="Long digest title " * 50, intro="Intro " * 2000)


def hostile_week() -> Digest:
    """Every kind of text a feed or a model could use to inject syntax, in every field."""
    text = " ".join(HOSTILE)
    stories = [
        story(
            number,
            title=f"{item} {text}" if number % 2 else item,
            sources=(item, "Other <!here>", "@everyone Daily", "[x](https://evil.example)"),
            summary=Summary(text=f"{item} — {text}", why=f"{item} matters", origin="llm"),
            tags=("talent",),
        )
        for number, item in enumerate(HOSTILE, start=1)
    ]
    stories.append(story(901, title="javascript link", url="javascript:alert(1)"))
    stories.append(story(902, title="no link at all", url=None))
    stories.append(story(903, title="odd url", url="https://news.example/a b|c(d)<e>?q=1&r=2"))
    section = DigestSection(
        tag="talent",
        label="Talent & <!channel> `hiring` @here",
        emoji="🧑‍💼",
        stories=tuple(stories),
        more=2,
        trend=trend([1, 2, 4]),
    )
    return digest(
        (section,),
        title="<!channel> **AI** & [digest](https://evil.example) @everyone",
        intro=f"Intro: {text}",
    )


def quiet_week() -> Digest:
    return digest((), matched=0, include_tags=("talent", "funding"))


# Every kind of week, by name: the renderer tests run each payload check on all of them.
WEEKS = {
    "normal": normal_week,
    "long": long_week,
    "hostile": hostile_week,
    "quiet": quiet_week,
}


def story_urls(d: Digest) -> set[str]:
    return {entry.story.url for entry in d.stories if entry.story.url}


def story_tokens(d: Digest) -> list[str]:
    return [entry.story.title.split(" ", 1)[0] for entry in d.stories]


def load_limits() -> dict:
    """The machine-readable limits at the end of ../shared/platform-limits.md."""
    if not LIMITS_DOC.is_file():
        pytest.skip(f"the platform limits doc is not at {LIMITS_DOC} (only beside a dev checkout)")
    blocks = re.findall(r"```json\n(.*?)```", LIMITS_DOC.read_text(encoding="utf-8"), re.S)
    return json.loads(blocks[-1])
