"""Settings: a TOML file validated into typed objects, with errors that name the key.

A bot that runs unattended for months must refuse a bad config at start, not fail at 3 a.m.
on the first poll. So every key is typed, unknown keys are errors (a typo is not silently
ignored), and each error names its key path (`feeds[2].url`) and what is wrong with it.
Secrets never live here: the config only names environment variables that hold them.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newsdesk import __version__

DEFAULT_CONFIG_NAMES = ("newsdesk.toml",)
CONFIG_ENV = "NEWSDESK_CONFIG"
DEFAULT_USER_AGENT = f"newsdesk/{__version__} (+https://github.com/newsdesk/newsdesk; feed reader)"

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]


class ConfigError(Exception):
    """A config that cannot be used; `problems` holds one `key.path: what is wrong` per line."""

    kind = "config"

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def __str__(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"invalid {self.kind} {self.source}:\n{lines}"


class _Section(BaseModel):
    # strict: TOML already has types, so "60" for a number is a mistake worth reporting.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StoreSettings(_Section):
    path: str = "newsdesk.sqlite"


class FetchSettings(_Section):
    interval_minutes: PositiveInt = 60
    min_interval_minutes: PositiveInt = 10
    max_interval_minutes: PositiveInt = 24 * 60
    dead_feed_interval_minutes: PositiveInt = 24 * 60
    timeout_seconds: PositiveFloat = 20.0
    total_timeout_seconds: PositiveFloat = 60.0
    max_bytes: PositiveInt = 10 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    concurrency: PositiveInt = 16
    per_host_concurrency: PositiveInt = 2
    allow_private_networks: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    summary_max_chars: Annotated[int, Field(ge=80)] = 1000

    @field_validator("max_interval_minutes")
    @classmethod
    def _max_not_below_min(cls, value: int, info: Any) -> int:
        low = info.data.get("min_interval_minutes", 1)
        if value < low:
            raise ValueError(f"must be at least min_interval_minutes ({low})")
        return value


class DedupConfig(_Section):
    """[dedup]: near-duplicate stories (see newsdesk.feeds.dedup.DedupSettings)."""

    window_days: Annotated[int, Field(ge=0, le=90)] = 7
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.3
    num_perm: Annotated[int, Field(ge=8, le=512, multiple_of=2)] = 128
    bands: Annotated[int, Field(ge=2, le=256, multiple_of=2)] = 64

    @field_validator("bands")
    @classmethod
    def _bands_divide_signature(cls, value: int, info: Any) -> int:
        perm = info.data.get("num_perm", 128)
        if (perm // 2) % (value // 2):
            raise ValueError(f"num_perm / 2 ({perm // 2}) must be divisible by bands / 2")
        return value


class TagsConfig(_Section):
    """[tags]: the taxonomy file; empty means the built-in AI-industry taxonomy."""

    taxonomy: str = ""


class DigestSettings(_Section):
    """[digest]: what a digest holds unless a subscription says otherwise."""

    title: Annotated[str, Field(min_length=1, max_length=100)] = "AI industry digest"
    max_stories: Annotated[int, Field(ge=1, le=200)] = 20
    max_per_section: Annotated[int, Field(ge=1, le=50)] = 5
    # The first digest of a subscription covers this many days; later ones start where the
    # last one ended.
    period_days: Annotated[int, Field(ge=1, le=90)] = 7
    trend_weeks: Annotated[int, Field(ge=2, le=26)] = 8
    summary_max_chars: Annotated[int, Field(ge=80, le=1000)] = 300


class SummarizerSettings(_Section):
    """[summarizer]: optional LLM summaries through any OpenAI-compatible endpoint.

    The API key is read from the environment variable named by `api_key_env`, never from
    this file; an empty name means the endpoint needs no key (a local Ollama or vLLM).
    """

    provider: Literal["none", "openai-compatible"] = "none"
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_seconds: PositiveFloat = 60.0
    max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    concurrency: Annotated[int, Field(ge=1, le=32)] = 4
    # Ask for a JSON object with `response_format`; turn off for servers that reject it.
    json_mode: bool = True
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.2
    max_output_tokens: Annotated[int, Field(ge=64, le=4096)] = 400
    # A budget per digest: past it, stories get the extractive summary.
    max_calls_per_digest: Annotated[int, Field(ge=0)] = 30
    max_input_tokens_per_digest: Annotated[int, Field(ge=0)] = 60_000
    why_max_chars: Annotated[int, Field(ge=40, le=500)] = 200
    # One more call per digest for an opening line about the week.
    intro: bool = False

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        return _env_name(value)

    def api_key(self) -> str | None:
        """The key from the environment, or None when none is needed or it is not set."""
        return secret_from_env(self.api_key_env)


class SubscriptionSettings(_Section):
    """One [[subscriptions]] table: where a digest goes, when, with which stories.

    A digest goes to a Slack or Discord channel (by ID, through the bot), to an incoming
    webhook (its URL read from the environment variable named by `webhook_env`: a webhook URL
    is a credential), to a Markdown file (`path`), or to the terminal.
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    platform: Literal["slack", "discord", "markdown", "terminal", "file"] = "terminal"
    channel: str = ""
    webhook_env: str = ""
    path: str = ""
    include_tags: list[str] = []
    exclude_tags: list[str] = []
    schedule: str | None = None  # cron; default [bot].schedule
    timezone: str | None = None  # IANA; default [bot].timezone
    language: str = "en"
    max_stories: Annotated[int, Field(ge=1, le=200)] | None = None
    max_per_section: Annotated[int, Field(ge=1, le=50)] | None = None
    llm_summaries: bool = True

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
            raise ValueError("must be a language code such as en, zh, zh-TW or ja")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else _checked_schedule(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _checked_timezone(value)

    @field_validator("webhook_env")
    @classmethod
    def _webhook_env_name(cls, value: str) -> str:
        return _env_name(value)

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str, info: Any) -> str:
        platform = info.data.get("platform")
        return check_channel_id(platform, value) if value and platform else value

    @model_validator(mode="after")
    def _destination(self) -> SubscriptionSettings:
        if self.platform in ("slack", "discord"):
            if bool(self.channel) == bool(self.webhook_env):
                raise ValueError(
                    f"a {self.platform} subscription needs either `channel` (a channel ID) or"
                    " `webhook_env` (the environment variable holding an incoming-webhook URL)"
                )
        elif self.platform == "file" and not self.path:
            raise ValueError("a file subscription needs `path`, the Markdown file to append to")
        return self


