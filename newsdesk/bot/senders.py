"""Transports: how one rendered message reaches one destination, and what the platform said.

Each sender turns its platform's errors into one exception, :class:`DeliveryError`, that says
whether trying again can help (`permanent`) and how long the platform asked us to wait
(`retry_after`). The outbox (`newsdesk.bot.delivery`) owns retries and bookkeeping; senders
send exactly once per call, so their clients are built without retry handlers of their own
(slack_sdk's default handler resends a chat.postMessage whose connection dropped, which is
how a message gets posted twice).

Each message carries a key (`nd<digest>-<position>`) so a restarted delivery can tell whether
the platform already has it: Slack keeps it in message metadata, which `find` reads back from
the channel's history; Discord takes it as a `nonce` with `enforce_nonce`, so a resend within
Discord's nonce window returns the first message instead of posting a second.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO

import aiohttp
import httpx

log = logging.getLogger(__name__)

METADATA_EVENT = "newsdesk_digest"

# Slack errors that no retry can fix: the channel, the token or the message itself is wrong.
SLACK_PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "restricted_action",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "channel_is_archived",
    }
)


_SLACK_CHANNEL_GONE = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"}
)


class DeliveryError(Exception):
    """A message that did not go out.

    `permanent`: retrying cannot help (no such channel, no permission, a rejected message).
    `retry_after`: the platform asked for this many seconds before the next try.
    `channel_gone`: the destination itself is unusable, so nobody can be told there.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        channel_gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.channel_gone = channel_gone


class Sender(Protocol):
    """One destination's transport."""

    async def send(self, message: dict[str, Any], *, key: str) -> str | None:
        """Post one rendered message; return the platform's id for it (None where none)."""
        ...

    async def find(self, key: str, *, since: datetime) -> str | None:
        """The id of a message posted with `key` since `since`, or None if none is found (or
        the platform cannot be asked, where `send` is idempotent by itself or not at all)."""
        ...

    def notice(self, text: str) -> dict[str, Any]:
        """A plain message of our own words (no feed text), in this platform's payload shape."""
        ...


class SlackSender:
    """chat.postMessage through slack_sdk's AsyncWebClient, to a channel ID."""

    def __init__(self, client: Any, channel: str) -> None:
        self.client = client  # slack_sdk.web.async_client.AsyncWebClient, retry_handlers=[]
        self.channel = channel

    async def send(self, message: dict[str, Any], *, key: str) -> str | None:
        response = await self._call(
            "chat_postMessage",
            channel=self.channel,
            text=message.get("text", ""),
            blocks=message.get("blocks"),
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
        )
        return response["ts"]

    async def find(self, key: str, *, since: datetime) -> str | None:
        oldest = (since - timedelta(minutes=1)).timestamp()
        cursor = None
        for _ in range(10):  # a digest is recent: a few pages of history reach back far enough
            response = await self._call(
                "conversations_history",
                channel=self.channel,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                    return message["ts"]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None
        return None

    def notice(self, text: str) -> dict[str, Any]:
        return slack_notice(text)

    async def _call(self, method: str, **kwargs: Any) -> Any:
        from slack_sdk.errors import SlackApiError

        try:
            return await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            raise _slack_error(exc.response.status_code, exc.response) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"cannot reach Slack: {exc!r}") from None
        except (AttributeError, TypeError, ValueError):
            # slack_sdk itself trips over a 200 whose body is not JSON (a proxy's error page).
            raise DeliveryError("Slack sent an answer that is not the API's JSON") from None


def _slack_error(status: int, response: Any) -> DeliveryError:
    # A proxy's HTML error page arrives as text, not the JSON object Slack sends.
    data = getattr(response, "data", None)
    error = data.get("error", f"HTTP {status}") if isinstance(data, dict) else f"HTTP {status}"
    if status == 429:
        return DeliveryError(
            "Slack rate limit (429)", retry_after=_seconds(response.headers.get("Retry-After"))
        )
    if error in SLACK_PERMANENT:
        gone = error in _SLACK_CHANNEL_GONE
        return DeliveryError(f"Slack refused: {error}", permanent=True, channel_gone=gone)
    return DeliveryError(f"Slack error: {error} (HTTP {status})")


