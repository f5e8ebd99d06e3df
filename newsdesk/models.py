"""The plain data that flows between newsdesk's parts.

Every arrow in the data flow (fetch -> parse -> dedup -> store -> digest) passes one of these
dataclasses, never a library's object: a feedparser dict, an httpx response or a SQLite row stays
inside the module that produced it. That keeps the middle of the pipeline pure and testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of one feed, normalized so that two feeds' entries can be compared.

    `guid` is the item's identity inside its feed: the feed's own id, else its link, else a hash of
    its text, so an entry is never dropped for lacking an id. `published` is None when the feed gave
    no usable date (missing, unparsable or in the future); the store then uses first-seen instead.
    """

    guid: str
    url: str | None
    title: str
    summary: str
    author: str | None
    published: datetime | None
    content_hash: str
    # Filled in by the ingest pipeline after parsing: the item's tags from the taxonomy and its
    # MinHash signature for near-duplicate stories (empty when not computed).
    tags: frozenset[str] = frozenset()
    signature: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a parser could read from a feed body, plus why it could not read the rest."""

    title: str | None
    link: str | None
    items: list[Item]
    ttl_minutes: int | None = None
    error: str | None = None
    parser: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    """A source URL with its polling state, as the store keeps it."""

    id: int
    url: str
    title: str | None
    tags: tuple[str, ...] = ()
    paused: bool = False
    source: str = "cli"
    interval_minutes: int | None = None
    preferred: bool = False  # its items represent the stories they are in
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    item_count: int = 0


@dataclass(frozen=True, slots=True)
class Story:
    """What a reader cares about: the items about one thing, shown once.

    `sources` are the distinct feed titles (or URLs) that carried the story, representative first.
    """

    id: int
    title: str
    url: str | None
    summary: str
    first_seen: datetime
    last_seen: datetime
    published: datetime
    item_count: int
    sources: tuple[str, ...] = field(default_factory=tuple)
    tags: tuple[str, ...] = field(default_factory=tuple)
    # When the story became news to us: its first sighting by a regular poll; for a story known
    # only from backfill, when it was published. Digests select and trends count by it.
    news_at: datetime | None = None


# --- digests -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    """Who gets a digest, of which stories, and how: a channel with its tag filter.

    `include_tags` keeps stories with any of those tags (all stories when empty);
    `exclude_tags` drops stories with any of those. `language` is what summaries are written in.
    """

    name: str
    platform: str = "terminal"  # slack | discord | file | markdown | terminal
    channel: str = ""  # a Slack or Discord channel ID
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    language: str = "en"
    max_stories: int = 20
    max_per_section: int = 5
    llm_summaries: bool = True  # False: extractive summaries even when an LLM is configured
    schedule: str = "0 9 * * mon"  # crontab, Sunday = 0 (see newsdesk.schedule)
    timezone: str = "UTC"
    webhook_env: str = ""  # instead of `channel`: the variable holding an incoming-webhook URL
    path: str = ""  # the Markdown file of a `file` subscription
    source: str = "config"  # config | chat: who owns it (chat ones live only in the store)

    @property
    def destination(self) -> str:
        """Where it is delivered, for people: never the webhook URL, which is a secret."""
        if self.webhook_env:
            return f"{self.platform} webhook ${self.webhook_env}"
        if self.platform == "file":
            return f"file {self.path}"
        if self.channel:
            return f"{self.platform} channel {self.channel}"
        return self.platform


@dataclass(frozen=True, slots=True)
class Summary:
    """A story's summary as a digest shows it: plain text, length-capped, with no links.

    `why` ("why it matters") only comes from an LLM; `origin` says which summarizer wrote it.
    """

    text: str
    why: str = ""
    origin: str = "extractive"  # llm | extractive


@dataclass(frozen=True, slots=True)
class Trend:
    """A tag's story counts over the last weeks, oldest first; the last is the digest's week.

    `change` is this week against the week before (0.4 is +40%); None when that week had none.
    """

    counts: tuple[int, ...]
    sparkline: str
    change: float | None

    @property
    def label(self) -> str:
        """The sparkline and the change, as sections show them: `▂▃▃▅▇ +40%`."""
        if self.change is None:
            return f"{self.sparkline} new" if self.counts and self.counts[-1] else self.sparkline
        return f"{self.sparkline} {self.change:+.0%}"


@dataclass(frozen=True, slots=True)
class DigestStory:
    """A story chosen for a digest, with its rank score and (once summarized) its summary."""

    story: Story
    score: float
    summary: Summary | None = None


@dataclass(frozen=True, slots=True)
class DigestSection:
    """The stories filed under one tag (their highest-priority one); `tag` is "" for stories
    with no tag. `more` counts the matching stories the size caps left out."""

    tag: str
    label: str
    emoji: str
    stories: tuple[DigestStory, ...]
    more: int = 0
    trend: Trend | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """A frozen selection of stories for one subscription and one period [start, end).

    No sections means a quiet week: renderers then say so in a short message.
    """

    subscription: str
    title: str
    period_start: datetime
    period_end: datetime
    sections: tuple[DigestSection, ...]
    matched: int  # stories in the period that passed the tag filter, shown or not
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    language: str = "en"
    intro: str = ""

    @property
    def quiet(self) -> bool:
        return not self.sections

    @property
    def stories(self) -> list[DigestStory]:
        return [entry for section in self.sections for entry in section.stories]

    @property
    def source_count(self) -> int:
        """Distinct outlets among the stories shown."""
        return len({source for entry in self.stories for source in entry.story.sources})