class FeedSettings(_Section):
    url: str
    title: str | None = None
    tags: list[str] = []
    interval_minutes: PositiveInt | None = None
    preferred: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from newsdesk.feeds.canonical import canonical_url

        if canonical_url(value) is None:
            raise ValueError("must be an http:// or https:// URL")
        return value.strip()


class BotSettings(_Section):
    """[bot]: how `newsdesk run` schedules, polls and delivers."""

    # The default schedule and zone of subscriptions that set none (also those made in chat).
    schedule: str = "0 9 * * mon"
    timezone: str = "UTC"
    # A digest missed while the bot was down is still sent if it is back within this many hours.
    catch_up_hours: Annotated[int, Field(ge=0, le=24 * 14)] = 24
    poll_seconds: Annotated[int, Field(ge=5, le=3600)] = 60
    delivery_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    retry_base_seconds: PositiveFloat = 2.0
    # A platform asking for a longer pause than this fails the attempt instead of stalling it.
    max_retry_after_seconds: PositiveFloat = 900.0
    # Subscriptions hear once about a feed that failed this many polls in a row.
    report_failing_feed_after: PositiveInt = 10

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _checked_schedule(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _checked_timezone(value)


class SlackSettings(_Section):
    """[slack]: the Slack app. Tokens come from the environment variables named here."""

    mode: Literal["socket", "http"] = "socket"
    bot_token_env: str = "SLACK_BOT_TOKEN"
    app_token_env: str = "SLACK_APP_TOKEN"  # Socket Mode only
    signing_secret_env: str = "SLACK_SIGNING_SECRET"  # HTTP mode only
    http_host: str = "0.0.0.0"
    http_port: Annotated[int, Field(ge=1, le=65535)] = 3000
    command: Annotated[str, Field(pattern=r"^/[a-z0-9_-]{1,31}$")] = "/news"
    # Besides workspace admins and owners, these user IDs may run admin commands.
    admin_users: list[Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]] = []

    @field_validator("bot_token_env", "app_token_env", "signing_secret_env")
    @classmethod
    def _env_names(cls, value: str) -> str:
        return _env_name(value)


class DiscordSettings(_Section):
    """[discord]: the Discord bot. The token comes from the environment variable named here."""

    token_env: str = "DISCORD_TOKEN"
    # Sync the slash commands to these guilds (instant; for development) instead of globally
    # (which Discord may take up to an hour to show everywhere).
    guilds: list[Annotated[str, Field(pattern=r"^[0-9]{15,21}$")]] = []
    # Besides members with Manage Server, members with one of these role IDs are admins.
    admin_roles: list[Annotated[str, Field(pattern=r"^[0-9]{15,21}$")]] = []
    # Used by `newsdesk discord-invite`; read from Discord with the token when empty.
    application_id: Annotated[str, Field(pattern=r"^([0-9]{15,21})?$")] = ""

    @field_validator("token_env")
    @classmethod
    def _env_names(cls, value: str) -> str:
        return _env_name(value)

    def token(self) -> str | None:
        return secret_from_env(self.token_env)


