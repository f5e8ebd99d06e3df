"""The `newsdesk` command line: thin wrappers that load settings, call one function, print.

Every command opens the store, does one thing through the same functions the bot uses, and
prints with rich. Feed text is untrusted, so it is always printed as plain `Text`, never as rich
markup (a title like "[link=…]" must not become a link in someone's terminal).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from newsdesk import __version__
from newsdesk.config import ConfigError, Settings, find_config, load_settings

if TYPE_CHECKING:
    from newsdesk.bot.delivery import DeliveryResult
    from newsdesk.digest.compose import ComposedDigest
from newsdesk.feeds.admin import AddedFeed, FeedRefused, add_feed
from newsdesk.feeds.canonical import canonical_url
from newsdesk.feeds.fetch import Fetcher
from newsdesk.feeds.opml import OpmlError, OpmlFeed, parse_opml, to_opml
from newsdesk.feeds.poller import Pipeline, PollOutcome, poll_feeds
from newsdesk.feeds.tagging import TaxonomyError
from newsdesk.models import Digest, Feed, Story, Subscription
from newsdesk.query import QueryError, parse_moment, parse_query
from newsdesk.store import (
    DEFAULT_BUSY_TIMEOUT,
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    Store,
    StoreError,
)


class AppContext:
    """Settings and store, loaded lazily so `--help` and `check-config` need neither."""

    def __init__(
        self,
        config_path: str | None,
        db_path: str | None,
        lock_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.config_path = config_path
        self.db_path = db_path
        self.lock_timeout = lock_timeout
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @functools.cached_property
    def pipeline(self) -> Pipeline:
        try:
            return Pipeline.from_settings(self.settings)
        except TaxonomyError as exc:
            raise click.ClickException(str(exc)) from None

    @functools.cached_property
    def subscriptions(self) -> list[Subscription]:
        from newsdesk.digest.compose import subscriptions_from_settings

        try:
            source = str(find_config(self.config_path) or "<defaults>")
            return subscriptions_from_settings(self.settings, self.pipeline.taxonomy, source)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    def open_store(self) -> Store:
        path = self.db_path or self.settings.store.path
        try:
            store = Store.open(path, timeout=self.lock_timeout)
            store.sync_config_feeds(self.settings.feeds)
            store.sync_taxonomy(self.pipeline.taxonomy.tags)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
        return store


pass_app = click.make_pass_decorator(AppContext)


class _Main(click.Group):
    """The command group; a StoreError from any command (a database another process has locked,
    a full disk, …) ends it with its one-line message instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $NEWSDESK_CONFIG, else ./newsdesk.toml, else built-in defaults).",
)
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="SQLite archive to use.")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_BUSY_TIMEOUT,
    show_default=True,
    envvar="NEWSDESK_LOCK_TIMEOUT",
    help="Seconds to wait for another process (another newsdesk) to release the database"
    " before giving up.",
)
@click.version_option(__version__, prog_name="newsdesk")
@click.pass_context
def main(
    ctx: click.Context, config_path: str | None, db_path: str | None, lock_timeout: float
) -> None:
    """newsdesk: AI-industry news from feeds to deduplicated digests in Slack and Discord."""
    ctx.obj = AppContext(config_path, db_path, lock_timeout)


# --- demo --------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("newsdesk-demo.sqlite"),
    show_default=True,
    help="Where to write the demo archive (recreated on every run).",
)
@click.option("--limit", type=click.IntRange(1, 200), help="Stories in the digest (default: 20).")
@pass_app
def demo(app: AppContext, db_path: Path, limit: int | None) -> None:
    """Ingest the bundled sample feeds and print their weekly digest. No network, no tokens.

    Summaries are extractive unless the config's [summarizer] points at an LLM.
    """
    from newsdesk.demo import demo_digest, run_demo, sample_feeds

    console = Console()
    console.print(f"newsdesk {__version__} demo: {len(sample_feeds())} bundled sample feeds")
    started = time.perf_counter()
    with _progress(len(sample_feeds())) as advance:
        run = run_demo(db_path, on_done=advance)
    elapsed = time.perf_counter() - started
    console.print(_outcome_table(run.first_pass, title="First poll"))
    not_modified = sum(1 for o in run.second_pass if o.status == "not_modified")
    console.print(
        f"Second poll: {not_modified} of {len(run.second_pass)} feeds answered 304 Not Modified,"
        f" {run.bodies_downloaded_again} bodies downloaded again."
    )
    with Store.open(db_path) as store:
        counts = store.counts()
        merged = sum(1 for s in store.recent_stories(limit=10_000) if len(s.sources) > 1)
        console.print(
            f"\n{counts['items']} items from {counts['feeds']} feeds became {counts['stories']}"
            f" stories; {merged} were carried by more than one outlet and are shown once."
            f" ({elapsed:.2f} s)\n"
        )
        composed = asyncio.run(demo_digest(store, app.settings, max_stories=limit))
    console.print(
        Text("The digest of the samples' last week, as `newsdesk digest --preview` shows it:\n")
    )
    print_digest(composed.digest, "terminal")
    _report_summaries(composed)
    console.print(f"Archive: {db_path.resolve()}")


