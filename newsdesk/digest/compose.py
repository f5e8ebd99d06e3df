"""One digest, start to finish: the store's stories -> build -> summarize -> a `Digest`.

The CLI's preview, the demo and (later) the scheduler all make digests the same way through
`compose_digest`; each then renders the result for its platform. The LLM client lives for one
composition: a digest is a weekly event, and a client held open for a week would only hold
stale connections.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from newsdesk.config import ConfigError, Settings, SubscriptionSettings
from newsdesk.digest.build import build_digest, default_period
from newsdesk.feeds.tagging import Taxonomy
from newsdesk.models import Digest, Subscription
from newsdesk.store import Store
from newsdesk.summarizer.llm import ChatClient
from newsdesk.summarizer.service import Summarizer, SummaryReport

__all__ = [
    "DEFAULT_SUBSCRIPTION",
    "ComposedDigest",
    "compose_digest",
    "find_subscription",
    "subscriptions_from_settings",
]

log = logging.getLogger(__name__)

# With no [[subscriptions]] in the config, one digest of everything, printed in the terminal.
DEFAULT_SUBSCRIPTION = "default"


@dataclass(frozen=True, slots=True)
class ComposedDigest:
    digest: Digest
    summaries: SummaryReport
    llm: str  # what summarized it, for the report: "extractive", or "<model> at <base_url>"


def subscriptions_from_settings(
    settings: Settings, taxonomy: Taxonomy, source: str = "<config>"
) -> list[Subscription]:
    """The config's subscriptions (or the default one), with their tag filters checked.

    A filter naming a tag that neither the taxonomy nor any feed defines would silently match
    nothing, so it is a config error that names the key.
    """
    specs = settings.subscriptions or [SubscriptionSettings(name=DEFAULT_SUBSCRIPTION)]
    known = {tag.name for tag in taxonomy.tags} | {t for f in settings.feeds for t in f.tags}
    problems = []
    for index, spec in enumerate(settings.subscriptions):
        for key in ("include_tags", "exclude_tags"):
            for position, tag in enumerate(getattr(spec, key)):
                if tag not in known:
                    problems.append(
                        f"subscriptions[{index}].{key}[{position}]: unknown tag {tag!r}"
                        " (`newsdesk tags` lists them)"
                    )
    if problems:
        raise ConfigError(source, problems)
    return [
        Subscription(
            name=spec.name,
            platform=spec.platform,
            channel=spec.channel,
            include_tags=tuple(spec.include_tags),
            exclude_tags=tuple(spec.exclude_tags),
            language=spec.language,
            max_stories=spec.max_stories or settings.digest.max_stories,
            max_per_section=spec.max_per_section or settings.digest.max_per_section,
            llm_summaries=spec.llm_summaries,
            schedule=spec.schedule or settings.bot.schedule,
            timezone=spec.timezone or settings.bot.timezone,
            webhook_env=spec.webhook_env,
            path=spec.path,
        )
        for spec in specs
    ]


def find_subscription(subscriptions: list[Subscription], name: str | None) -> Subscription:
    """The named subscription, or the only/first one when no name is given."""
    if name is None:
        return subscriptions[0]
    for subscription in subscriptions:
        if subscription.name == name:
            return subscription
    names = ", ".join(s.name for s in subscriptions)
    raise LookupError(f"no subscription named {name!r}; the config has: {names}")


async def compose_digest(
    store: Store,
    settings: Settings,
    taxonomy: Taxonomy,
    subscription: Subscription,
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    client: ChatClient | None = None,
) -> ComposedDigest:
    """Build and summarize a subscription's digest for [start, end).

    By default the period runs from where the subscription's last delivered digest ended (or
    `digest.period_days` ago) to `now`. An LLM is used when the config sets one up and the
    subscription allows it; `client` overrides the configured one (tests, one client for many
    digests).
    """
    default_start, default_end = default_period(
        now, store.last_digest_end(subscription.name), settings.digest.period_days
    )
    start = start or default_start
    end = end or default_end
    stories = store.stories_between(start, end)
    tags = {tag for story in stories for tag in story.tags}
    digest = build_digest(
        stories,
        subscription=subscription,
        taxonomy=taxonomy,
        start=start,
        end=end,
        title=settings.digest.title,
        weekly_counts=store.weekly_tag_counts(tags, end, settings.digest.trend_weeks),
    )
    if client is not None or not _wants_llm(settings, subscription):
        summarizer = Summarizer(store, settings.summarizer, settings.digest, client)
        digest, report = await summarizer.summarize(digest, use_llm=subscription.llm_summaries)
        return ComposedDigest(digest, report, _describe(client))
    async with ChatClient.from_settings(settings.summarizer) as own_client:
        summarizer = Summarizer(store, settings.summarizer, settings.digest, own_client)
        digest, report = await summarizer.summarize(digest)
    return ComposedDigest(digest, report, _describe(own_client))


def _wants_llm(settings: Settings, subscription: Subscription) -> bool:
    config = settings.summarizer
    if config.provider == "none" or not subscription.llm_summaries:
        return False
    if config.api_key_env and config.api_key() is None:
        # Named, never shown: the variable's name is safe to log, its value is not.
        log.warning(
            "summarizer.api_key_env names %s, which is not set: using extractive summaries",
            config.api_key_env,
        )
        return False
    return True


def _describe(client: ChatClient | None) -> str:
    return "extractive" if client is None else f"{client.model} ({client.base_url})"