class DiscordSender:
    """POST /channels/{id}/messages through discord.py's HTTP client, with a nonce."""

    def __init__(self, http: Any, channel: str) -> None:
        self.http = http  # discord.http.HTTPClient, logged in
        self.channel = channel

    async def send(self, message: dict[str, Any], *, key: str) -> str | None:
        import discord
        from discord.http import MultipartParameters

        payload = {**message, "nonce": key, "enforce_nonce": True}
        params = MultipartParameters(payload=payload, multipart=None, files=None)
        try:
            sent = await self.http.send_message(int(self.channel), params=params)
        except discord.RateLimited as exc:
            raise DeliveryError("Discord rate limit", retry_after=exc.retry_after) from None
        except (discord.Forbidden, discord.NotFound) as exc:
            raise DeliveryError(
                f"Discord refused: {exc.text or exc.status}", permanent=True, channel_gone=True
            ) from None
        except discord.HTTPException as exc:
            retry_after = _seconds(exc.response.headers.get("Retry-After"))
            transient = exc.status == 429 or exc.status >= 500
            raise DeliveryError(
                f"Discord error: {exc.text or exc.status} (HTTP {exc.status})",
                permanent=not transient,
                retry_after=retry_after if exc.status == 429 else None,
            ) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"cannot reach Discord: {exc!r}") from None
        if not isinstance(sent, dict) or "id" not in sent:  # e.g. a proxy's HTML page
            raise DeliveryError("Discord sent an answer that is not a message object")
        return str(sent["id"])

    async def find(self, key: str, *, since: datetime) -> str | None:
        return None  # the nonce makes a resend within Discord's window return the first message

    def notice(self, text: str) -> dict[str, Any]:
        return discord_notice(text)


class WebhookSender:
    """An incoming webhook (Slack or Discord), whose URL is a secret from the environment.

    Webhooks have no history to check and, on Slack, no message ids: after a crash mid-send a
    webhook digest may repeat one message. Use a channel ID where that matters.
    """

    def __init__(self, platform: str, url: str, client: httpx.AsyncClient) -> None:
        self.platform = platform
        self.url = url
        self.client = client

    async def send(self, message: dict[str, Any], *, key: str) -> str | None:
        if self.platform == "slack":
            body = {**message, "unfurl_links": False, "unfurl_media": False}
            params: dict[str, str] = {}
        else:
            body, params = message, {"wait": "true"}
        try:
            response = await self.client.post(self.url, json=body, params=params)
        except httpx.HTTPError as exc:
            # The URL holds the webhook's token: name the error's type, never the request.
            raise DeliveryError(
                f"cannot reach the {self.platform} webhook: {type(exc).__name__}"
            ) from None
        if response.status_code == 429:
            raise DeliveryError(
                f"{self.platform} webhook rate limit (429)",
                retry_after=_seconds(response.headers.get("Retry-After"))
                or _json_retry_after(response),
            )
        if response.status_code >= 500:
            raise DeliveryError(f"{self.platform} webhook error (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise DeliveryError(
                f"{self.platform} webhook refused: HTTP {response.status_code}"
                f" {response.text[:200]}",
                permanent=True,
                channel_gone=response.status_code in (403, 404, 410),
            )
        if self.platform == "discord" and response.content:
            try:
                return str(response.json()["id"])
            except (ValueError, KeyError, TypeError):
                raise DeliveryError("Discord sent an answer that is not a message object") from None
        return None

    async def find(self, key: str, *, since: datetime) -> str | None:
        return None

    def notice(self, text: str) -> dict[str, Any]:
        return slack_notice(text) if self.platform == "slack" else discord_notice(text)


class FileSender:
    """Appends a Markdown digest to a file: a digest archive, or a page a static site builds."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    async def send(self, message: dict[str, Any], *, key: str) -> str | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(message["text"].rstrip("\n") + "\n\n")
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return None

    async def find(self, key: str, *, since: datetime) -> str | None:
        return None

    def notice(self, text: str) -> dict[str, Any]:
        return {"text": f"> {text}"}


class TerminalSender:
    """Prints to the terminal: what `newsdesk run` does with no chat platform configured."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, message: dict[str, Any], *, key: str) -> str | None:
        stream = self.stream or sys.stdout
        stream.write(message["text"].rstrip("\n") + "\n\n")
        stream.flush()
        return None

    async def find(self, key: str, *, since: datetime) -> str | None:
        return None

    def notice(self, text: str) -> dict[str, Any]:
        return {"text": text}


def slack_notice(text: str) -> dict[str, Any]:
    from newsdesk.digest.render_slack import escape

    return {"text": escape(text)}


def discord_notice(text: str) -> dict[str, Any]:
    from newsdesk.digest.render_discord import escape

    return {"content": escape(text), "allowed_mentions": {"parse": []}}


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _json_retry_after(response: httpx.Response) -> float | None:
    try:
        return _seconds(str(json.loads(response.content).get("retry_after")))
    except (ValueError, AttributeError):
        return None