# --- fetch -------------------------------------------------------------------------------------


@main.command()
@click.option("--all", "poll_all", is_flag=True, help="Poll every unpaused feed, due or not.")
@pass_app
def fetch(app: AppContext, poll_all: bool) -> None:
    """Poll the feeds that are due once, and report what changed."""
    console = Console()
    with app.open_store() as store:
        now = datetime.now(UTC)
        feeds = [f for f in store.list_feeds() if not f.paused] if poll_all else None
        feeds = feeds if feeds is not None else store.due_feeds(now)
        if not feeds:
            console.print("No feeds are due. `newsdesk fetch --all` polls them anyway.")
            return
        started = time.perf_counter()
        with _progress(len(feeds)) as advance:
            outcomes = asyncio.run(_poll(app, store, feeds, advance))
        elapsed = time.perf_counter() - started
    console.print(_outcome_table(outcomes, title="Fetch"))
    statuses = Counter(o.status for o in outcomes)
    new_items = sum(o.counts.new for o in outcomes)
    console.print(
        f"{len(outcomes)} feeds in {elapsed:.2f} s: {new_items} new items; "
        + ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(statuses.items()))
    )


async def _poll(
    app: AppContext,
    store: Store,
    feeds: Sequence[Feed],
    on_done: Callable[[PollOutcome], None] | None = None,
) -> list[PollOutcome]:
    async with Fetcher(app.settings.fetch) as fetcher:
        return await poll_feeds(store, fetcher, feeds, pipeline=app.pipeline, on_done=on_done)


# --- feeds -------------------------------------------------------------------------------------


@main.group()
def feeds() -> None:
    """List, add, remove, pause and resume feeds; import and export OPML."""


@feeds.command("add")
@click.argument("url")
@click.option("--title", help="A display name (default: the feed's own title).")
@click.option("--tag", "tags", multiple=True, help="A default tag for the feed's items; repeat.")
@click.option("--force", is_flag=True, help="Add the feed even if it cannot be fetched now.")
@pass_app
def feeds_add(app: AppContext, url: str, title: str | None, tags: tuple[str, ...], force: bool):
    """Add a feed and store its current items as backfill (they are not announced as new)."""
    if canonical_url(url) is None:
        raise click.BadParameter("expected an http:// or https:// feed URL", param_hint="URL")

    async def add() -> AddedFeed:
        async with Fetcher(app.settings.fetch) as fetcher:
            return await add_feed(
                store, fetcher, url, title=title, tags=tags, force=force, pipeline=app.pipeline
            )

    with app.open_store() as store:
        try:
            added = asyncio.run(add())
        except FeedRefused as exc:
            hint = "(use --force to add it anyway and keep retrying)"
            raise click.ClickException(f"{exc}\n{hint}") from None
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
    feed, outcome = added.feed, added.outcome
    if outcome.status == "failed":
        message = f"Added feed {feed.id} ({feed.url}), but it failed: {outcome.error}"
    else:
        message = (
            f"Added feed {feed.id}: {feed.title or feed.url} — {outcome.counts.new} items stored"
            " as backfill."
        )
    Console().print(Text(message))


@feeds.command("list")
@pass_app
def feeds_list(app: AppContext) -> None:
    """Show every feed with its health and polling state."""
    with app.open_store() as store:
        rows = store.list_feeds()
    console = Console()
    if not rows:
        console.print("No feeds yet. Add one with `newsdesk feeds add URL`.")
        return
    table = Table(title=f"{len(rows)} feeds")
    for column in ("id", "title / url", "tags", "items", "state", "next poll"):
        table.add_column(column)
    for feed in rows:
        name = Text(feed.title or "")
        name.append(f"\n{feed.url}", style="dim")
        table.add_row(
            str(feed.id),
            name,
            Text(", ".join(feed.tags)),
            str(feed.item_count),
            _feed_state(feed),
            _when(feed.next_poll_at) if not feed.paused else "—",
        )
    console.print(table)


