"""A real Discord REST API (v10) server for testing the bot with discord.py's own HTTP client.

A mocked ``HTTPClient`` would only test our assumptions about Discord; what discord.py really
sends (``nonce`` + ``enforce_nonce``, ``allowed_mentions``, ``with_response=1`` on interaction
callbacks), how it retries (429s, some 5xx) and what it raises (``NotFound``, ``Forbidden``, a
dropped connection) is only proven against a socket. Like the other test servers it is standard
library only: a :class:`~tests.servers.loopback.LoopbackServer` on 127.0.0.1 in a daemon thread.

Usage::

    with DiscordServer() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        server.script(CREATE_MESSAGE, RateLimited(retry_after=0.05))
        http = discord.http.HTTPClient(loop=asyncio.get_running_loop())
        await http.static_login(DEFAULT_TOKEN)
        await http.send_message(DEFAULT_CHANNEL_ID, params=handle_message_parameters(content="Hi"))
        await http.close()
        assert [m.content for m in server.messages()] == ["Hi"]

or through the ``discord_server`` pytest fixture at the bottom of this module, which does the
monkeypatching (webhooks and interaction responses use the same ``Route.BASE``).

Scripting: :meth:`DiscordServer.script` queues behaviours for one route, named by its key as
discord.py spells ``Route.key`` (``"POST /channels/{channel_id}/messages"``; constants such as
:data:`CREATE_MESSAGE` and the full :data:`ROUTE_KEYS` are exported). Each request to that
route consumes one behaviour, whatever its ids; with the queue empty it gets the real answer.
The authorization check comes first and a rejected request consumes nothing.

Behaviour worth knowing when writing tests:

* Bot routes need ``Authorization: Bot <token>`` (else 401 ``{"message": "401: Unauthorized",
  "code": 0}``, which ``static_login`` turns into ``LoginFailure``); webhook and interaction
  callback routes need no header, as on Discord, since the token is in the URL.
* Messages are validated as Discord does (content <= 2000, <= 10 embeds, the per-field embed
  limits and 6000 characters across a message's embeds, counted in code points after trimming,
  a nonce of <= 25 characters, no empty message, webhook usernames <= 80 without "discord" or
  "clyde"): a violation is a 400 with code 50035 (or 50006) and an ``errors`` tree, which
  discord.py raises as ``HTTPException``.
* ``nonce`` with ``enforce_nonce: true`` is checked per channel for :data:`NONCE_WINDOW` seconds:
  a repeat returns the first message (200) and creates nothing. The nonce is echoed in the
  create answer only, as Discord does; a GET never shows it.
* Mentions are resolved against ``allowed_mentions`` (absent means everything is allowed):
  ``PostedMessage.mention_everyone`` / ``mentioned_users`` / ``mentioned_roles`` say who would
  have been notified.
* Every answer carries ``X-RateLimit-*`` headers with plenty remaining and a 50 ms reset, so
  discord.py never waits unless a test scripts :class:`RateLimited`.
* Interaction callbacks: discord.py 2.7 always sends ``?with_response=1`` and parses the answer
  as an interaction callback response (a 204 would crash it), so that is what it gets. A second
  callback for the same token is a 400 with code 40060. Types 4 and 7 create the original
  response and 5 a loading one (flag 128, cleared by the first edit). Followups and
  ``@original`` need an acknowledged token (else 404 ``Unknown Webhook``, code 10015); they are
  webhooks whose id is the application id, and their messages are in
  :meth:`DiscordServer.interaction_messages`, not :meth:`DiscordServer.messages`, because this
  server does not know the interaction's channel (it uses ``interaction_channel_id``).
* Incoming webhooks (:class:`IncomingWebhook`) post into their channel, so their messages are
  in :meth:`DiscordServer.messages` as well as :meth:`DiscordServer.webhook_posts`.
* A request for a route this server does not implement gets Discord's 404 or 405 and is added
  to ``errors``, so the fixture fails the test instead of it passing against a made-up answer.
* ``calls`` and ``requests`` log every request on arrival, including ones the client gave up
  on; paths are relative to :attr:`DiscordServer.api_base`.
* ``stop()`` wakes handlers sleeping in a :class:`Delay`: they hang up without answering.

What discord.py does with the scripted failures (2.7.1, aiohttp 3.14):

* :class:`RateLimited` is slept on (``retry_after`` from the JSON body; the headers are not
  read) and retried, up to 5 tries in all, then ``HTTPException``. Without a ``Via`` header
  (``RateLimited(via=None)``) discord.py takes the 429 for a Cloudflare ban and raises at once.
* ``Status(500 | 502 | 504 | 524)`` is retried by ``HTTPClient`` after sleeping 1, 3, 5, 7 and
  9 s (25 s before ``DiscordServerError``), so script 503 for a fast server error; other 5xx
  raise at once. The webhook adapter (followups, ``Webhook.send``) retries every 5xx that way.
* A global 429 holds every request of that ``HTTPClient`` until its ``retry_after`` is over.
* ``Messageable.send`` always sends a nonce (random 64 bits) with ``enforce_nonce``; only a
  nonce the caller chose, such as one derived from the digest, makes a resend after a restart
  find the first message.
* :class:`AcceptThenDrop` raises ``aiohttp.ServerDisconnectedError`` (not an ``OSError``, so
  discord.py does not retry it) for POST and PATCH; aiohttp itself silently resends an
  idempotent request (GET, PUT, DELETE) once, so a dropped PUT is performed twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import socket
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from tests.servers.loopback import DISCONNECTS, Headers, LoopbackHandler, LoopbackServer

__all__ = [
    "CREATE_MESSAGE",
    "DEFAULT_APPLICATION_ID",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_GUILD_ID",
    "DEFAULT_TOKEN",
    "DEFAULT_WEBHOOK_ID",
    "DEFAULT_WEBHOOK_TOKEN",
    "EDIT_ORIGINAL",
    "EXECUTE_WEBHOOK",
    "FORBIDDEN_CHANNEL_ID",
    "GET_ME",
    "INTERACTION_CALLBACK",
    "LIST_MESSAGES",
    "NONCE_WINDOW",
    "ROUTE_KEYS",
    "SYNC_GLOBAL_COMMANDS",
    "SYNC_GUILD_COMMANDS",
    "AcceptThenDrop",
    "Delay",
    "DiscordRequest",
    "DiscordServer",
    "IncomingWebhook",
    "InteractionCallback",
    "PostedMessage",
    "RateLimited",
    "Status",
    "WebhookPost",
    "discord_server",
]

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
NONCE_WINDOW = 300.0  # seconds; Discord says "the past few minutes"

# Fixed ids so tests can name things without asking the server; generated ids are real
# time-based snowflakes, always larger than these.
DEFAULT_TOKEN = "test-bot-token"
DEFAULT_APPLICATION_ID = "1310000000000000001"
DEFAULT_CHANNEL_ID = "1310000000000000100"
FORBIDDEN_CHANNEL_ID = "1310000000000000101"
DEFAULT_GUILD_ID = "1310000000000000200"
DEFAULT_WEBHOOK_ID = "1310000000000000300"
DEFAULT_WEBHOOK_TOKEN = "test-webhook-token"
OWNER_USER_ID = "1310000000000000400"

# Message flags and types this server sets itself.
EPHEMERAL = 1 << 6
LOADING = 1 << 7
DEFAULT_MESSAGE = 0
CHAT_INPUT_COMMAND_MESSAGE = 20

# Plenty of room, and a short reset should discord.py ever run a bucket dry.
RATE_LIMIT = 50
RATE_LIMIT_RESET_AFTER = 0.05


# -- scripted behaviours -------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimited:
    """A 429 as Discord sends it: JSON body with ``retry_after`` (what discord.py sleeps on),
    ``Retry-After`` and ``X-RateLimit-*`` headers, and ``Via`` (without which discord.py takes
    it for a Cloudflare ban and raises instead of retrying; ``via=None`` sends that)."""

    retry_after: float = 0.1
    global_: bool = False
    via: str | None = "1.1 google"


@dataclass(frozen=True)
class Status:
    """An error answer without performing the request. ``body=None`` sends Discord's generic
    ``{"message": "<status>: <phrase>", "code": 0}``."""

    status: int
    body: str | bytes | dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AcceptThenDrop:
    """Perform the request for real (the message is stored) then hang up without answering:
    the client cannot know whether it worked, which is what nonces are for."""


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (cut short by ``stop()``, which hangs up), then behave as ``then``
    (the real answer when None)."""

    seconds: float
    then: Behaviour | None = None