class Settings(_Section):
    store: StoreSettings = StoreSettings()
    fetch: FetchSettings = FetchSettings()
    dedup: DedupConfig = DedupConfig()
    tags: TagsConfig = TagsConfig()
    digest: DigestSettings = DigestSettings()
    summarizer: SummarizerSettings = SummarizerSettings()
    bot: BotSettings = BotSettings()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    feeds: list[FeedSettings] = []
    subscriptions: list[SubscriptionSettings] = []

    @field_validator("subscriptions")
    @classmethod
    def _unique_names(cls, subs: list[SubscriptionSettings]) -> list[SubscriptionSettings]:
        names = [sub.name for sub in subs]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"the subscription name {name!r} is used twice")
        return subs

    @field_validator("feeds")
    @classmethod
    def _unique_urls(cls, feeds: list[FeedSettings]) -> list[FeedSettings]:
        seen: set[str] = set()
        for feed in feeds:
            if feed.url in seen:
                raise ValueError(f"{feed.url} is listed twice")
            seen.add(feed.url)
        return feeds


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load and validate a config file; with no path, use the first one found or the defaults.

    Relative paths (`store.path`, `tags.taxonomy`, a subscription's `path`) are taken relative
    to the config file, so the bot finds its files whatever directory it is started from.
    """
    config_path = find_config(path)
    if config_path is None:
        return Settings()
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(config_path), ["file not found"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(config_path), [f"not valid TOML: {exc}"]) from None
    settings = settings_from_dict(raw, source=str(config_path))
    store_path = Path(settings.store.path).expanduser()
    if not store_path.is_absolute():
        store_path = config_path.parent / store_path
    update: dict[str, Any] = {"store": StoreSettings(path=str(store_path))}
    taxonomy = Path(settings.tags.taxonomy).expanduser()
    if settings.tags.taxonomy and not taxonomy.is_absolute():
        update["tags"] = TagsConfig(taxonomy=str(config_path.parent / taxonomy))
    update["subscriptions"] = [
        sub.model_copy(update={"path": str(config_path.parent / Path(sub.path).expanduser())})
        if sub.path and not Path(sub.path).expanduser().is_absolute()
        else sub
        for sub in settings.subscriptions
    ]
    return settings.model_copy(update=update)


def find_config(path: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read: the one given, else $NEWSDESK_CONFIG, else ./newsdesk.toml."""
    if path is not None:
        return Path(path)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    for name in DEFAULT_CONFIG_NAMES:
        if Path(name).is_file():
            return Path(name)
    return None


def settings_from_dict(raw: dict[str, Any], source: str = "<config>") -> Settings:
    """Validate already-parsed TOML; raise ConfigError listing every problem at once."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(source, [describe_error(error) for error in exc.errors()]) from None


def describe_error(error: Any) -> str:
    """One pydantic validation error as `key.path: what is wrong (got value)`; shared with the
    taxonomy loader so both files report mistakes the same way."""
    path = _key_path(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key"
    if kind == "missing":
        return f"{path}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if error["loc"] and _never_echoed(error["loc"][-1]):
        return f"{path}: {message}"
    if isinstance(value, (str, int, float, bool)) and len(repr(value)) < 80:
        return f"{path}: {message} (got {value!r})"
    return f"{path}: {message}"


def _never_echoed(key: Any) -> bool:
    # `*_env` keys name secrets; a secret pasted there by mistake must not reach a log.
    return isinstance(key, str) and key.endswith("_env")


def _env_name(value: str) -> str:
    if value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError("must be the name of an environment variable, not the secret itself")
    return value


def secret_from_env(name: str) -> str | None:
    """A secret from the environment; None when no variable is named or it is unset or empty.

    Every secret newsdesk uses is read here, so that none of them can reach a log.
    """
    from newsdesk.logs import register_secret

    value = (os.environ.get(name) or None) if name else None
    if value is not None:
        register_secret(value)
    return value


def _checked_schedule(value: str) -> str:
    from newsdesk.schedule import ScheduleError, normalize_schedule

    try:
        return normalize_schedule(value)
    except ScheduleError as exc:
        raise ValueError(str(exc)) from None


def _checked_timezone(value: str) -> str:
    from newsdesk.schedule import ScheduleError, parse_timezone

    try:
        parse_timezone(value)
    except ScheduleError as exc:
        raise ValueError(str(exc)) from None
    return value


def check_channel_id(platform: str, channel: str) -> str:
    """Raise ValueError unless `channel` is a channel ID of the platform.

    IDs, not names: names change and Slack's history API only takes IDs, which the outbox
    needs to check for a message before resending it.
    """
    if platform == "slack" and not re.fullmatch(r"[CGD][A-Z0-9]{6,}", channel):
        raise ValueError(
            f"{channel!r} is not a Slack channel ID (like C0123ABCD): in Slack, open the"
            " channel's details; the ID is at the bottom of the About tab"
        )
    if platform == "discord" and not re.fullmatch(r"[0-9]{15,21}", channel):
        raise ValueError(
            f"{channel!r} is not a Discord channel ID (a long number): turn on Developer Mode"
            " in Discord's settings, then right-click the channel and Copy Channel ID"
        )
    return channel


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"
