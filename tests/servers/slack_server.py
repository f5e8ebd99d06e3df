"""A real Slack Web API server for testing the Slack bot against slack_sdk's and Bolt's own clients.

Mocking ``AsyncWebClient`` would only test our assumptions about Slack; a socket-level server
proves what the SDK really sends (JSON for ``chat.*``, query strings for ``GET`` methods, form
bodies from the sync client, the token in a Bearer header) and how it surfaces what Slack sends
back: ``ok: false`` with HTTP 200, 429 with ``Retry-After``, a connection cut after the message
was already posted. Like the other test servers it is standard library only: a
:class:`~tests.servers.loopback.LoopbackServer` on 127.0.0.1 in a daemon thread.

Usage::

    with SlackServer() as server:
        server.script("chat.postMessage", RateLimited(retry_after=0))
        client = AsyncWebClient(token=server.token, base_url=server.base_url)
        ...
        assert [m.text for m in server.messages("C0GENERAL")] == ["Weekly digest"]

or through the ``slack_server`` pytest fixture at the bottom of this module. Slash commands are
sent to a Bolt app as Slack does, with :func:`slash_command_body` and :func:`signed_headers`,
and the app's ``respond()`` lands in :meth:`SlackServer.responses`.

Behaviour worth knowing when writing tests:

* Web API methods live under :attr:`SlackServer.base_url` (``/api/<method>``), answer GET and
  POST alike, and take arguments from the query string, a form body or a JSON body, merged.
  Implemented: ``auth.test``, ``chat.postMessage``, ``chat.postEphemeral``, ``users.info`` and
  ``conversations.history``; anything else is ``unknown_method``.
* The token is read from ``Authorization: Bearer`` or a ``token`` form field. A ``token`` inside
  a JSON body is not a credential, as on slack.com: such a call gets ``not_authed``. Failures are
  HTTP 200 with ``{"ok": false, "error": ...}`` as Slack sends them, so slack_sdk raises
  ``SlackApiError`` for them exactly as it would in production.
* :meth:`SlackServer.script` queues behaviours per method name, plus ``"response_url"`` and
  ``"webhook"`` for the two hook endpoints; each call consumes one. The token is checked first,
  and a rejected call consumes nothing. With the queue empty the real answer is given.
* ``calls`` records every request on arrival, failed and unauthenticated ones included; only
  accepted messages reach :meth:`~SlackServer.messages`, :meth:`~SlackServer.responses` and
  :meth:`~SlackServer.webhook_posts`, where :class:`AcceptThenDrop` puts them too.
* Timestamps are real clock times, strictly increasing by at least 100 µs per message, so
  ``oldest`` computed from ``time.time()`` works and no two messages share a ts.
* ``conversations.history`` wants a channel id, leaves thread replies out (unless broadcast),
  pages with ``cursor`` like Slack, and includes ``metadata`` only with
  ``include_all_metadata``. Hook posts do not show up in any channel's history.
* ``stop()`` wakes handlers sleeping in a :class:`Delay`: they hang up without answering.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.servers.loopback import DISCONNECTS, Headers, LoopbackHandler, LoopbackServer

__all__ = [
    "AcceptThenDrop",
    "Call",
    "Delay",
    "PostedEphemeral",
    "PostedMessage",
    "RateLimited",
    "SlackError",
    "SlackServer",
    "SlackUser",
    "Status",
    "signed_headers",
    "slack_server",
    "slash_command_body",
]

API_PREFIX = "/api/"
RESPOND_PREFIX = "/respond/"
WEBHOOK_PREFIX = "/services/"
RESPONSE_URL = "response_url"  # the script() and calls name of posts to response URLs
WEBHOOK = "webhook"  # the script() and calls name of posts to incoming webhooks

# The workspace and the bot the token belongs to, as auth.test reports them.
TEAM_ID = "T0NEWSDESK"
TEAM_NAME = "newsdesk-test"
TEAM_URL = "https://newsdesk-test.slack.com/"
BOT_USER_ID = "U0NEWSBOT"
BOT_ID = "B0NEWSBOT"
APP_ID = "A0NEWSDESK"

# Slack's documented limits, enforced so an oversized digest fails here as it would in production.
MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_HISTORY_LIMIT = 999

# The status a hook answers a SlackError with when the test does not choose one.
_HOOK_STATUS = {
    "no_service": 404,
    "channel_not_found": 404,
    "user_not_found": 404,
    "action_prohibited": 403,
    "channel_is_archived": 410,
    "expired_url": 404,
    "used_url": 404,
}


# -- scripted behaviours -------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimited:
    """HTTP 429 with ``Retry-After``, as Slack answers a method or hook over its rate tier."""

    retry_after: int = 1


@dataclass(frozen=True)
class Status:
    """Any HTTP status, e.g. an outage's 500 or 503. ``body=None`` sends ``{"ok": false, "error":
    <slug>}`` from the Web API and the bare slug as text from a hook, as Slack words them."""

    code: int
    body: str | bytes | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlackError:
    """A refusal in Slack's own words: ``{"ok": false, "error": error}`` from the Web API, the bare
    error as text from a hook. ``status=None`` means Slack's usual one: 200 from the Web API, the
    matching 4xx from a hook."""

    error: str
    status: int | None = None


@dataclass(frozen=True)
class AcceptThenDrop:
    """Do the call for real (the message is stored), then hang up without answering: the crash
    between Slack accepting a message and the client learning of it, which retries turn into
    duplicate posts."""


@dataclass(frozen=True)
class Delay:
    """Wait, then answer with ``then`` (the real answer when None); stop() cuts the wait short."""

    seconds: float
    then: Behaviour | None = None


Behaviour = RateLimited | Status | SlackError | AcceptThenDrop | Delay


# -- what the server holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class SlackUser:
    """A workspace member as ``users.info`` describes them; the id is the key it is stored under."""

    name: str
    real_name: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class PostedMessage:
    """A message accepted by ``chat.postMessage``, with the request ``payload`` it came from."""

    channel: str  # always the channel id, even when the client named the channel
    ts: str
    text: str  # "" when only blocks or attachments were sent, as Slack stores it
    blocks: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None  # parsed, whether it was sent as JSON or a form string
    thread_ts: str | None
    unfurl_links: bool | None
    unfurl_media: bool | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class PostedEphemeral:
    """A message accepted by ``chat.postEphemeral``: seen by ``user`` only, never in history."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    payload: dict[str, Any]


