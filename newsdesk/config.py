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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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
        if value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("must be the name of an environment variable, not the key itself")
        return value

    def api_key(self) -> str | None:
        """The key from the environment, or None when none is needed or it is not set."""
        return os.environ.get(self.api_key_env) or None if self.api_key_env else None


class SubscriptionSettings(_Section):
    """One [[subscriptions]] table: a channel, its tag filter and its digest options."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    platform: Literal["slack", "discord", "markdown", "terminal"] = "terminal"
    channel: str = ""
    include_tags: list[str] = []
    exclude_tags: list[str] = []
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


class Settings(_Section):
    store: StoreSettings = StoreSettings()
    fetch: FetchSettings = FetchSettings()
    dedup: DedupConfig = DedupConfig()
    tags: TagsConfig = TagsConfig()
    digest: DigestSettings = DigestSettings()
    summarizer: SummarizerSettings = SummarizerSettings()
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

    A relative `store.path` is taken relative to the config file, so the bot finds its database
    whatever directory it is started from.
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
    if error["loc"] and error["loc"][-1] in _NEVER_ECHOED:
        return f"{path}: {message}"  # a key pasted in by mistake must not reach a log
    if isinstance(value, (str, int, float, bool)) and len(repr(value)) < 80:
        return f"{path}: {message} (got {value!r})"
    return f"{path}: {message}"


_NEVER_ECHOED = frozenset({"api_key_env"})


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"
