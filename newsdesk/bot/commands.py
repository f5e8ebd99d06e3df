"""`/news` on every platform: parsing, permissions and what each command does.

The Slack and Discord adapters only translate: they turn a platform request into a `Command`
and a `Caller`, call `execute`, and send back the `Reply` it returns, written through their
`Formatter`. So every rule (who may do what, what a bad argument says, what a search shows)
lives here once, and the tests exercise it once for both platforms.

Slack passes everything after `/news` as one string, read by `parse_command`; Discord's typed
options map straight onto the same `Command`s.
"""

from __future__ import annotations

import functools
import logging
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from newsdesk.bot.formatting import Formatter
from newsdesk.bot.usage import ADMIN_COMMANDS, USAGE, command_name, command_usage, next_page
from newsdesk.digest.text import period_label
from newsdesk.feeds.admin import FeedRefused, add_feed
from newsdesk.models import Digest, Feed, Subscription
from newsdesk.query import QueryError, parse_query
from newsdesk.runtime import Runtime
from newsdesk.schedule import ScheduleError, next_fire, normalize_schedule, parse_schedule
from newsdesk.schedule import parse_timezone as check_timezone
from newsdesk.store import HIGHLIGHT_END, HIGHLIGHT_START, StoreError

log = logging.getLogger(__name__)

PAGE_SIZE = 5


class UsageError(Exception):
    """A command the user has to retype; the message says what is wrong and what is accepted."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


@dataclass(frozen=True, slots=True)
class Command:
    """One parsed request: `name` is a key of `usage.USAGE`, `args` its typed arguments."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked, and where. `is_admin` is asked only when an admin command needs it (on
    Slack it costs a users.info call)."""

    platform: str  # slack | discord
    channel: str
    user: str
    is_admin: Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: text (already formatted), and for a preview the digest to render."""

    text: str
    ephemeral: bool = True
    digest: Digest | None = None


# --- parsing (Slack's text) ----------------------------------------------------------------------


def parse_command(text: str) -> Command:
    """Read the text after `/news`; UsageError for anything that is not a command."""
    text = text.strip()
    if not text:
        return Command("help")
    head, _, rest = text.partition(" ")
    head = head.lower()
    rest = rest.strip()
    if head == "search":
        return _parse_search(rest)
    if head in ("help", "tags", "unsubscribe"):
        return Command(head)
    if head in ("digest", "feeds"):
        sub, _, rest = rest.partition(" ")
        name = f"{head} {sub.lower()}"
        if name not in USAGE:
            choices = " | ".join(k.split()[1] for k in USAGE if k.startswith(head + " "))
            raise UsageError(f"{head} takes one of: {choices}", None)
        return _parse_subcommand(name, rest.strip())
    if head == "subscribe":
        return Command("subscribe", _parse_subscribe(_split(rest, "subscribe")))
    raise UsageError(f"there is no command {head!r}", None)