class Call(NamedTuple):
    """One request: the Web API method (or ``"response_url"``/``"webhook"``) and its arguments,
    merged from query string and body. A plain tuple to compare against, e.g.
    ``("auth.test", {})``."""

    method: str
    params: dict[str, Any]


DEFAULT_CHANNELS: Mapping[str, str] = {"C0GENERAL": "general", "C0AINEWS": "ai-news"}
DEFAULT_USERS: Mapping[str, SlackUser] = {
    "U0ADMIN": SlackUser("alice", "Alice Admin", is_admin=True, is_owner=True),
    "U0MEMBER": SlackUser("bob", "Bob Member"),
}


class _Refusal(Exception):
    """Ends a Web API method early with Slack's ``{"ok": false, "error": error}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _HangUp(Exception):
    """Ends a request without an answer: the handler closes the connection instead."""


# -- helpers for driving a Bolt app ---------------------------------------------------------------


def signed_headers(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs a request to an app with (v0 HMAC-SHA256 over
    ``v0:{timestamp}:{body}``), so Bolt's verification middleware runs for real in tests.

    ``timestamp`` defaults to now; pass an old one to prove stale requests are refused.
    """
    sent_at = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{sent_at}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(sent_at),
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(
    command: str = "/news",
    text: str = "help",
    *,
    response_url: str,
    user_id: str = "U0MEMBER",
    user_name: str = "bob",
    channel_id: str = "C0GENERAL",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    trigger_id: str = "1000000000.1000000000.0123456789abcdef0123456789abcdef",
) -> str:
    """The urlencoded form body Slack posts to an app for a slash command, fields in Slack's order.

    ``response_url`` has no default on purpose: a slack.com URL would send the app's ``respond()``
    to the internet; pass :meth:`SlackServer.response_url`.
    """
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "team_domain": TEAM_NAME,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