@feeds.command("remove")
@click.argument("feed_ref", metavar="ID_OR_URL")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def feeds_remove(app: AppContext, feed_ref: str, yes: bool) -> None:
    """Stop following a feed and delete its items from the archive."""
    with app.open_store() as store:
        feed = _find(store, feed_ref)
        if not yes:
            click.confirm(
                f"Remove {feed.title or feed.url} and its {feed.item_count} items?", abort=True
            )
        removed = store.remove_feed(feed.id)
    Console().print(Text(f"Removed feed {feed.id} ({feed.url}) and {removed} items."))


@feeds.command("pause")
@click.argument("feed_ref", metavar="ID_OR_URL")
@pass_app
def feeds_pause(app: AppContext, feed_ref: str) -> None:
    """Stop polling a feed but keep it and its items."""
    with app.open_store() as store:
        feed = _find(store, feed_ref)
        store.set_paused(feed.id, True)
    Console().print(Text(f"Paused feed {feed.id} ({feed.url})."))


@feeds.command("resume")
@click.argument("feed_ref", metavar="ID_OR_URL")
@pass_app
def feeds_resume(app: AppContext, feed_ref: str) -> None:
    """Poll a paused feed again."""
    with app.open_store() as store:
        feed = _find(store, feed_ref)
        store.set_paused(feed.id, False)
    Console().print(Text(f"Resumed feed {feed.id} ({feed.url})."))


@feeds.command("import-opml")
@click.argument("path", type=click.File("rb"))
@pass_app
def feeds_import_opml(app: AppContext, path: click.utils.LazyFile) -> None:
    """Add the feeds of an OPML file (from Feedly, Inoreader, …); folders become tags."""
    try:
        entries = parse_opml(path.read())
    except OpmlError as exc:
        raise click.ClickException(f"{path.name}: {exc}") from None
    added = skipped = 0
    with app.open_store() as store:
        for entry in entries:
            if store.get_feed(entry.url) is not None:
                skipped += 1
                continue
            store.add_feed(entry.url, title=entry.title, tags=entry.tags, source="opml")
            added += 1
    Console().print(
        f"Imported {added} feeds ({skipped} already followed). Their current items are stored"
        " as backfill on the next `newsdesk fetch`."
    )


@feeds.command("export-opml")
@click.argument("path", type=click.File("wb"), default="-")
@pass_app
def feeds_export_opml(app: AppContext, path: click.utils.LazyFile) -> None:
    """Write every feed as OPML (to PATH, or standard output)."""
    with app.open_store() as store:
        rows = store.list_feeds()
    path.write(to_opml(OpmlFeed(url=f.url, title=f.title, tags=f.tags) for f in rows))


# --- search, tags, retag ------------------------------------------------------------------


@main.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True, help="Stories per page.")
@click.option("--page", default=1, show_default=True, help="Which page of results.")
@pass_app
def search(app: AppContext, words: tuple[str, ...], limit: int, page: int) -> None:
    """Search the archive: words, "phrases", tag:NAME, source:FEED, since:7d, before:DATE.

    Quote the whole query for the shell to keep its "phrases":
    newsdesk search '"mixture of experts" tag:research since:30d'
    """
    now = datetime.now(UTC)
    try:
        query = parse_query(" ".join(words), now)
    except QueryError as exc:
        raise click.ClickException(str(exc)) from None
    with app.open_store() as store:
        hits = store.search(query, limit=limit + 1, offset=(max(page, 1) - 1) * limit, now=now)
    console = Console()
    if not hits:
        console.print("No stories match. Fewer words, or a wider since:, may find some.")
        return
    table = Table(title=f"Stories matching {' '.join(words)!r} — page {page}", show_lines=True)
    table.add_column("date", no_wrap=True)
    table.add_column("story", ratio=3)
    table.add_column("sources and tags", ratio=1)
    for hit in hits[:limit]:
        story = hit.story
        body = Text(story.title, style="bold")
        if hit.snippet:
            body.append("\n")
            body.append_text(_highlighted(hit.snippet))
        if story.url:
            body.append(f"\n{story.url}", style="dim")
        table.add_row(story.published.strftime("%Y-%m-%d"), body, _sources_and_tags(story))
    console.print(table)
    if len(hits) > limit:
        console.print(f"More results: add --page {page + 1}")