Behaviour = RateLimited | Status | AcceptThenDrop | Delay


# -- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscordRequest:
    """One request as the server saw it."""

    method: str
    path: str  # relative to api_base, no query string
    query: dict[str, str]
    headers: Headers
    payload: Any  # parsed JSON (or multipart ``payload_json``); None when there was none
    route: str | None  # the route key it matched, None for an unknown route
    received_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class PostedMessage:
    """A message as it stands now (edits replace it), with the body that made it so."""

    channel_id: str
    id: str
    content: str
    embeds: list[dict[str, Any]]
    nonce: str | None
    allowed_mentions: dict[str, Any] | None  # as sent; None when not sent
    payload: dict[str, Any]  # the last create or edit body
    flags: int = 0
    filenames: tuple[str, ...] = ()
    webhook_id: str | None = None  # set for webhook and interaction messages
    interaction_token: str | None = None  # set for interaction responses and followups
    mention_everyone: bool = False
    mentioned_users: tuple[str, ...] = ()
    mentioned_roles: tuple[str, ...] = ()
    edits: int = 0


@dataclass(frozen=True)
class InteractionCallback:
    """One accepted ``POST /interactions/{id}/{token}/callback``."""

    interaction_id: str
    token: str
    type: int  # 1 pong, 4 message, 5 deferred message, 6 deferred update, 7 update, 9 modal…
    data: dict[str, Any]
    payload: dict[str, Any]


@dataclass(frozen=True)
class WebhookPost:
    """One accepted webhook execute (POST), message edit (PATCH) or deletion (DELETE)."""

    method: str
    webhook_id: str
    token: str
    target: str | None  # None for POST; "@original" or the message id for PATCH and DELETE
    message_id: str  # the message created or edited
    payload: dict[str, Any]
    query: dict[str, str]


@dataclass(frozen=True)
class IncomingWebhook:
    """A channel webhook the server accepts posts for."""

    id: str
    token: str
    channel_id: str
    name: str = "Newsdesk"


# -- routes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    method: str
    template: str  # as discord.py's Route.path spells it
    action: str  # the DiscordServer method answering it
    bot_auth: bool = True

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\{\w+\})", self.template)
        regex = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in parts
        )
        return re.compile(regex + r"\Z")


_ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
_WEBHOOK_MESSAGE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
_ROUTES = (
    _Route("GET", "/users/@me", "_get_me"),
    _Route("GET", "/oauth2/applications/@me", "_get_application"),
    _Route("POST", "/channels/{channel_id}/messages", "_create_message"),
    _Route("GET", "/channels/{channel_id}/messages", "_list_messages"),
    _Route("GET", "/channels/{channel_id}/messages/{message_id}", "_get_message"),
    _Route("PATCH", "/channels/{channel_id}/messages/{message_id}", "_edit_message"),
    _Route("PUT", "/applications/{application_id}/commands", "_sync_commands"),
    _Route("GET", "/applications/{application_id}/commands", "_get_commands"),
    _Route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", "_sync_commands"),
    _Route("GET", "/applications/{application_id}/guilds/{guild_id}/commands", "_get_commands"),
    _Route("POST", "/interactions/{webhook_id}/{webhook_token}/callback", "_callback", False),
    _Route("POST", "/webhooks/{webhook_id}/{webhook_token}", "_execute_webhook", False),
    # @original before {message_id}, which would match it too
    _Route("GET", _ORIGINAL, "_get_webhook_message", False),
    _Route("PATCH", _ORIGINAL, "_edit_webhook_message", False),
    _Route("DELETE", _ORIGINAL, "_delete_webhook_message", False),
    _Route("GET", _WEBHOOK_MESSAGE, "_get_webhook_message", False),
    _Route("PATCH", _WEBHOOK_MESSAGE, "_edit_webhook_message", False),
)
_PATTERNS = tuple((route, route.pattern) for route in _ROUTES)

ROUTE_KEYS = frozenset(route.key for route in _ROUTES)
GET_ME = "GET /users/@me"
CREATE_MESSAGE = "POST /channels/{channel_id}/messages"
LIST_MESSAGES = "GET /channels/{channel_id}/messages"
SYNC_GLOBAL_COMMANDS = "PUT /applications/{application_id}/commands"
SYNC_GUILD_COMMANDS = "PUT /applications/{application_id}/guilds/{guild_id}/commands"
INTERACTION_CALLBACK = "POST /interactions/{webhook_id}/{webhook_token}/callback"
EXECUTE_WEBHOOK = "POST /webhooks/{webhook_id}/{webhook_token}"
EDIT_ORIGINAL = "PATCH " + _ORIGINAL


# -- answers and validation ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any = None  # JSON-able; None sends no body (204)


@dataclass(frozen=True)
class _File:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Call:
    """What a route action is given: the request, the ids in its path, the files uploaded."""

    request: DiscordRequest
    params: dict[str, str]
    files: list[_File]

    @property
    def payload(self) -> Any:
        return self.request.payload

    @property
    def query(self) -> dict[str, str]:
        return self.request.query


def _error(status: int, message: str, code: int, errors: dict[str, Any] | None = None) -> _Answer:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return _Answer(status, body)


def _invalid_form(errors: dict[str, Any]) -> _Answer:
    return _error(400, "Invalid Form Body", 50035, errors)


UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
UNKNOWN_WEBHOOK = _error(404, "Unknown Webhook", 10015)
UNKNOWN_MESSAGE = _error(404, "Unknown Message", 10008)
UNKNOWN_CHANNEL = _error(404, "Unknown Channel", 10003)
BAD_JSON = _error(400, "The request body contains invalid JSON.", 50109)