def _split(text: str, command: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise UsageError("a quote is not closed", command) from None


def _parse_search(rest: str) -> Command:
    page = 1
    match = re.search(r"(?:^|\s)page:(\S*)", rest)
    if match:
        if not match.group(1).isdigit() or int(match.group(1)) < 1:
            raise UsageError(f"page:{match.group(1)} is not a page number", "search")
        page = int(match.group(1))
        rest = (rest[: match.start()] + rest[match.end() :]).strip()
    if not rest:
        raise UsageError("say what to search for", "search")
    return Command("search", {"query": rest, "page": page})


def _parse_subcommand(name: str, rest: str) -> Command:
    words = _split(rest, name)
    if name == "feeds add":
        if not words:
            raise UsageError("give the feed's URL", name)
        return Command(name, {"url": words[0], "tags": words[1:]})
    if name in ("feeds remove", "feeds pause", "feeds resume"):
        if len(words) != 1:
            raise UsageError("give one feed's id (see feeds list) or URL", name)
        return Command(name, {"feed": words[0]})
    if words:
        raise UsageError(f"{name} takes no arguments", name)
    return Command(name)


def _parse_subscribe(words: list[str]) -> dict[str, Any]:
    args: dict[str, Any] = {"tags": [], "exclude": [], "schedule": None, "timezone": None}
    args["language"] = None
    keys = {"schedule": "schedule", "tz": "timezone", "timezone": "timezone", "lang": "language"}
    for word in words:
        key, colon, value = word.partition(":")
        if colon and key.lower() in keys:
            args[keys[key.lower()]] = value.strip()
        elif word.startswith("-") and len(word) > 1:
            args["exclude"].append(word[1:])
        else:
            args["tags"].append(word)
    return args


# --- running -------------------------------------------------------------------------------------


async def execute(runtime: Runtime, caller: Caller, command: Command, fmt: Formatter) -> Reply:
    """Run a command and say how it went; never raises for anything a user can do wrong."""
    if command.name in ADMIN_COMMANDS and not await caller.is_admin():
        return Reply(_refusal(runtime, caller, command, fmt))
    handler = _HANDLERS[command.name]
    try:
        return await handler(runtime, caller, command.args, fmt)
    except UsageError as exc:
        return Reply(_usage_reply(str(exc), exc.command or command.name, fmt))
    except (StoreError, QueryError, ScheduleError) as exc:
        return Reply(f"⚠️ {fmt.text(str(exc))}")


def usage_error_reply(error: UsageError, fmt: Formatter) -> Reply:
    """For adapters that parse text: a parse error, said the same way as every other."""
    return Reply(_usage_reply(str(error), error.command, fmt))


def _usage_reply(message: str, command: str | None, fmt: Formatter) -> str:
    text = f"⚠️ {fmt.text(message)}."
    if command in USAGE:
        text += f"\nUsage: {fmt.code(command_usage(command, fmt.platform))}"
    else:
        text += f" {fmt.code('/news help')} lists the commands."
    return text


def _refusal(runtime: Runtime, caller: Caller, command: Command, fmt: Formatter) -> str:
    who = (
        "workspace admins and owners (or users in the config's [slack].admin_users)"
        if caller.platform == "slack"
        else "members with Manage Server (or a role in the config's [discord].admin_roles)"
    )
    return (
        f"Sorry, {fmt.code(command_name(command.name, caller.platform))} is for newsdesk"
        f" admins: {who}."
        " Nothing was changed."
    )


async def _help(runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter) -> Reply:
    everyone = [k for k in USAGE if k not in ADMIN_COMMANDS]
    admin = [k for k in USAGE if k in ADMIN_COMMANDS]
    lines = [fmt.bold("newsdesk: AI-industry news, searchable, with a digest per channel")]
    lines += [f"{fmt.code(command_usage(k, fmt.platform))}: {USAGE[k][1]}" for k in everyone]
    lines.append(fmt.bold("For admins"))
    lines += [f"{fmt.code(command_usage(k, fmt.platform))}: {USAGE[k][1]}" for k in admin]
    lines.append(_channel_status(runtime, caller, fmt))
    return Reply("\n".join(lines))


def _channel_status(runtime: Runtime, caller: Caller, fmt: Formatter) -> str:
    subscription = runtime.store.channel_subscription(caller.platform, caller.channel)
    if subscription is None:
        return (
            "This channel gets no digest; an admin can start one with"
            f" {fmt.code(command_name('subscribe', caller.platform))}."
        )
    return "This channel gets " + _describe_subscription(subscription, runtime.clock(), fmt) + "."


def _describe_subscription(subscription: Subscription, now: datetime, fmt: Formatter) -> str:
    tags = ", ".join(subscription.include_tags) or "all tags"
    if subscription.exclude_tags:
        tags += " except " + ", ".join(subscription.exclude_tags)
    when = f"{subscription.schedule} ({subscription.timezone})"
    try:
        upcoming = next_fire(parse_schedule(subscription.schedule, subscription.timezone), now)
    except ScheduleError:
        upcoming = None
    text = f"a digest of {fmt.text(tags)} on {fmt.code(when)}"
    if upcoming is not None:
        text += f", next {upcoming.strftime('%a %d %b %H:%M %Z')}"
    if subscription.language != "en":
        text += f", summaries in {fmt.code(subscription.language)}"
    return text


async def _search(runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter) -> Reply:
    now = runtime.clock()
    query = parse_query(args["query"], now)
    page = args.get("page", 1)
    hits = runtime.store.search(query, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, now=now)
    if not hits:
        more = "" if page == 1 else f" on page {page}"
        return Reply(
            f"No stories match {fmt.text(args['query'])}{more}."
            " Fewer words, or a wider since:, may find some."
        )
    lines = [f"Stories matching {fmt.bold(args['query'])}, page {page}:"]
    for number, hit in enumerate(hits[:PAGE_SIZE], start=(page - 1) * PAGE_SIZE + 1):
        story = hit.story
        meta = " · ".join([story.published.strftime("%d %b %Y"), *story.sources[:2]])
        lines.append(f"{number}. {fmt.link(story.url, story.title)}  {fmt.text(meta)}")
        snippet = hit.snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")
        if snippet:
            lines.append(fmt.quote(snippet[:300]))
    if len(hits) > PAGE_SIZE:
        more = next_page(args["query"], page + 1, fmt.platform)
        lines.append(f"More: {fmt.code(more)}")
    return Reply("\n".join(lines))


async def _tags(runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter) -> Reply:
    counts = runtime.store.tag_counts()
    subscribe = command_name("subscribe", caller.platform)
    lines = [fmt.bold("Tags") + f" (use them in search with tag:name, and in {subscribe})"]
    for tag in runtime.pipeline.taxonomy.tags:
        count = counts.get(tag.name, 0)
        lines.append(f"{tag.emoji} {fmt.code(tag.name)} {fmt.text(tag.label)}: {count} stories")
    return Reply("\n".join(lines))


async def _digest_preview(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter
) -> Reply:
    subscription = runtime.store.channel_subscription(caller.platform, caller.channel)
    if subscription is None:
        return Reply(
            "This channel has no digest yet; an admin can start one with"
            f" {fmt.code(command_name('subscribe', caller.platform))}."
        )
    digest = await runtime.preview(subscription)
    return Reply(f"Preview of the next digest for {fmt.text(subscription.name)}:", digest=digest)


async def _digest_now(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter
) -> Reply:
    subscription = runtime.store.channel_subscription(caller.platform, caller.channel)
    if subscription is None:
        return Reply(
            "This channel has no digest to send; start one with"
            f" {fmt.code(command_name('subscribe', caller.platform))}."
        )
    result = await runtime.send_digest(subscription)
    digest = result.digest
    period = period_label(digest.start, digest.end)
    if result.error:
        return Reply(f"⚠️ The digest for {period} could not be sent: {fmt.text(result.error)}")
    return Reply(
        f"Sent the digest for {period} ({len(digest.messages)} message(s))."
        " The next scheduled one starts from here."
    )


async def _feeds_list(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter
) -> Reply:
    feeds = runtime.store.list_feeds()
    if not feeds:
        add = fmt.code(command_usage("feeds add", fmt.platform))
        return Reply(f"No feeds yet. Add one with {add}.")
    lines = [fmt.bold(f"{len(feeds)} feeds")]
    for feed in feeds:
        lines.append(_feed_line(feed, fmt))
    return Reply("\n".join(lines))


def _feed_line(feed: Feed, fmt: Formatter) -> str:
    state = "paused" if feed.paused else "ok"
    if feed.error_count:
        state = f"failing ×{feed.error_count}: {feed.last_error or ''}"[:120]
    tags = f" [{', '.join(feed.tags)}]" if feed.tags else ""
    title = feed.title or feed.url
    return (
        f"{fmt.code(str(feed.id))} {fmt.link(feed.url, title)}{fmt.text(tags)}"
        f" · {feed.item_count} items · {fmt.text(state)}"
    )


async def _feeds_add(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter
) -> Reply:
    tags = tuple(args.get("tags") or ())
    _check_tags(runtime, tags, "feeds add")
    try:
        added = await add_feed(
            runtime.store,
            runtime.fetcher,
            args["url"],
            tags=tags,
            source="chat",
            pipeline=runtime.pipeline,
        )
    except FeedRefused as exc:
        return Reply(f"⚠️ {fmt.text(str(exc))}")
    feed = added.feed
    log.info("feed %s added from %s by %s", feed.url, caller.platform, caller.user)
    return Reply(
        f"Now following {fmt.link(feed.url, feed.title or feed.url)} (id {feed.id}):"
        f" {added.outcome.counts.new} items stored as archive; new ones will reach digests.",
        ephemeral=False,
    )


async def _feeds_remove(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter
) -> Reply:
    feed = runtime.store.find_feed(args["feed"])
    removed = runtime.store.remove_feed(feed.id)
    log.info("feed %s removed from %s by %s", feed.url, caller.platform, caller.user)
    return Reply(
        f"Stopped following {fmt.text(feed.title or feed.url)}; {removed} items deleted.",
        ephemeral=False,
    )


async def _feeds_pause_or_resume(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter, *, paused: bool
) -> Reply:
    feed = runtime.store.find_feed(args["feed"])
    runtime.store.set_paused(feed.id, paused)
    name = fmt.text(feed.title or feed.url)
    if paused:
        return Reply(f"Paused {name}; its items stay searchable.")
    return Reply(f"Resumed {name}; it is polled again.")


async def _subscribe(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter
) -> Reply:
    existing = runtime.store.channel_subscription(caller.platform, caller.channel)
    if existing is not None and existing.source == "config":
        return Reply(
            f"This channel's digest ({fmt.text(existing.name)}) is set in the config file;"
            " change it there (newsdesk picks it up on restart)."
        )
    include = tuple(dict.fromkeys(args.get("tags") or ()))
    exclude = tuple(dict.fromkeys(args.get("exclude") or ()))
    _check_tags(runtime, include + exclude, "subscribe")
    bot = runtime.settings.bot
    base = existing or Subscription(
        name=f"{caller.platform}-{caller.channel}",
        platform=caller.platform,
        channel=caller.channel,
        max_stories=runtime.settings.digest.max_stories,
        max_per_section=runtime.settings.digest.max_per_section,
        schedule=bot.schedule,
        timezone=bot.timezone,
        source="chat",
    )
    schedule = base.schedule
    if args.get("schedule"):
        try:
            schedule = normalize_schedule(args["schedule"])
        except ScheduleError as exc:
            raise UsageError(str(exc), "subscribe") from None
    timezone = args.get("timezone") or base.timezone
    try:
        check_timezone(timezone)
    except ScheduleError as exc:
        raise UsageError(str(exc), "subscribe") from None
    language = args.get("language") or base.language
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        raise UsageError(
            f"lang:{language} is not a language code such as en, zh or ja", "subscribe"
        )
    subscription = replace(
        base,
        include_tags=include,
        exclude_tags=exclude,
        schedule=schedule,
        timezone=timezone,
        language=language,
        source="chat",
    )
    runtime.store.save_subscription(subscription, now=runtime.clock())
    runtime.subscriptions_changed()
    verb = "Updated" if existing else "Subscribed"
    return Reply(
        f"{verb}: this channel gets {_describe_subscription(subscription, runtime.clock(), fmt)}.",
        ephemeral=False,
    )


async def _unsubscribe(
    runtime: Runtime, caller: Caller, args: dict[str, Any], fmt: Formatter
) -> Reply:
    existing = runtime.store.channel_subscription(caller.platform, caller.channel)
    if existing is None:
        return Reply("This channel has no digest to stop.")
    if existing.source == "config":
        return Reply(
            f"This channel's digest ({fmt.text(existing.name)}) is set in the config file;"
            " remove it there."
        )
    runtime.store.deactivate_subscription(existing.name, now=runtime.clock())
    runtime.subscriptions_changed()
    return Reply(
        "Unsubscribed: this channel gets no more digests. The archive stays searchable.",
        ephemeral=False,
    )


def _check_tags(runtime: Runtime, tags: tuple[str, ...], command: str) -> None:
    known = {tag.name for tag in runtime.pipeline.taxonomy.tags}
    known |= {tag for feed in runtime.settings.feeds for tag in feed.tags}
    unknown = [tag for tag in tags if tag not in known]
    if unknown:
        raise UsageError(
            f"unknown tag {', '.join(unknown)}; /news tags lists them"
            f" (e.g. {', '.join(sorted(known)[:5])})",
            command,
        )


_HANDLERS: dict[str, Callable[..., Awaitable[Reply]]] = {
    "help": _help,
    "search": _search,
    "tags": _tags,
    "digest preview": _digest_preview,
    "digest now": _digest_now,
    "feeds list": _feeds_list,
    "feeds add": _feeds_add,
    "feeds remove": _feeds_remove,
    "feeds pause": functools.partial(_feeds_pause_or_resume, paused=True),
    "feeds resume": functools.partial(_feeds_pause_or_resume, paused=False),
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
}