@main.command()
@pass_app
def tags(app: AppContext) -> None:
    """List the taxonomy's tags, highest priority first, with their story counts."""
    taxonomy = app.pipeline.taxonomy
    with app.open_store() as store:
        counts = store.tag_counts()
    table = Table(title="Tags")
    for column in ("tag", "label", "priority", "stories"):
        table.add_column(column, justify="right" if column in {"priority", "stories"} else "left")
    for tag in sorted(taxonomy.tags, key=lambda t: -t.priority):
        table.add_row(
            tag.name,
            Text(f"{tag.emoji} {tag.label}"),
            str(tag.priority),
            str(counts.get(tag.name, 0)),
        )
    Console().print(table)


@main.command()
@pass_app
def retag(app: AppContext) -> None:
    """Re-apply the taxonomy (after you edit it) to every item in the archive."""
    taxonomy = app.pipeline.taxonomy
    started = time.perf_counter()
    with app.open_store() as store:
        seen, changed = store.retag(taxonomy.tag)
    elapsed = time.perf_counter() - started
    Console().print(f"Retagged {seen} items in {elapsed:.2f} s: {changed} changed their tags.")


# --- digest ----------------------------------------------------------------------------------

FORMATS = ("slack", "discord", "markdown", "terminal")


@main.command()
@click.option("--preview", is_flag=True, help="Print the digest; nothing is posted or recorded.")
@click.option(
    "--send",
    is_flag=True,
    help="Deliver it now through the outbox, as /news digest now does; the next starts here.",
)
@click.option("--subscription", "subscription_name", help="Which subscription (default: first).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    help="Render as this platform would get it (default: the subscription's platform).",
)
@click.option("--since", help="Period start: 7d, 2w, 2026-11-16 (default: since the last one).")
@click.option("--until", help="Period end, exclusive (default: now).")
@click.option("--no-llm", is_flag=True, help="Extractive summaries only, whatever the config says.")
@pass_app
def digest(
    app: AppContext,
    preview: bool,
    send: bool,
    subscription_name: str | None,
    output_format: str | None,
    since: str | None,
    until: str | None,
    no_llm: bool,
) -> None:
    """Show the digest a subscription would get now (--preview): Slack and Discord as their
    JSON payloads, or Markdown, or a terminal rendering. Or send it now (--send).

    newsdesk digest --preview --subscription ai-talent --format slack --since 2026-11-16
    newsdesk digest --send --subscription ai-talent
    """
    from newsdesk.digest.compose import compose_digest, find_subscription

    if preview == send:
        raise click.UsageError("say --preview (print it) or --send (deliver it now)")
    if send:
        if output_format or since or until:
            raise click.UsageError(
                "--send delivers the subscription's next digest as it is: since the last one,"
                " in its own format; --format, --since and --until are for --preview"
            )
        _send_digest(app, subscription_name, no_llm)
        return

    now = datetime.now(UTC)
    try:
        start = parse_moment("--since", since, now) if since else None
        end = parse_moment("--until", until, now) if until else None
    except QueryError as exc:
        raise click.BadParameter(str(exc)) from None
    if start and end and start >= end:
        raise click.BadParameter("--since must be before --until")
    subscriptions = app.subscriptions
    try:
        subscription = find_subscription(subscriptions, subscription_name)
    except LookupError as exc:
        raise click.BadParameter(str(exc), param_hint="--subscription") from None
    if no_llm:
        subscription = dataclasses.replace(subscription, llm_summaries=False)
    with app.open_store() as store:
        composed = asyncio.run(
            compose_digest(
                store,
                app.settings,
                app.pipeline.taxonomy,
                subscription,
                now=now,
                start=start,
                end=end,
            )
        )
    platform = "markdown" if subscription.platform == "file" else subscription.platform
    print_digest(composed.digest, output_format or platform)
    _report_summaries(composed)


def _send_digest(app: AppContext, name: str | None, no_llm: bool) -> None:
    """Deliver a subscription's digest now, from the config or made in chat."""
    from newsdesk.app import StartupError, delivery_runtime
    from newsdesk.config import StoreSettings

    settings = app.settings
    if app.db_path:
        settings = settings.model_copy(update={"store": StoreSettings(path=app.db_path)})
    app.subscriptions  # noqa: B018 - reports a bad tag filter first

    async def send() -> tuple[Subscription, DeliveryResult]:
        source = str(find_config(app.config_path) or "<defaults>")
        async with delivery_runtime(settings, source, lock_timeout=app.lock_timeout) as runtime:
            subscriptions = runtime.subscriptions()
            if name is None:
                subscription = subscriptions[0]
            else:
                subscription = next((s for s in subscriptions if s.name == name), None)
                if subscription is None:
                    names = ", ".join(s.name for s in subscriptions)
                    raise click.BadParameter(
                        f"no subscription named {name!r}; there are: {names}",
                        param_hint="--subscription",
                    )
            if no_llm:
                subscription = dataclasses.replace(subscription, llm_summaries=False)
            return subscription, await runtime.send_digest(subscription)

    try:
        subscription, result = asyncio.run(send())
    except (StartupError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    digest = result.digest
    from newsdesk.digest.text import period_label

    period = period_label(digest.start, digest.end)
    if result.error:
        raise click.ClickException(
            f"the digest for {period} to {subscription.destination} failed: {result.error}"
        )
    click.echo(
        f"Sent {subscription.name}'s digest for {period} to {subscription.destination}"
        f" ({len(digest.messages)} message(s)).",
        err=True,
    )


def print_digest(digest: Digest, output_format: str) -> None:
    """Print a rendered digest: JSON payloads for chat platforms, text otherwise."""
    if output_format == "slack":
        from newsdesk.digest.render_slack import render_slack

        click.echo(json.dumps(render_slack(digest), ensure_ascii=False, indent=2))
    elif output_format == "discord":
        from newsdesk.digest.render_discord import render_discord

        click.echo(json.dumps(render_discord(digest), ensure_ascii=False, indent=2))
    elif output_format == "markdown":
        from newsdesk.digest.render_markdown import render_markdown

        click.echo(render_markdown(digest))
    else:
        from newsdesk.digest.render_terminal import render_terminal

        Console().print(render_terminal(digest))


def _report_summaries(composed: ComposedDigest) -> None:
    """How the summaries were made, on stderr so that piped payloads stay clean JSON."""
    report = composed.summaries
    parts = [f"{report.llm_summaries} by {composed.llm}"] if report.llm_summaries else []
    if report.llm_summaries:
        parts[0] += f" ({report.cached} cached, {report.llm_calls} calls,"
        parts[0] += f" {report.input_tokens:,} input tokens)"
    elif report.llm_calls:
        parts.append(f"{report.llm_calls} LLM calls")
    if report.extractive:
        why = []
        if report.over_budget:
            why.append(f"{report.over_budget} over the budget")
        if report.failed:
            why.append(f"{report.failed} failed")
        parts.append(f"{report.extractive} extractive" + (f" ({', '.join(why)})" if why else ""))
    if parts:
        Console(stderr=True).print(Text("Summaries: " + "; ".join(parts), style="dim"))


# --- check-config ------------------------------------------------------------------------------


@main.command("check-config")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@pass_app
def check_config(app: AppContext, path: str | None) -> None:
    """Validate a config file and say what it sets up; exit 1 with every problem if invalid."""
    from newsdesk.digest.compose import subscriptions_from_settings

    target = find_config(path or app.config_path)
    try:
        settings = load_settings(target)
        taxonomy = Pipeline.from_settings(settings).taxonomy
        subscriptions = subscriptions_from_settings(settings, taxonomy, source=str(target))
    except ConfigError as exc:  # the taxonomy's errors are ConfigErrors too
        raise click.ClickException(str(exc)) from None
    if target is None:
        click.echo("No config file found; using the built-in defaults.")
    else:
        click.echo(f"{target}: OK")
    click.echo(f"  database: {settings.store.path}")
    click.echo(f"  feeds: {len(settings.feeds)}")
    click.echo(
        f"  polling: every {settings.fetch.interval_minutes} min,"
        f" {settings.fetch.concurrency} at once ({settings.fetch.per_host_concurrency} per host)"
    )
    if settings.fetch.allow_private_networks:
        click.echo("  warning: fetch.allow_private_networks is on: feeds may reach local addresses")
    click.echo(f"  taxonomy: {taxonomy.source}, {len(taxonomy.tags)} tags")
    for sub in subscriptions:
        tags = f", tags {' '.join(sub.include_tags)}" if sub.include_tags else ""
        tags += f", not {' '.join(sub.exclude_tags)}" if sub.exclude_tags else ""
        click.echo(
            f"  subscription {sub.name}: {sub.destination}{tags}, in {sub.language},"
            f" {sub.schedule} ({sub.timezone})"
        )
        if sub.webhook_env and not os.environ.get(sub.webhook_env):
            click.echo(f"  warning: {sub.webhook_env} (the webhook URL of {sub.name}) is not set")
    _report_platforms(settings, subscriptions)
    llm = settings.summarizer
    if llm.provider == "none":
        click.echo("  summaries: extractive (no [summarizer] provider)")
    else:
        click.echo(f"  summaries: {llm.model} at {llm.base_url}")
        if llm.api_key_env and llm.api_key() is None:
            click.echo(
                f"  warning: summarizer.api_key_env names {llm.api_key_env}, which is not set:"
                " summaries will be extractive"
            )


def _report_platforms(settings: Settings, subscriptions: Sequence[Subscription]) -> None:
    """Which chat platforms `newsdesk run` would start, and what is missing for the others."""
    slack, discord = settings.slack, settings.discord
    needs = {"slack": False, "discord": False}
    for sub in subscriptions:
        if sub.platform in needs and sub.channel:
            needs[sub.platform] = True
    if os.environ.get(slack.bot_token_env):
        second = slack.app_token_env if slack.mode == "socket" else slack.signing_secret_env
        state = "ready" if os.environ.get(second) else f"warning: {second} is not set"
        click.echo(f"  slack: {slack.mode} mode, {state}")
    elif needs["slack"]:
        click.echo(f"  warning: a subscription posts to Slack but {slack.bot_token_env} is not set")
    if os.environ.get(discord.token_env):
        where = f"guilds {', '.join(discord.guilds)}" if discord.guilds else "global commands"
        click.echo(f"  discord: ready, {where}")
    elif needs["discord"]:
        click.echo(f"  warning: a subscription posts to Discord but {discord.token_env} is not set")


# --- the bot -----------------------------------------------------------------------------------


@main.command()
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail, scheduler included.")
@pass_app
def run(app: AppContext, verbose: bool) -> None:
    """Run the bot: poll feeds, send digests on schedule, serve /news on Slack and Discord.

    Slack starts when $SLACK_BOT_TOKEN is set (with $SLACK_APP_TOKEN for Socket Mode, or
    $SLACK_SIGNING_SECRET with [slack] mode = "http"); Discord when $DISCORD_TOKEN is set. With
    neither, digests go to webhooks, files and the terminal. Stop with Ctrl-C or SIGTERM.
    """
    import logging

    from newsdesk.app import App, StartupError
    from newsdesk.config import StoreSettings

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # A line per poll tick and job run is noise in a long-running log; and httpx logs every
    # request's URL, which for an incoming webhook is a secret, so it stays quiet even with -v.
    for name in ("apscheduler", "discord", "slack_bolt", "slack_sdk", "aiohttp"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = app.settings
    if app.db_path:
        settings = settings.model_copy(update={"store": StoreSettings(path=app.db_path)})
    app.subscriptions  # noqa: B018 - reports a bad tag filter before anything starts
    source = str(find_config(app.config_path) or "<defaults>")
    try:
        asyncio.run(App(settings, config_source=source, lock_timeout=app.lock_timeout).run())
    except (StartupError, StoreError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        pass


@main.command("discord-invite")
@pass_app
def discord_invite(app: AppContext) -> None:
    """Print the URL that adds the bot to a Discord server, with the permissions it needs.

    Uses [discord].application_id, or asks Discord for it with $DISCORD_TOKEN.
    """
    from newsdesk.bot.discord_app import invite_url

    config = app.settings.discord
    application_id = config.application_id
    if not application_id:
        token = config.token()
        if token is None:
            raise click.ClickException(
                f"set [discord].application_id in the config (Developer Portal → your app →"
                f" General Information → Application ID), or {config.token_env}"
            )
        application_id = asyncio.run(_discord_application_id(token))
    click.echo(invite_url(application_id))
    click.echo(
        "Open it, pick the server, and authorize: the bot gets View Channel, Send Messages and"
        " Embed Links, and the /news and /news-admin commands.",
        err=True,
    )


async def _discord_application_id(token: str) -> str:
    import discord
    from discord.http import HTTPClient

    http = HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(token)
        return str((await http.application_info())["id"])
    except discord.LoginFailure:
        raise click.ClickException("Discord refused the token") from None
    finally:
        await http.close()


@main.command()
@pass_app
def subscriptions(app: AppContext) -> None:
    """List subscriptions (from the config and from chat) with their last digests."""
    from newsdesk.schedule import ScheduleError, next_fire, parse_schedule

    with app.open_store() as store:
        store.sync_config_subscriptions(app.subscriptions)
        table = Table(title="Subscriptions")
        for column in ("name", "from", "goes to", "tags", "schedule", "next", "last digest"):
            table.add_column(column)
        now = datetime.now(UTC)
        for sub in store.subscriptions():
            try:
                upcoming = next_fire(parse_schedule(sub.schedule, sub.timezone), now)
            except ScheduleError:
                upcoming = None
            history = store.digest_history(sub.name, limit=1)
            last = "never"
            if history:
                digest = history[0]
                last = f"{digest.state} {_when(digest.end)}"
                if digest.state == "failed" and digest.last_error:
                    last += f": {digest.last_error}"
            tags = " ".join(sub.include_tags) or "all"
            tags += "".join(f" -{tag}" for tag in sub.exclude_tags)
            table.add_row(
                Text(sub.name),
                sub.source,
                Text(sub.destination),
                Text(tags),
                f"{sub.schedule} {sub.timezone}",
                upcoming.strftime("%a %Y-%m-%d %H:%M %Z") if upcoming else "-",
                Text(last),
            )
    Console().print(table)


# --- helpers -----------------------------------------------------------------------------------


def _find(store: Store, ref: str) -> Feed:
    try:
        return store.find_feed(ref)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _progress(total: int) -> Iterator[Callable[[PollOutcome], None]]:
    """A progress bar on stderr (piped stdout stays clean); silent when stderr is no terminal.

    Yields the callback that advances it, to pass as `poll_feeds(on_done=...)`.
    """
    columns = (TextColumn("polling feeds"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(
        *columns,
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("fetch", total=total)
        yield lambda _outcome: progress.advance(task)


_STATUS_ORDER = {"new": 0, "updated": 1, "unchanged": 2, "not_modified": 3, "failed": 4}
_STATUS_STYLE = {"new": "green", "updated": "cyan", "failed": "red"}


def _outcome_table(outcomes: Sequence[PollOutcome], title: str) -> Table:
    table = Table(title=title)
    for column in ("feed", "result", "new", "updated", "unchanged", "next poll"):
        table.add_column(column, justify="right" if column in {"new", "updated"} else "left")
    for outcome in sorted(outcomes, key=lambda o: (_STATUS_ORDER[o.status], o.feed.id)):
        result = Text(outcome.status.replace("_", " "), style=_STATUS_STYLE.get(outcome.status, ""))
        if outcome.error:
            result.append(f": {outcome.error}", style="dim")
        table.add_row(
            Text(outcome.feed.title or outcome.feed.url),
            result,
            str(outcome.counts.new),
            str(outcome.counts.updated),
            str(outcome.counts.unchanged),
            _when(outcome.next_poll_at),
        )
    return table


def _sources_and_tags(story: Story) -> Text:
    text = Text(story.sources[0] if story.sources else "")
    if len(story.sources) > 1:
        text.append(f"\nalso in: {', '.join(story.sources[1:])}", style="green")
    if story.tags:
        text.append(f"\n{' '.join('#' + tag for tag in story.tags)}", style="cyan")
    return text


def _highlighted(snippet: str) -> Text:
    """A search snippet with its matches in bold (the store marks them with control chars)."""
    text = Text()
    for i, part in enumerate(re.split(f"[{HIGHLIGHT_START}{HIGHLIGHT_END}]", snippet)):
        text.append(part, style="bold yellow" if i % 2 else "")
    return text


def _feed_state(feed: Feed) -> Text:
    if feed.paused:
        return Text("paused", style="yellow")
    if feed.error_count:
        return Text(f"failing ×{feed.error_count}: {feed.last_error}", style="red")
    if feed.last_success_at is None:
        return Text("not polled yet", style="dim")
    state = Text(f"ok {_when(feed.last_success_at)}", style="green")
    if feed.last_error:
        state.append(f"\n{feed.last_error}", style="dim")
    return state


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
