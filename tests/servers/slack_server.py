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

Socket Mode, the bot's default, is served too: the app opens a socket with its app-level token
and the test pushes envelopes down it::

    handler = AsyncSocketModeHandler(app, server.app_token)  # app's client has base_url=...
    await handler.connect_async()
    await server.wait_for_socket_async()
    payload = slash_command_payload("help", response_url=server.response_url("r1"))
    envelope_id = server.send_envelope("slash_commands", payload, accepts_response_payload=True)
    ack = await server.wait_for_ack_async(envelope_id)

Behaviour worth knowing when writing tests:

* Web API methods live under :attr:`SlackServer.base_url` (``/api/<method>``), answer GET and
  POST alike, and take arguments from the query string, a form body or a JSON body, merged.
  Implemented: ``auth.test``, ``chat.postMessage``, ``chat.postEphemeral``, ``users.info``,
  ``conversations.history`` and ``apps.connections.open``; anything else is ``unknown_method``.
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

Socket Mode:

* ``apps.connections.open`` wants :attr:`SlackServer.app_token` (``xapp-test``), POSTed like the
  other methods and scriptable like them (e.g. :class:`RateLimited`). The bot token gets
  ``not_allowed_token_type`` there, and the app token gets it from every other method; any
  other token is ``invalid_auth``. It answers ``ws://127.0.0.1:PORT/link/?ticket=…``.
* Each URL is good for one connection: an unknown or used ticket is refused with HTTP 401
  before the upgrade (aiohttp raises ``WSServerHandshakeError``), and ``/link/`` without a
  WebSocket upgrade gets 426. WebSocket requests are not in ``calls``; count
  ``apps.connections.open`` there, or use :meth:`~SlackServer.sockets_opened`.
* The WebSocket is RFC 6455 without extensions: masked client frames (16/64-bit lengths,
  fragments) are read, pings get pongs, a close is echoed and the connection ends; a frame
  breaking the protocol is closed with 1002 and lands in ``errors``. The first message on a new
  connection is always Slack's ``hello`` (``connection_info.app_id`` is ``A0NEWSDESK``).
* :meth:`~SlackServer.send_envelope` pushes to the newest connection, with ``retry_attempt``
  0; nothing is retried when the ack does not come. Every client message with an
  ``envelope_id`` is kept, as sent, in :meth:`~SlackServer.socket_acks`; others are ignored.
* :meth:`~SlackServer.disconnect_socket` sends Slack's ``{"type": "disconnect"}``; slack_sdk
  then opens a new URL and socket and closes the old one itself (the server never does).
* ``wait_for_socket()`` and ``wait_for_ack()`` block, so they refuse to run on a thread with a
  running event loop: a client on that loop could never answer. Coroutines await the
  ``*_async`` twins.
* ``stop()`` sends close 1001 on every live socket and then cuts it, so a client that does not
  answer the close cannot keep the server's threads alive.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

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
    "slash_command_payload",
]

API_PREFIX = "/api/"
RESPOND_PREFIX = "/respond/"
WEBHOOK_PREFIX = "/services/"
LINK_PATH = "/link/"  # the Socket Mode WebSocket endpoint, as on wss-primary.slack.com
CONNECTIONS_OPEN = "apps.connections.open"  # the one method that takes the app-level token
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
    command: str = "/news", text: str = "help", *, response_url: str, **fields: str
) -> str:
    """The urlencoded form body Slack posts to an app for a slash command, fields in Slack's order.

    ``response_url`` has no default on purpose: a slack.com URL would send the app's ``respond()``
    to the internet; pass :meth:`SlackServer.response_url`. Other fields (``user_id``,
    ``channel_id``, …) are :func:`slash_command_payload`'s, with its defaults.
    """
    return urlencode(
        slash_command_payload(text, response_url=response_url, command=command, **fields)
    )