# -- argument parsing ----------------------------------------------------------------------------


def _flag(value: Any) -> bool | None:
    """A boolean argument as any client sends it: JSON true, or "true"/"1" in a form."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


def _json_arg(value: Any, error: str) -> Any:
    """An argument that is JSON in a JSON body but a JSON string in a form body."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise _Refusal(error) from None


def _ts_key(value: Any, error: str) -> Decimal:
    """A ts as a number; Decimal, because a float cannot hold 10 digits plus 6 decimals exactly."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Refusal(error) from None
    if not number.is_finite():
        raise _Refusal(error)
    return number


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> Decimal:
    try:
        decoded = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _Refusal("invalid_cursor") from None
    prefix, _, ts = decoded.partition(":")
    if prefix != "next_ts":
        raise _Refusal("invalid_cursor")
    return _ts_key(ts, "invalid_cursor")


def _error_slug(code: int) -> str:
    """The ``error`` Slack puts in an outage's answer, e.g. 503 -> "service_unavailable"."""
    if code == 500:
        return "internal_error"
    try:
        return HTTPStatus(code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return f"http_{code}"


# -- the handler ---------------------------------------------------------------------------------


class _Handler(LoopbackHandler):
    server_version = "newsdesk-slack-server/1.0"
    owner: SlackServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        headers = Headers(self.headers.items())
        raw = self._read_body(headers)
        try:
            if url.path.startswith(API_PREFIX):
                self._web_api(url.path.removeprefix(API_PREFIX), url.query, headers, raw)
            elif url.path.startswith(RESPOND_PREFIX):
                self._hook(RESPONSE_URL, url.path.removeprefix(RESPOND_PREFIX), raw)
            elif url.path.startswith(WEBHOOK_PREFIX):
                self._hook(WEBHOOK, url.path.removeprefix(WEBHOOK_PREFIX), raw)
            else:
                self._send(404, f"no route {url.path}")
        except (_HangUp, *DISCONNECTS):
            self.close_connection = True

    def _read_body(self, headers: Headers) -> bytes:
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers, up to the blank line
                pass
            return b"".join(chunks)
        length = headers.get("Content-Length", "")
        return self.rfile.read(int(length)) if length.isdigit() else b""

    # -- the Web API ---------------------------------------------------------------------------

    def _web_api(self, method: str, query: str, headers: Headers, raw: bytes) -> None:
        owner = self.owner
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        form_token: str | None = None
        problem: str | None = None
        content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        if raw and content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if isinstance(body, dict):
                params.update(body)  # a "token" in here is only an argument, as on slack.com
            else:
                problem = "invalid_json"
        elif raw and content_type in ("application/x-www-form-urlencoded", ""):
            try:
                form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
            except UnicodeDecodeError:
                form, problem = {}, "invalid_form_data"
            params.update(form)
            form_token = form.get("token")
        elif raw:
            problem = "invalid_form_data"
        owner._record(Call(method, params))
        if problem is not None:
            self._send(200, {"ok": False, "error": problem})
            return
        bearer = headers.get("Authorization", "")
        presented = bearer[len("Bearer ") :].strip() if bearer.startswith("Bearer ") else form_token
        if not presented:
            self._send(200, {"ok": False, "error": "not_authed"})
            return
        if presented != owner.token:
            self._send(200, {"ok": False, "error": "invalid_auth"})
            return
        behaviour = self._after_delays(owner._next(method))
        if isinstance(behaviour, RateLimited):
            answer = {"ok": False, "error": "ratelimited"}
            self._send(429, answer, {"Retry-After": str(behaviour.retry_after)})
        elif isinstance(behaviour, Status):
            body = behaviour.body
            if body is None:
                body = {"ok": False, "error": _error_slug(behaviour.code)}
            self._send(behaviour.code, body, behaviour.headers)
        elif isinstance(behaviour, SlackError):
            self._send(behaviour.status or 200, {"ok": False, "error": behaviour.error})
        else:
            answer = owner._perform(method, params)
            if isinstance(behaviour, AcceptThenDrop):
                raise _HangUp
            self._send(200, answer)

    # -- response URLs and incoming webhooks ---------------------------------------------------

    def _hook(self, kind: str, key: str, raw: bytes) -> None:
        owner = self.owner
        try:
            payload = json.loads(raw) if self.command == "POST" else None
        except ValueError:
            payload = None
        owner._record(Call(kind, payload if isinstance(payload, dict) else {}))
        if self.command != "POST":
            self._send(405, "method_not_allowed", {"Allow": "POST"})
            return
        behaviour = self._after_delays(owner._next(kind))
        if isinstance(behaviour, RateLimited):
            self._send(429, "rate_limited", {"Retry-After": str(behaviour.retry_after)})
        elif isinstance(behaviour, Status):
            body = _error_slug(behaviour.code) if behaviour.body is None else behaviour.body
            self._send(behaviour.code, body, behaviour.headers)
        elif isinstance(behaviour, SlackError):
            status = behaviour.status or _HOOK_STATUS.get(behaviour.error, 400)
            self._send(status, behaviour.error)
        else:
            status, answer = owner._accept_hook(kind, key, payload)
            if isinstance(behaviour, AcceptThenDrop):
                raise _HangUp
            self._send(status, answer)

    # -- plumbing ------------------------------------------------------------------------------

    def _after_delays(self, behaviour: Behaviour | None) -> Behaviour | None:
        """Sleep through any Delays; when stop() comes first, hang up without answering."""
        while isinstance(behaviour, Delay):
            if self.owner._stopping.wait(behaviour.seconds):
                raise _HangUp
            behaviour = behaviour.then
        return behaviour

    def _send(
        self, status: int, body: str | bytes | dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        # Slack labels its JSON with a charset.
        json_type = "application/json; charset=utf-8" if isinstance(body, dict) else None
        self.send_body(status, body, headers, content_type=json_type)


# -- the server ----------------------------------------------------------------------------------


class SlackServer(LoopbackServer):
    """A Slack workspace on 127.0.0.1: the Web API, response URLs and incoming webhooks.

    Use as ``with SlackServer() as server:`` or call :meth:`start` and :meth:`stop`; each
    instance listens on its own free port. ``channels`` maps ids to names, ``users`` ids to
    :class:`SlackUser`; both, and the ``not_in_channel`` set of channel ids the bot has not been
    invited to, may be changed by a test before the calls that should see the change.
    """

    handler_class = _Handler

    def __init__(
        self,
        token: str = "xoxb-test",
        channels: Mapping[str, str] | None = None,
        users: Mapping[str, SlackUser] | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.channels: dict[str, str] = dict(DEFAULT_CHANNELS if channels is None else channels)
        self.users: dict[str, SlackUser] = dict(DEFAULT_USERS if users is None else users)
        self.users.setdefault(BOT_USER_ID, SlackUser("newsdesk", "newsdesk", is_bot=True))
        self.not_in_channel: set[str] = set()
        self._calls: list[Call] = []
        self._messages: list[PostedMessage] = []
        self._ephemerals: list[PostedEphemeral] = []
        self._hook_posts: list[tuple[str, str, dict[str, Any]]] = []  # (kind, key, body)
        self._scripts: dict[str, deque[Behaviour]] = {}
        self._last_ts_us = 0

    # -- addresses -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``, as slack_sdk's ``base_url=`` wants it."""
        return self.origin + API_PREFIX

    def response_url(self, key: str = "r1") -> str:
        """A slash command's ``response_url``; posts to it are kept under ``key``."""
        return f"{self.origin}{RESPOND_PREFIX}{key}"

    def webhook_url(self, key: str = "T/B/X") -> str:
        """An incoming webhook URL, ``/services/<key>`` as on hooks.slack.com."""
        return f"{self.origin}{WEBHOOK_PREFIX}{key}"

    # -- scripting -----------------------------------------------------------------------------

    def script(self, method: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next calls to ``method`` (a Web API method name, or
        ``"response_url"`` / ``"webhook"``), one per call, after any already queued."""
        with self._lock:
            self._scripts.setdefault(method, deque()).extend(behaviours)

    def pending(self, method: str | None = None) -> int:
        """Scripted behaviours not yet used, to check a test made the calls it meant to."""
        with self._lock:
            if method is not None:
                return len(self._scripts.get(method, ()))
            return sum(len(queue) for queue in self._scripts.values())

    # -- what happened -------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request in arrival order, including refused and unanswered ones."""
        with self._lock:
            return list(self._calls)

    def count(self, method: str) -> int:
        """How many requests ``method`` got, whatever their answer."""
        with self._lock:
            return sum(1 for call in self._calls if call.method == method)

    def messages(self, channel: str | None = None) -> list[PostedMessage]:
        """Messages accepted by chat.postMessage, oldest first; ``channel`` is an id."""
        with self._lock:
            return [m for m in self._messages if channel is None or m.channel == channel]

    def ephemerals(self, channel: str | None = None) -> list[PostedEphemeral]:
        """Messages accepted by chat.postEphemeral, oldest first; ``channel`` is an id."""
        with self._lock:
            return [m for m in self._ephemerals if channel is None or m.channel == channel]

    def responses(self, key: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies accepted by response URLs, oldest first."""
        return self._hook_bodies(RESPONSE_URL, key)

    def webhook_posts(self, key: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies accepted by incoming webhooks, oldest first."""
        return self._hook_bodies(WEBHOOK, key)

    def _hook_bodies(self, kind: str, key: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [b for k, hook, b in self._hook_posts if k == kind and key in (None, hook)]

    # -- internals used by the handler ---------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def _next(self, method: str) -> Behaviour | None:
        with self._lock:
            queue = self._scripts.get(method)
            return queue.popleft() if queue else None

    def _perform(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run a Web API method against the workspace: Slack's answer, success or refusal."""
        methods = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "users.info": self._users_info,
            "conversations.history": self._history,
        }
        if method not in methods:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        with self._lock:
            try:
                return {"ok": True, **methods[method](params)}
            except _Refusal as refusal:
                return {"ok": False, "error": refusal.error}

    def _accept_hook(self, kind: str, key: str, payload: Any) -> tuple[int, str]:
        if not isinstance(payload, dict):
            return 400, "invalid_payload"
        has_content = any(payload.get(k) for k in ("text", "blocks", "attachments"))
        if not has_content and not _flag(payload.get("delete_original")):
            return 400, "no_text"
        with self._lock:
            self._hook_posts.append((kind, key, payload))
        return 200, "ok"

    def _next_ts(self) -> str:
        self._last_ts_us = max(self._last_ts_us + 100, time.time_ns() // 1000)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _channel(self, value: Any, *, by_name: bool) -> str:
        """The channel id for an id, or (where Slack allows it) a name with or without '#'."""
        if isinstance(value, str) and value in self.channels:
            channel = value
        elif by_name and isinstance(value, str):
            name = value.removeprefix("#")
            found = [cid for cid, cname in self.channels.items() if cname == name]
            if not found:
                raise _Refusal("channel_not_found")
            channel = found[0]
        else:
            raise _Refusal("channel_not_found")
        if channel in self.not_in_channel:
            raise _Refusal("not_in_channel")
        return channel

    def _content(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
        """A message's text and blocks, refused as Slack refuses missing or oversized content."""
        blocks = _json_arg(params.get("blocks"), "invalid_blocks_format")
        if blocks is not None:
            if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
                raise _Refusal("invalid_blocks")
            if not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks):
                raise _Refusal("invalid_blocks")
        text = params.get("text")
        text = "" if text is None else str(text)
        other = params.get("attachments") or params.get("markdown_text")
        if not text and not blocks and not other:
            raise _Refusal("no_text")
        if len(text) > MAX_TEXT:
            raise _Refusal("msg_too_long")
        return text, blocks

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": self.users[BOT_USER_ID].name,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"), by_name=True)
        text, blocks = self._content(params)
        metadata = _json_arg(params.get("metadata"), "invalid_metadata_format")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            raise _Refusal("invalid_metadata_format")
        thread_ts = params.get("thread_ts")
        message = PostedMessage(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            metadata=metadata,
            thread_ts=None if thread_ts in (None, "") else str(thread_ts),
            unfurl_links=_flag(params.get("unfurl_links")),
            unfurl_media=_flag(params.get("unfurl_media")),
            payload=dict(params),
        )
        self._messages.append(message)
        return {"channel": channel, "ts": message.ts, "message": self._as_json(message, True)}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"), by_name=True)
        user = self.users.get(str(params.get("user")))
        if user is None or user.deleted:
            raise _Refusal("user_not_found")
        text, blocks = self._content(params)
        thread_ts = params.get("thread_ts")
        ephemeral = PostedEphemeral(
            channel=channel,
            user=str(params["user"]),
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=None if thread_ts in (None, "") else str(thread_ts),
            payload=dict(params),
        )
        self._ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.ts}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user"))
        user = self.users.get(user_id)
        if user is None:
            raise _Refusal("user_not_found")
        profile = {"real_name": user.real_name, "display_name": user.name}
        return {
            "user": {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": user.name,
                "real_name": user.real_name,
                "deleted": user.deleted,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": user.is_primary_owner,
                "is_bot": user.is_bot,
                "is_app_user": False,
                "profile": profile,
            }
        }

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"), by_name=False)
        try:
            limit = int(params.get("limit") or 100)
        except (TypeError, ValueError):
            raise _Refusal("invalid_limit") from None
        limit = min(max(limit, 1), MAX_HISTORY_LIMIT)
        inclusive = bool(_flag(params.get("inclusive")))
        oldest = _ts_key(params.get("oldest") or "0", "invalid_ts_oldest")
        latest = params.get("latest")
        newest = None if latest in (None, "") else _ts_key(latest, "invalid_ts_latest")
        cursor = params.get("cursor")
        start = _decode_cursor(cursor) if cursor else None

        def wanted(message: PostedMessage) -> bool:
            ts = Decimal(message.ts)
            if message.channel != channel or (start is not None and ts > start):
                return False
            reply = message.thread_ts not in (None, message.ts)
            if reply and not _flag(message.payload.get("reply_broadcast")):
                return False
            after = ts >= oldest if inclusive else ts > oldest
            before = newest is None or (ts <= newest if inclusive else ts < newest)
            return after and before

        found = [m for m in reversed(self._messages) if wanted(m)]
        page, rest = found[:limit], found[limit:]
        with_metadata = bool(_flag(params.get("include_all_metadata")))
        return {
            "messages": [self._as_json(m, with_metadata) for m in page],
            "has_more": bool(rest),
            "pin_count": 0,
            "response_metadata": {"next_cursor": _encode_cursor(rest[0].ts) if rest else ""},
        }

    def _as_json(self, message: PostedMessage, with_metadata: bool) -> dict[str, Any]:
        """A stored message as Slack shows it: posted by the bot, blocks always present."""
        shown: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks or [],
        }
        if message.thread_ts is not None:
            shown["thread_ts"] = message.thread_ts
        if with_metadata and message.metadata is not None:
            shown["metadata"] = message.metadata
        return shown


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    """A running SlackServer per test, stopped afterwards; handler bugs fail the test loudly."""
    with SlackServer() as server:
        yield server
    if server.errors:
        raise AssertionError(f"SlackServer handler raised: {server.errors!r}")