class _Errors:
    """Discord's nested ``errors`` tree: ``{"embeds": {"0": {"title": {"_errors": [...]}}}}``."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: Iterable[str | int], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def too_long(self, path: Iterable[str | int], value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value.strip()) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


_EMBED_LIMITS = {"title": 256, "description": 4096}
_EMBED_TOTAL = 6000
_NAME_FORBIDDEN = ("discord", "clyde")


def _validate_message(
    payload: dict[str, Any], *, files: int = 0, webhook: bool = False
) -> _Answer | None:
    """Discord's checks on a create, execute or edit body (as it stands after an edit)."""
    errors = _Errors()
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(["content"], "BASE_TYPE_STRING", "Must be a string.")
    errors.too_long(["content"], content, 2000)
    embeds = payload.get("embeds") or []
    if not isinstance(embeds, list):
        errors.add(["embeds"], "BASE_TYPE_ARRAY", "Must be an array.")
        embeds = []
    if len(embeds) > 10:
        errors.add(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            errors.add(["embeds", index], "MODEL_TYPE_CONVERT", "Only dictionaries may be used.")
            continue
        texts = [embed.get("title"), embed.get("description")]
        for name, limit in _EMBED_LIMITS.items():
            errors.too_long(["embeds", index, name], embed.get(name), limit)
        footer, author = embed.get("footer") or {}, embed.get("author") or {}
        errors.too_long(["embeds", index, "footer", "text"], footer.get("text"), 2048)
        errors.too_long(["embeds", index, "author", "name"], author.get("name"), 256)
        texts += [footer.get("text"), author.get("name")]
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.add(
                ["embeds", index, "fields"],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            )
        for number, item in enumerate(fields):
            for name, limit in (("name", 256), ("value", 1024)):
                value = item.get(name)
                if not isinstance(value, str) or not value.strip():
                    errors.add(
                        ["embeds", index, "fields", number, name],
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
                errors.too_long(["embeds", index, "fields", number, name], value, limit)
            texts += [item.get("name"), item.get("value")]
        total += sum(len(text.strip()) for text in texts if isinstance(text, str))
    if total > _EMBED_TOTAL:
        errors.add(
            ["embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {_EMBED_TOTAL}",
        )
    nonce = payload.get("nonce")
    if isinstance(nonce, str) and len(nonce) > 25:
        errors.add(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    username = payload.get("username")
    if webhook and isinstance(username, str):
        errors.too_long(["username"], username, 80)
        for word in _NAME_FORBIDDEN:
            if word in username.lower():
                errors.add(
                    ["username"], "USERNAME_INVALID_CONTAINS", f'Username cannot contain "{word}"'
                )
    if errors.tree:
        return _invalid_form(errors.tree)
    has_content = isinstance(content, str) and content.strip()
    others = ("sticker_ids", "components", "poll", "attachments")
    if not (has_content or embeds or files or any(payload.get(name) for name in others)):
        return _error(400, "Cannot send an empty message", 50006)
    return None


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def _mentions(content: str, allowed: Any) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """Who the message would notify: (everyone/here, user ids, role ids), per allowed_mentions."""
    if not isinstance(allowed, dict):
        allowed = {"parse": ["everyone", "users", "roles"]}
    parse = set(allowed.get("parse") or [])
    users = {str(user) for user in allowed.get("users") or []}
    roles = {str(role) for role in allowed.get("roles") or []}
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    found_users = dict.fromkeys(
        user for user in _USER_MENTION.findall(content) if "users" in parse or user in users
    )
    found_roles = dict.fromkeys(
        role for role in _ROLE_MENTION.findall(content) if "roles" in parse or role in roles
    )
    return everyone, tuple(found_users), tuple(found_roles)


def _user(user_id: str, username: str, *, bot: bool = True) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username,
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true"}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _bucket(route_key: str) -> str:
    return hashlib.sha256(route_key.encode()).hexdigest()[:32]


def _parse_body(content_type: str, raw: bytes) -> tuple[Any, list[_File], bool]:
    """(payload, files, ok): JSON, or multipart with ``payload_json`` and ``files[n]`` parts."""
    if not raw:
        return None, [], True
    if content_type.lower().startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=policy.HTTP).parsebytes(head + raw)
        payload: Any = None
        files: list[_File] = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition") or ""
            data = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if name == "payload_json":
                try:
                    payload = json.loads(data)
                except ValueError:
                    return None, [], False
            elif filename:
                files.append(_File(str(name), filename, part.get_content_type(), data))
        return payload, files, True
    try:
        return json.loads(raw), [], True
    except ValueError:
        return None, [], False


# -- the handler ---------------------------------------------------------------------------------


class _Handler(LoopbackHandler):
    server_version = "newsdesk-discord-server/1.0"
    owner: DiscordServer

    def setup(self) -> None:
        super().setup()
        # The head and body go out in two writes; without this, Nagle's algorithm holds the
        # body until the client's delayed ACK, some 40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.owner
        raw = self._read_body()
        url = urlsplit(self.path)
        inside = url.path.startswith(API_PREFIX + "/")
        path = url.path[len(API_PREFIX) :] if inside else url.path
        headers = Headers(self.headers.items())
        payload, files, parsed = _parse_body(headers.get("Content-Type", ""), raw)
        route, params = owner._match(self.command, path) if inside else (None, {})
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        request = DiscordRequest(self.command, path, query, headers, payload, route and route.key)
        owner._log(request)
        try:
            self._answer(request, route, params, files, parsed)
        except DISCONNECTS:
            self.close_connection = True

    def _answer(
        self,
        request: DiscordRequest,
        route: _Route | None,
        params: dict[str, str],
        files: list[_File],
        parsed: bool,
    ) -> None:
        owner = self.owner
        if route is None:
            known = any(p.match(request.path) for _, p in _PATTERNS)
            status = 405 if known else 404
            owner.errors.append(
                NotImplementedError(f"DiscordServer has no route {request.method} {request.path}")
            )
            self.send_body(status, {"message": f"{status}: {HTTPStatus(status).phrase}", "code": 0})
            return
        if route.bot_auth and request.headers.get("Authorization") != f"Bot {owner.token}":
            self.send_body(401, UNAUTHORIZED)
            return
        behaviour = owner._next(route.key)
        while isinstance(behaviour, Delay):
            if owner._stopping.wait(behaviour.seconds):
                self.close_connection = True
                return
            behaviour = behaviour.then
        rate_headers = self._rate_headers(route.key)
        if isinstance(behaviour, RateLimited):
            self._rate_limited(behaviour, route.key)
            return
        if isinstance(behaviour, Status):
            body = behaviour.body
            if body is None:
                body = {
                    "message": f"{behaviour.status}: {HTTPStatus(behaviour.status).phrase}",
                    "code": 0,
                }
            self.send_body(behaviour.status, body, {**rate_headers, **behaviour.headers})
            return
        if not parsed:
            answer = BAD_JSON
        else:
            with owner._lock:
                answer = getattr(owner, route.action)(_Call(request, params, files))
        if isinstance(behaviour, AcceptThenDrop):
            self.close_connection = True  # done, and never said so
            return
        self.send_body(answer.status, answer.body, rate_headers)

    def _rate_headers(self, route_key: str) -> dict[str, str]:
        return {
            "X-RateLimit-Bucket": _bucket(route_key),
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(RATE_LIMIT - 1),
            "X-RateLimit-Reset": f"{time.time() + RATE_LIMIT_RESET_AFTER:.3f}",
            "X-RateLimit-Reset-After": f"{RATE_LIMIT_RESET_AFTER:.3f}",
        }

    def _rate_limited(self, limit: RateLimited, route_key: str) -> None:
        headers = {
            "Retry-After": str(max(1, math.ceil(limit.retry_after))),
            "X-RateLimit-Scope": "global" if limit.global_ else "user",
        }
        if limit.global_:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Bucket": _bucket(route_key),
                    "X-RateLimit-Limit": str(RATE_LIMIT),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + limit.retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{limit.retry_after:.3f}",
                }
            )
        if limit.via is None:  # what a Cloudflare ban looks like: HTML, no Via
            page = "<html><body>You are being rate limited.</body></html>"
            self.send_body(429, page, headers, content_type="text/html")
            return
        headers["Via"] = limit.via
        body = {
            "message": "You are being rate limited.",
            "retry_after": limit.retry_after,
            "global": limit.global_,
        }
        self.send_body(429, body, headers)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length", "")
        return self.rfile.read(int(length)) if length.isdigit() else b""


# -- the server ----------------------------------------------------------------------------------


class DiscordServer(LoopbackServer):
    """Discord's REST API on 127.0.0.1, holding the messages, interaction responses, webhook
    posts and command syncs it was sent, for tests to script and assert on.

    Use as ``with DiscordServer() as server:`` or call :meth:`start` and :meth:`stop`; each
    instance listens on its own free port. Ids may be given as ints or strings; they are kept
    and answered as strings, as Discord does.
    """

    handler_class = _Handler
    request_queue_size = 64

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        application_id: str | int = DEFAULT_APPLICATION_ID,
        bot_user_id: str | int | None = None,
        bot_username: str = "newsdesk",
        channels: Iterable[str | int] = (DEFAULT_CHANNEL_ID,),
        forbidden: Iterable[str | int] = (FORBIDDEN_CHANNEL_ID,),
        webhooks: Iterable[IncomingWebhook] | None = None,
        interaction_channel_id: str | int | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.application_id = str(application_id)
        # A bot user has its application's id unless the test says otherwise.
        self.bot_user_id = str(application_id if bot_user_id is None else bot_user_id)
        self.bot_username = bot_username
        self.forbidden = {str(channel) for channel in forbidden}
        self.channels = {str(channel) for channel in channels} | self.forbidden
        postable = sorted(self.channels - self.forbidden) or [DEFAULT_CHANNEL_ID]
        if webhooks is None:
            webhooks = [IncomingWebhook(DEFAULT_WEBHOOK_ID, DEFAULT_WEBHOOK_TOKEN, postable[0])]
        self.webhooks = {hook.id: hook for hook in webhooks}
        self.interaction_channel_id = str(interaction_channel_id or postable[0])
        self.requests: list[DiscordRequest] = []
        self._scripts: dict[str, deque[Behaviour]] = {}
        self._posted: list[PostedMessage] = []
        self._objects: dict[str, dict[str, Any]] = {}  # message id -> message object
        self._owners: dict[str, tuple[str, str]] = {}  # message id -> (webhook id, token)
        self._nonces: dict[tuple[str, str], tuple[str, float]] = {}
        self._callbacks: list[InteractionCallback] = []
        self._acknowledged: dict[str, str] = {}  # interaction token -> interaction id
        self._originals: dict[str, str] = {}  # interaction token -> message id
        self._webhook_posts: list[WebhookPost] = []
        self._synced: dict[str | None, list[dict[str, Any]]] = {}
        self._registered: dict[str | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[str | None, str, int], str] = {}
        self._last_snowflake = 0

    @property
    def api_base(self) -> str:
        """``http://127.0.0.1:PORT/api/v10``: what ``discord.http.Route.BASE`` is set to."""
        return self.origin + API_PREFIX

    # -- set-up ------------------------------------------------------------------------------

    def script(self, route: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests to ``route`` (a key of :data:`ROUTE_KEYS`),
        one each, after any already queued for it."""
        if route not in ROUTE_KEYS:
            raise ValueError(f"unknown route {route!r}; one of: {', '.join(sorted(ROUTE_KEYS))}")
        with self._lock:
            self._scripts.setdefault(route, deque()).extend(behaviours)

    def pending(self, route: str | None = None) -> int:
        """Scripted behaviours not yet used (for one route, or all), to check a test ran the
        calls it meant to."""
        with self._lock:
            if route is not None:
                return len(self._scripts.get(route, ()))
            return sum(len(queue) for queue in self._scripts.values())

    def add_channel(self, channel_id: str | int, *, forbidden: bool = False) -> None:
        """Make a channel exist; a forbidden one answers posts with 403 Missing Permissions."""
        with self._lock:
            self.channels.add(str(channel_id))
            if forbidden:
                self.forbidden.add(str(channel_id))

    def add_webhook(self, webhook: IncomingWebhook) -> None:
        with self._lock:
            self.webhooks[webhook.id] = webhook
            self.channels.add(webhook.channel_id)

    # -- what happened -------------------------------------------------------------------------

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of every request in arrival order; paths are relative to api_base."""
        with self._lock:
            return [(request.method, request.path) for request in self.requests]

    def count(self, method: str, path_prefix: str = "/") -> int:
        """Requests with this method whose path starts with ``path_prefix``."""
        return sum(1 for m, p in self.calls if m == method.upper() and p.startswith(path_prefix))

    def messages(self, channel_id: str | int | None = None) -> list[PostedMessage]:
        """Messages in channels (bot posts and incoming webhook posts), oldest first."""
        with self._lock:
            posted = [m for m in self._posted if m.interaction_token is None]
        if channel_id is not None:
            posted = [m for m in posted if m.channel_id == str(channel_id)]
        return posted

    def interaction_messages(self, token: str | None = None) -> list[PostedMessage]:
        """Messages made by interaction callbacks and followups, oldest first."""
        with self._lock:
            posted = [m for m in self._posted if m.interaction_token is not None]
        if token is not None:
            posted = [m for m in posted if m.interaction_token == token]
        return posted

    def message_object(self, message_id: str | int) -> dict[str, Any]:
        """The full message object as the server would answer it now; KeyError if unknown."""
        with self._lock:
            return json.loads(json.dumps(self._objects[str(message_id)]))

    def interaction_responses(
        self, interaction_id: str | int | None = None
    ) -> list[InteractionCallback]:
        """Accepted interaction callbacks in arrival order."""
        with self._lock:
            callbacks = list(self._callbacks)
        if interaction_id is not None:
            callbacks = [c for c in callbacks if c.interaction_id == str(interaction_id)]
        return callbacks

    def webhook_posts(self, webhook_id: str | int | None = None) -> list[WebhookPost]:
        """Accepted webhook executes and edits (followups have the application's id)."""
        with self._lock:
            posts = list(self._webhook_posts)
        if webhook_id is not None:
            posts = [p for p in posts if p.webhook_id == str(webhook_id)]
        return posts

    def synced_commands(self, guild_id: str | int | None = None) -> list[dict[str, Any]] | None:
        """The command list last synced (as sent), globally or for a guild; None if never."""
        with self._lock:
            commands = self._synced.get(None if guild_id is None else str(guild_id))
        return None if commands is None else json.loads(json.dumps(commands))

    # -- internals used by the handler ---------------------------------------------------------

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for route, pattern in _PATTERNS:
            if route.method == method and (found := pattern.match(path)):
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
        return None, {}

    def _log(self, request: DiscordRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next(self, route: str) -> Behaviour | None:
        with self._lock:
            queue = self._scripts.get(route)
            return queue.popleft() if queue else None

    # The route actions below run with self._lock held.

    def _snowflake(self) -> str:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_snowflake = max(stamp, self._last_snowflake + 1)
        return str(self._last_snowflake)

    def _bot_user(self) -> dict[str, Any]:
        return _user(self.bot_user_id, self.bot_username)

    def _get_me(self, call: _Call) -> _Answer:
        return _Answer(
            200, {**self._bot_user(), "verified": True, "mfa_enabled": False, "flags": 0}
        )

    def _get_application(self, call: _Call) -> _Answer:
        return _Answer(
            200,
            {
                "id": self.application_id,
                "name": self.bot_username,
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": _user(OWNER_USER_ID, "owner", bot=False),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "bot": self._bot_user(),
            },
        )

    def _new_message(
        self,
        *,
        channel_id: str,
        payload: dict[str, Any],
        files: list[_File],
        author: dict[str, Any],
        webhook_id: str | None = None,
        interaction_token: str | None = None,
        flags: int | None = None,
    ) -> dict[str, Any]:
        """Store a new message and return its object."""
        message_id = self._snowflake()
        message: dict[str, Any] = {
            "id": message_id,
            "channel_id": channel_id,
            "author": author,
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "pinned": False,
            "type": CHAT_INPUT_COMMAND_MESSAGE if interaction_token else DEFAULT_MESSAGE,
            "flags": int(payload.get("flags") or 0) if flags is None else flags,
            "attachments": [],
        }
        if webhook_id is not None:
            message["webhook_id"] = webhook_id
        if interaction_token is not None:
            message["application_id"] = self.application_id
            message["_interaction_token"] = interaction_token  # "_" keys are never sent
        if payload.get("nonce") is not None:
            message["nonce"] = str(payload["nonce"])
        self._objects[message_id] = message
        self._apply(message_id, payload, files)
        self._posted.append(self._record(message_id, payload, edits=0))
        return message

    def _apply(self, message_id: str, payload: dict[str, Any], files: list[_File]) -> None:
        """Write a create or edit body into the stored message object."""
        message = self._objects[message_id]
        if "content" in payload or "content" not in message:
            message["content"] = payload.get("content") or ""
        if "embeds" in payload or "embeds" not in message:
            message["embeds"] = [{"type": "rich", **embed} for embed in payload.get("embeds") or []]
        if "components" in payload or "components" not in message:
            message["components"] = payload.get("components") or []
        if "attachments" in payload:
            keep = {
                str(item.get("id")) for item in payload["attachments"] if isinstance(item, dict)
            }
            message["attachments"] = [a for a in message["attachments"] if a["id"] in keep]
        for upload in files:
            attachment_id = self._snowflake()
            channel_id = message["channel_id"]
            url = f"{self.origin}/attachments/{channel_id}/{attachment_id}/{upload.filename}"
            message["attachments"].append(
                {
                    "id": attachment_id,
                    "filename": upload.filename,
                    "size": len(upload.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": upload.content_type,
                }
            )
        allowed = payload.get("allowed_mentions", message.get("_allowed_mentions"))
        message["_allowed_mentions"] = allowed
        everyone, users, roles = _mentions(message["content"], allowed)
        message["mention_everyone"] = everyone
        message["mentions"] = [_user(user, f"user{user}", bot=False) for user in users]
        message["mention_roles"] = list(roles)

    def _record(self, message_id: str, payload: dict[str, Any], *, edits: int) -> PostedMessage:
        message = self._objects[message_id]
        return PostedMessage(
            channel_id=message["channel_id"],
            id=message_id,
            content=message["content"],
            embeds=message["embeds"],
            nonce=message.get("nonce"),
            allowed_mentions=message["_allowed_mentions"],
            payload=payload,
            flags=message["flags"],
            filenames=tuple(a["filename"] for a in message["attachments"]),
            mention_everyone=message["mention_everyone"],
            mentioned_users=tuple(user["id"] for user in message["mentions"]),
            mentioned_roles=tuple(message["mention_roles"]),
            webhook_id=message.get("webhook_id"),
            interaction_token=message.get("_interaction_token"),
            edits=edits,
        )

    def _edit(
        self, message_id: str, payload: dict[str, Any], files: list[_File], *, webhook: bool
    ) -> _Answer:
        """Validate and apply an edit, keeping the PostedMessage in step."""
        current = self._objects[message_id]
        merged = {key: current.get(key) for key in ("content", "embeds", "components")}
        merged.update({key: payload[key] for key in merged if key in payload})
        merged["attachments"] = payload.get("attachments", current["attachments"])
        if invalid := _validate_message(merged, files=len(files), webhook=webhook):
            return invalid
        self._apply(message_id, payload, files)
        if current["flags"] & LOADING:
            current["flags"] &= ~LOADING  # the deferred response's first edit is its content
        else:
            current["edited_timestamp"] = _now()
        index = next(i for i, m in enumerate(self._posted) if m.id == message_id)
        self._posted[index] = self._record(message_id, payload, edits=self._posted[index].edits + 1)
        return _Answer(200, self._public(message_id))

    def _public(self, message_id: str, *, nonce: bool = False) -> dict[str, Any]:
        """The message object as Discord answers it (the nonce only in a create's answer)."""
        message = {k: v for k, v in self._objects[message_id].items() if not k.startswith("_")}
        if not nonce:
            message.pop("nonce", None)
        return json.loads(json.dumps(message))

    def _channel(self, channel_id: str, *, posting: bool) -> _Answer | None:
        if channel_id not in self.channels:
            return UNKNOWN_CHANNEL
        if posting and channel_id in self.forbidden:
            return _error(403, "Missing Permissions", 50013)
        return None

    def _create_message(self, call: _Call) -> _Answer:
        channel_id = call.params["channel_id"]
        if problem := self._channel(channel_id, posting=True):
            return problem
        payload = call.payload
        if not isinstance(payload, dict):
            return BAD_JSON
        if invalid := _validate_message(payload, files=len(call.files)):
            return invalid
        nonce = payload.get("nonce")
        nonce = None if nonce is None else str(nonce)
        now = time.monotonic()
        if nonce is not None and payload.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, nonce))
            if seen is not None and now - seen[1] < NONCE_WINDOW:
                return _Answer(200, self._public(seen[0], nonce=True))
        message = self._new_message(
            channel_id=channel_id, payload=payload, files=call.files, author=self._bot_user()
        )
        if nonce is not None:
            self._nonces.setdefault((channel_id, nonce), (message["id"], now))
        return _Answer(200, self._public(message["id"], nonce=True))

    def _list_messages(self, call: _Call) -> _Answer:
        channel_id = call.params["channel_id"]
        if problem := self._channel(channel_id, posting=False):
            return problem
        limit_text = call.query.get("limit", "50")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
            errors = _Errors()
            errors.add(["limit"], "NUMBER_TYPE_MAX", "int value should be between 1 and 100.")
            return _invalid_form(errors.tree)
        before, after = call.query.get("before"), call.query.get("after")
        found = [
            m.id
            for m in self._posted
            if m.channel_id == channel_id
            and m.interaction_token is None
            and (before is None or int(m.id) < int(before))
            and (after is None or int(m.id) > int(after))
        ]
        newest = sorted(found, key=int, reverse=True)[: int(limit_text)]
        return _Answer(200, [self._public(message_id) for message_id in newest])

    def _channel_message(self, params: dict[str, str]) -> tuple[str | None, _Answer | None]:
        channel_id, message_id = params["channel_id"], params["message_id"]
        if problem := self._channel(channel_id, posting=False):
            return None, problem
        message = self._objects.get(message_id)
        if (
            message is None
            or message["channel_id"] != channel_id
            or "_interaction_token" in message  # this server does not put those in a channel
        ):
            return None, UNKNOWN_MESSAGE
        return message_id, None

    def _get_message(self, call: _Call) -> _Answer:
        message_id, problem = self._channel_message(call.params)
        return problem or _Answer(200, self._public(str(message_id)))

    def _edit_message(self, call: _Call) -> _Answer:
        message_id, problem = self._channel_message(call.params)
        if problem or message_id is None:
            return problem or UNKNOWN_MESSAGE
        if self._objects[message_id]["author"]["id"] != self.bot_user_id:
            return _error(403, "Cannot edit a message authored by another user", 50005)
        if not isinstance(call.payload, dict):
            return BAD_JSON
        return self._edit(message_id, call.payload, call.files, webhook=False)

    def _sync_commands(self, call: _Call) -> _Answer:
        if call.params["application_id"] != self.application_id:
            return _error(403, "Missing Access", 50001)
        commands = call.payload
        if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
            return BAD_JSON
        guild_id = call.params.get("guild_id")
        errors = _Errors()
        names: set[tuple[str, int]] = set()
        for index, command in enumerate(commands):
            name, kind = command.get("name"), int(command.get("type", 1))
            if kind == 1 and not (
                isinstance(name, str)
                and re.fullmatch(r"[-_\w]{1,32}", name)
                and name == name.lower()
            ):
                errors.add(
                    [index, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            description = command.get("description", "")
            if kind == 1 and not (isinstance(description, str) and 1 <= len(description) <= 100):
                errors.add(
                    [index, "description"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if (str(name), kind) in names:
                errors.add(
                    [index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            names.add((str(name), kind))
        if len(commands) > 100:
            errors.add([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        if errors.tree:
            return _invalid_form(errors.tree)
        version = self._snowflake()
        registered = []
        for command in commands:
            kind = int(command.get("type", 1))
            # Discord keeps a command's id across syncs while its name and type stay the same.
            key = (guild_id, command["name"], kind)
            command_id = self._command_ids.setdefault(key, self._snowflake())
            full = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                "id": command_id,
                "application_id": self.application_id,
                "version": version,
            }
            if guild_id is not None:
                full["guild_id"] = guild_id
            registered.append(full)
        self._synced[guild_id] = json.loads(json.dumps(commands))
        self._registered[guild_id] = registered
        return _Answer(200, json.loads(json.dumps(registered)))

    def _get_commands(self, call: _Call) -> _Answer:
        if call.params["application_id"] != self.application_id:
            return _error(403, "Missing Access", 50001)
        return _Answer(
            200, json.loads(json.dumps(self._registered.get(call.params.get("guild_id"), [])))
        )

    def _callback(self, call: _Call) -> _Answer:
        interaction_id, token = call.params["webhook_id"], call.params["webhook_token"]
        payload = call.payload
        if not isinstance(payload, dict):
            return BAD_JSON
        if token in self._acknowledged:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        kind = payload.get("type")
        if kind not in {1, 4, 5, 6, 7, 8, 9, 10, 12}:
            errors = _Errors()
            errors.add(
                ["type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}."
            )
            return _invalid_form(errors.tree)
        data = payload.get("data") or {}
        if kind in (4, 7) and (invalid := _validate_message(data, files=len(call.files))):
            return invalid
        self._acknowledged[token] = interaction_id
        self._callbacks.append(InteractionCallback(interaction_id, token, kind, data, payload))
        message: dict[str, Any] | None = None
        ephemeral = int(data.get("flags") or 0) & EPHEMERAL
        if kind in (4, 5, 7):
            message = self._new_message(
                channel_id=self.interaction_channel_id,
                payload=data if kind != 5 else {},
                files=call.files if kind != 5 else [],
                author=self._bot_user(),
                webhook_id=self.application_id,
                interaction_token=token,
                flags=(int(data.get("flags") or 0) if kind != 5 else LOADING | ephemeral),
            )
            self._originals[token] = message["id"]
        if not _truthy(call.query.get("with_response")):
            return _Answer(204)
        interaction: dict[str, Any] = {
            "id": interaction_id,
            "type": {1: 1, 6: 3, 7: 3, 8: 4}.get(kind, 2),
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(ephemeral),
        }
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            interaction["response_message_id"] = message["id"]
            if kind != 5:  # Discord sends the message for types 4 and 7 only
                resource["message"] = self._public(message["id"])
        return _Answer(200, {"interaction": interaction, "resource": resource})

    def _webhook(self, webhook_id: str, token: str) -> _Answer | None:
        """None when this webhook id and token may be used, else Discord's refusal."""
        if webhook_id == self.application_id:
            return None if token in self._acknowledged else UNKNOWN_WEBHOOK
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            return UNKNOWN_WEBHOOK
        if hook.token != token:
            return _error(401, "Invalid Webhook Token", 50027)
        return None

    def _execute_webhook(self, call: _Call) -> _Answer:
        webhook_id, token = call.params["webhook_id"], call.params["webhook_token"]
        if problem := self._webhook(webhook_id, token):
            return problem
        payload = call.payload
        if not isinstance(payload, dict):
            return BAD_JSON
        if invalid := _validate_message(payload, files=len(call.files), webhook=True):
            return invalid
        if webhook_id == self.application_id:  # an interaction followup
            message = self._new_message(
                channel_id=self.interaction_channel_id,
                payload=payload,
                files=call.files,
                author=self._bot_user(),
                webhook_id=webhook_id,
                interaction_token=token,
            )
        else:
            hook = self.webhooks[webhook_id]
            author = _user(webhook_id, payload.get("username") or hook.name)
            author["discriminator"] = "0000"
            message = self._new_message(
                channel_id=hook.channel_id,
                payload=payload,
                files=call.files,
                author=author,
                webhook_id=webhook_id,
            )
        self._owners[message["id"]] = (webhook_id, token)
        self._webhook_posts.append(
            WebhookPost("POST", webhook_id, token, None, message["id"], payload, call.query)
        )
        if not _truthy(call.query.get("wait")):
            return _Answer(204)
        return _Answer(200, self._public(message["id"]))

    def _webhook_message(self, params: dict[str, str]) -> tuple[str | None, _Answer | None]:
        webhook_id, token = params["webhook_id"], params["webhook_token"]
        if problem := self._webhook(webhook_id, token):
            return None, problem
        target = params.get("message_id")
        if target is None:  # @original
            message_id = self._originals.get(token) if webhook_id == self.application_id else None
        else:
            owner = self._owners.get(target)
            owns = owner == (webhook_id, token) or (
                webhook_id == self.application_id and self._originals.get(token) == target
            )
            message_id = target if owns else None
        return (message_id, None) if message_id is not None else (None, UNKNOWN_MESSAGE)

    def _get_webhook_message(self, call: _Call) -> _Answer:
        message_id, problem = self._webhook_message(call.params)
        return problem or _Answer(200, self._public(str(message_id)))

    def _edit_webhook_message(self, call: _Call) -> _Answer:
        message_id, problem = self._webhook_message(call.params)
        if problem or message_id is None:
            return problem or UNKNOWN_MESSAGE
        payload = call.payload
        if not isinstance(payload, dict):
            return BAD_JSON
        answer = self._edit(message_id, payload, call.files, webhook=True)
        if answer.status == 200:
            target = call.params.get("message_id", "@original")
            post = WebhookPost(
                "PATCH",
                call.params["webhook_id"],
                call.params["webhook_token"],
                target,
                message_id,
                payload,
                call.query,
            )
            self._webhook_posts.append(post)
        return answer

    def _delete_webhook_message(self, call: _Call) -> _Answer:
        """Delete an interaction's original response (e.g. a "thinking…" placeholder)."""
        message_id, problem = self._webhook_message(call.params)
        if problem or message_id is None:
            return problem or UNKNOWN_MESSAGE
        self._posted = [m for m in self._posted if m.id != message_id]
        self._objects.pop(message_id, None)
        self._originals.pop(call.params["webhook_token"], None)
        self._webhook_posts.append(
            WebhookPost(
                "DELETE",
                call.params["webhook_id"],
                call.params["webhook_token"],
                "@original",
                message_id,
                {},
                call.query,
            )
        )
        return _Answer(204)


@pytest.fixture
def discord_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscordServer]:
    """A running DiscordServer per test with discord.py pointed at it (``Route.BASE``), stopped
    afterwards; handler bugs and requests for routes it lacks fail the test loudly."""
    import discord.http  # here, not at the top: importing discord.py takes a moment

    with DiscordServer() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        yield server
    if server.errors:
        raise AssertionError(f"DiscordServer handler raised: {server.errors!r}")