def slash_command_payload(
    text: str = "help",
    *,
    response_url: str,
    command: str = "/news",
    user_id: str = "U0MEMBER",
    user_name: str | None = None,
    channel_id: str = "C0GENERAL",
    channel_name: str | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str = "1000000000.1000000000.0123456789abcdef0123456789abcdef",
) -> dict[str, str]:
    """The payload of a ``slash_commands`` envelope: :func:`slash_command_body`'s fields as a
    JSON object of strings, which is how Socket Mode delivers them (``"is_enterprise_install":
    "false"`` included). Send it with ``server.send_envelope("slash_commands", payload,
    accepts_response_payload=True)``, as Slack does."""
    known_user = DEFAULT_USERS.get(user_id)
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": TEAM_NAME,
        "channel_id": channel_id,
        "channel_name": channel_name or DEFAULT_CHANNELS.get(channel_id, channel_id.lower()),
        "user_id": user_id,
        "user_name": user_name or (known_user.name if known_user else user_id.lower()),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


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


# -- Socket Mode: RFC 6455 frames ------------------------------------------------------------------

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_MAX_FRAME = 1 << 24  # far above any envelope ack; a larger frame is closed with 1009
_SOCKET_DEBUG_INFO = {"host": "applink-newsdesk-test", "build_number": 1}


def _accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept answering a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()


def _frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame, as a server sends them."""
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, size])
    elif size < 1 << 16:
        head = bytes([0x80 | opcode, 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 127]) + size.to_bytes(8, "big")
    return head + payload


class _SocketClosed(Exception):
    """The client broke the WebSocket protocol: close with ``code`` and end the connection."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class _Link:
    """One live Socket Mode connection, writable from any thread (the handler answers pings,
    the test sends envelopes, stop() says goodbye); frames never interleave."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.number = 0  # 1 for the first connection the server accepted, and so on
        self.write_lock = threading.Lock()
        self.close_sent = False

    def send(self, opcode: int, payload: bytes) -> bool:
        with self.write_lock:
            return self.send_locked(opcode, payload)

    def send_locked(self, opcode: int, payload: bytes) -> bool:
        """Send with ``write_lock`` held; False when closing or the client is gone."""
        if self.close_sent:
            return False
        self.close_sent = opcode == _CLOSE
        try:
            self.sock.sendall(_frame(opcode, payload))
        except OSError:
            return False
        return True

    def send_json(self, message: dict[str, Any]) -> bool:
        return self.send(_TEXT, json.dumps(message, ensure_ascii=False).encode())

    def close(self, code: int, reason: str = "") -> bool:
        return self.send(_CLOSE, code.to_bytes(2, "big") + reason.encode()[:120])


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
            elif url.path == LINK_PATH:
                self._socket_mode(url.query, headers)
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
        if presented not in (owner.token, owner.app_token):
            self._send(200, {"ok": False, "error": "invalid_auth"})
            return
        if (presented == owner.app_token) != (method == CONNECTIONS_OPEN):
            # App-level tokens open sockets and nothing else; bot tokens cannot open them.
            self._send(200, {"ok": False, "error": "not_allowed_token_type"})
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

    # -- Socket Mode ---------------------------------------------------------------------------

    def _socket_mode(self, query: str, headers: Headers) -> None:
        """The WebSocket behind a URL from apps.connections.open: handshake, hello, then frames
        until either side closes."""
        owner = self.owner
        key = headers.get("Sec-WebSocket-Key", "")
        upgrade = headers.get("Upgrade", "").lower() == "websocket"
        if not upgrade or "upgrade" not in headers.get("Connection", "").lower() or not key:
            self._send(426, "websocket_upgrade_required", {"Upgrade": "websocket"})
            return
        if headers.get("Sec-WebSocket-Version") != "13":
            self._send(426, "unsupported_websocket_version", {"Sec-WebSocket-Version": "13"})
            return
        if not owner._redeem_ticket(parse_qs(query).get("ticket", [""])[0]):
            self._send(401, "invalid_ticket")
            return
        self.send_response_only(101)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", _accept_key(key))
        self.end_headers()
        self.close_connection = True
        self.connection.settimeout(None)  # idle sockets are normal; stop() shuts them down
        link = owner._open_link(self.connection)
        try:
            self._serve_link(link)
        except _SocketClosed as closed:
            link.close(closed.code, closed.reason)
            raise AssertionError(f"Socket Mode client broke the protocol: {closed}") from None
        finally:
            owner._close_link(link)

    def _serve_link(self, link: _Link) -> None:
        """Read the client's frames until it closes: acks are recorded, pings answered."""
        kind: int | None = None  # the opcode of the message being reassembled from fragments
        parts: list[bytes] = []
        while (frame := self._read_frame()) is not None:
            final, opcode, payload = frame
            if opcode == _CLOSE:
                link.send(_CLOSE, payload[:2])  # echo the code; no-op if we closed first
                return
            if opcode == _PING:
                link.send(_PONG, payload)
                continue
            if opcode == _PONG:
                continue
            if opcode in (_TEXT, _BINARY):
                if kind is not None:
                    raise _SocketClosed(1002, "new message inside a fragmented one")
                kind, parts = opcode, [payload]
            elif opcode == _CONTINUATION and kind is not None:
                parts.append(payload)
            else:
                raise _SocketClosed(1002, f"unexpected opcode {opcode:#x}")
            if final:
                message, binary, kind = b"".join(parts), kind == _BINARY, None
                if binary:
                    continue  # Slack's protocol is text only
                try:
                    self.owner._client_message(message.decode())
                except UnicodeDecodeError:
                    raise _SocketClosed(1007, "text message is not UTF-8") from None

    def _read_frame(self) -> tuple[bool, int, bytes] | None:
        """The next client frame: (fin, opcode, unmasked payload); None once the client is gone."""
        head = self._read_exactly(2)
        if head is None:
            return None
        final, opcode = bool(head[0] & 0x80), head[0] & 0x0F
        if head[0] & 0x70:
            raise _SocketClosed(1002, "reserved bits set without an extension")
        if not head[1] & 0x80:
            raise _SocketClosed(1002, "client frames must be masked")
        size = head[1] & 0x7F
        if opcode >= _CLOSE and (size > 125 or not final):
            raise _SocketClosed(1002, "control frames are short and never fragmented")
        if size >= 126:
            extended = self._read_exactly(2 if size == 126 else 8)
            if extended is None:
                return None
            size = int.from_bytes(extended, "big")
        if size > _MAX_FRAME:
            raise _SocketClosed(1009, "frame too big")
        masked = self._read_exactly(4 + size)
        if masked is None:
            return None
        mask = (masked[:4] * (size // 4 + 1))[:size]
        unmasked = int.from_bytes(masked[4:], "big") ^ int.from_bytes(mask, "big")
        return final, opcode, unmasked.to_bytes(size, "big")

    def _read_exactly(self, size: int) -> bytes | None:
        data = self.rfile.read(size)
        return data if len(data) == size else None

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
    """A Slack workspace on 127.0.0.1: the Web API, Socket Mode, response URLs and webhooks.

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
        *,
        app_token: str = "xapp-test",
    ) -> None:
        super().__init__()
        if app_token == token:
            raise ValueError("the app-level token and the bot token must differ")
        self.token = token
        self.app_token = app_token  # xapp-…: apps.connections.open, i.e. Socket Mode, only
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
        # Socket Mode: tickets issued and not yet used, live links oldest first, acks received.
        self._tickets: set[str] = set()
        self._links: list[_Link] = []
        self._links_opened = 0
        self._acks: list[dict[str, Any]] = []
        self._socket_changed = threading.Condition(self._lock)  # links or acks changed

    def stop(self, timeout: float = 2.0) -> None:
        """Say goodbye on every Socket Mode link (close 1001), then stop as any test server."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close(1001, "server stopping")
        super().stop(timeout)

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

    # -- Socket Mode ---------------------------------------------------------------------------

    def socket_connections(self) -> int:
        """Socket Mode connections open now (handshake done, hello sent, not yet closed)."""
        with self._lock:
            return len(self._links)

    def sockets_opened(self) -> int:
        """Socket Mode connections ever accepted, to tell a reconnection from the old link."""
        with self._lock:
            return self._links_opened

    def wait_for_socket(self, timeout: float = 5.0) -> None:
        """Block until a Socket Mode client is connected. From a coroutine on the loop the client
        runs on, use :meth:`wait_for_socket_async`: blocking that loop would stall the client."""
        self._wait(lambda: bool(self._links), timeout, "no Socket Mode connection", "socket")

    async def wait_for_socket_async(self, timeout: float = 5.0) -> None:
        """:meth:`wait_for_socket` for coroutines: polls without blocking the event loop."""
        await self._wait_async(lambda: bool(self._links), timeout, "no Socket Mode connection")

    def send_envelope(
        self, type: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        """Push an envelope (``events_api``, ``slash_commands``, ``interactive``) to the newest
        connection, as Slack does; returns its ``envelope_id`` for :meth:`wait_for_ack`."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._send_to_newest(envelope)
        return envelope_id

    def disconnect_socket(self, reason: str = "refresh_requested") -> None:
        """Ask the newest connection to go away, as Slack does before it recycles a link (every
        few hours) or restarts a host: the client should open a new one and close this one."""
        self._send_to_newest(
            {"type": "disconnect", "reason": reason, "debug_info": dict(_SOCKET_DEBUG_INFO)}
        )

    def socket_acks(self, envelope_id: str | None = None) -> list[dict[str, Any]]:
        """Acknowledgements the clients sent back (``{"envelope_id", "payload"?}``, as sent),
        oldest first; only those for ``envelope_id`` when given."""
        with self._lock:
            return [a for a in self._acks if envelope_id in (None, a.get("envelope_id"))]

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Block until ``envelope_id`` is acknowledged, and return the ack. From a coroutine on
        the client's loop, use :meth:`wait_for_ack_async`."""
        self._wait(
            lambda: any(a.get("envelope_id") == envelope_id for a in self._acks),
            timeout,
            f"envelope {envelope_id} was not acknowledged",
            "ack",
        )
        return self.socket_acks(envelope_id)[0]

    async def wait_for_ack_async(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """:meth:`wait_for_ack` for coroutines: polls without blocking the event loop."""
        await self._wait_async(
            lambda: any(a.get("envelope_id") == envelope_id for a in self._acks),
            timeout,
            f"envelope {envelope_id} was not acknowledged",
        )
        return self.socket_acks(envelope_id)[0]

    def _wait(self, ready: Callable[[], bool], timeout: float, failure: str, name: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop in this thread: blocking is fine
        else:
            raise RuntimeError(
                f"wait_for_{name}() would block the running event loop, and with it a client on"
                f" that loop; use `await server.wait_for_{name}_async()`"
            )
        with self._socket_changed:
            if not self._socket_changed.wait_for(ready, timeout):
                raise TimeoutError(f"{failure} within {timeout} s")

    async def _wait_async(self, ready: Callable[[], bool], timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if ready():
                    return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{failure} within {timeout} s")
            await asyncio.sleep(0.005)

    def _send_to_newest(self, message: dict[str, Any]) -> None:
        with self._lock:
            link = self._links[-1] if self._links else None
        if link is None or not link.send_json(message):
            raise RuntimeError("no Socket Mode client is connected; wait_for_socket() first")

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
            CONNECTIONS_OPEN: self._connections_open,
        }
        if method not in methods:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        with self._lock:
            try:
                return {"ok": True, **methods[method](params)}
            except _Refusal as refusal:
                return {"ok": False, "error": refusal.error}

    def _redeem_ticket(self, ticket: str) -> bool:
        """True once per ticket issued by apps.connections.open: a socket URL is single-use."""
        with self._lock:
            if ticket not in self._tickets:
                return False
            self._tickets.discard(ticket)
            return True

    def _open_link(self, sock: socket.socket) -> _Link:
        """Register a connection and greet it with hello before anything else can be sent."""
        link = _Link(sock)
        with link.write_lock:
            with self._socket_changed:
                self._links_opened += 1
                link.number = self._links_opened
                self._links.append(link)
                hello = {
                    "type": "hello",
                    "num_connections": len(self._links),
                    "debug_info": {**_SOCKET_DEBUG_INFO, "approximate_connection_time": 18060},
                    "connection_info": {"app_id": APP_ID},
                }
                self._socket_changed.notify_all()
            link.send_locked(_TEXT, json.dumps(hello).encode())
        return link

    def _close_link(self, link: _Link) -> None:
        with self._socket_changed:
            if link in self._links:
                self._links.remove(link)
            self._socket_changed.notify_all()

    def _client_message(self, text: str) -> None:
        """A text message from a client: envelope acks are kept, anything else is ignored."""
        try:
            message = json.loads(text)
        except ValueError:
            return
        if isinstance(message, dict) and "envelope_id" in message:
            with self._socket_changed:
                self._acks.append(message)
                self._socket_changed.notify_all()

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

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        host = self.origin.removeprefix("http://")
        return {"url": f"ws://{host}{LINK_PATH}?ticket={ticket}"}

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
