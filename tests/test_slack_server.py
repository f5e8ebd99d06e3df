"""Self-tests for the Slack test server, driven by slack_sdk's and Bolt's own clients.

The bot's Slack tests are only as honest as this server: each test here proves that a real client
sends what the server expects and reads what it answers the way it would read slack.com.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.servers.slack_server import (
    AcceptThenDrop,
    Call,
    Delay,
    RateLimited,
    SlackError,
    SlackServer,
    Status,
    signed_headers,
    slash_command_body,
    slash_command_payload,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DIGEST_METADATA = {"event_type": "newsdesk_digest", "event_payload": {"week": "2026-W47"}}


def web_client(server: SlackServer, **kwargs: Any) -> AsyncWebClient:
    """An async client pointed at the server, retries off unless given: one call, one request."""
    kwargs.setdefault("retry_handlers", [])
    return AsyncWebClient(token=server.token, base_url=server.base_url, timeout=5, **kwargs)


async def test_auth_test_names_the_bot_and_workspace(slack_server):
    answer = await web_client(slack_server).auth_test()

    assert answer["ok"] is True
    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == (
        "U0NEWSBOT",
        "B0NEWSBOT",
        "T0NEWSDESK",
    )
    assert answer["url"].startswith("https://")
    assert slack_server.calls == [("auth.test", {})]


async def test_posted_message_reads_back_newest_first_with_metadata_only_when_asked(slack_server):
    client = web_client(slack_server)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Top story*"}}]
    first = await client.chat_postMessage(
        channel="C0GENERAL", text="Digest", blocks=blocks, metadata=DIGEST_METADATA
    )
    second = await client.chat_postMessage(channel="C0GENERAL", text="Later", unfurl_links=False)

    plain = await client.conversations_history(channel="C0GENERAL")
    rich = await client.conversations_history(channel="C0GENERAL", include_all_metadata=True)

    assert first["channel"] == "C0GENERAL"
    assert first["message"]["metadata"] == DIGEST_METADATA
    assert float(first["ts"]) < float(second["ts"])
    assert [m["text"] for m in plain["messages"]] == ["Later", "Digest"]
    assert plain["has_more"] is False
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["messages"][1]["blocks"] == blocks
    assert plain["messages"][1]["bot_id"] == "B0NEWSBOT"
    assert rich["messages"][1]["metadata"] == DIGEST_METADATA
    stored = slack_server.messages("C0GENERAL")
    assert [(m.ts, m.metadata, m.unfurl_links) for m in stored] == [
        (first["ts"], DIGEST_METADATA, None),
        (second["ts"], None, False),
    ]
    assert stored[0].payload["blocks"] == blocks


async def test_history_pages_with_cursor_and_leaves_out_thread_replies(slack_server):
    client = web_client(slack_server)
    texts = ["one", "two", "three"]
    posted = [await client.chat_postMessage(channel="C0AINEWS", text=t) for t in texts]
    await client.chat_postMessage(channel="C0AINEWS", text="reply", thread_ts=posted[0]["ts"])

    pages = [
        [m["text"] for m in page["messages"]]
        async for page in await client.conversations_history(channel="C0AINEWS", limit=2)
    ]
    since = await client.conversations_history(channel="C0AINEWS", oldest=posted[0]["ts"])

    assert pages == [["three", "two"], ["one"]]
    assert [m["text"] for m in since["messages"]] == ["three", "two"]
    assert slack_server.messages("C0AINEWS")[-1].thread_ts == posted[0]["ts"]


async def test_channel_may_be_named_with_or_without_hash(slack_server):
    client = web_client(slack_server)

    named = await client.chat_postMessage(channel="#ai-news", text="a")
    bare = await client.chat_postMessage(channel="ai-news", text="b")

    assert named["channel"] == bare["channel"] == "C0AINEWS"
    assert [m.text for m in slack_server.messages("C0AINEWS")] == ["a", "b"]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ({"channel": "#nope", "text": "x"}, "channel_not_found"),
        ({"channel": "C0GENERAL"}, "no_text"),
        (
            {"channel": "C0GENERAL", "text": "x", "metadata": {"event_type": "e"}},
            "invalid_metadata_format",
        ),
        ({"channel": "C0GENERAL", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
    ],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
async def test_refused_post_raises_slack_api_error_and_stores_nothing(
    slack_server, arguments, error
):
    with pytest.raises(SlackApiError) as raised:
        await web_client(slack_server).chat_postMessage(**arguments)

    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == error
    assert slack_server.messages() == []
    assert slack_server.count("chat.postMessage") == 1


async def test_bot_not_invited_gets_not_in_channel(slack_server):
    slack_server.not_in_channel.add("C0GENERAL")

    with pytest.raises(SlackApiError) as raised:
        await web_client(slack_server).chat_postMessage(channel="C0GENERAL", text="x")

    assert raised.value.response["error"] == "not_in_channel"


async def test_wrong_token_is_invalid_auth_and_missing_token_is_not_authed(slack_server):
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack_server.base_url, retry_handlers=[])
    anonymous = AsyncWebClient(base_url=slack_server.base_url, retry_handlers=[])
    slack_server.script("auth.test", SlackError("should_not_be_used"))

    with pytest.raises(SlackApiError) as invalid:
        await wrong.auth_test()
    with pytest.raises(SlackApiError) as missing:
        await anonymous.auth_test()

    assert invalid.value.response["error"] == "invalid_auth"
    assert missing.value.response["error"] == "not_authed"
    assert slack_server.pending("auth.test") == 1  # a refused call consumes no behaviour
    assert slack_server.count("auth.test") == 2


def test_form_token_and_form_encoded_metadata_string_are_understood(slack_server):
    body = {
        "token": slack_server.token,
        "channel": "C0GENERAL",
        "text": "via form",
        "metadata": json.dumps(DIGEST_METADATA),
        "unfurl_media": "false",
    }
    request = urllib.request.Request(
        slack_server.base_url + "chat.postMessage",
        data=urllib.parse.urlencode(body).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())

    assert answer["ok"] is True
    [stored] = slack_server.messages()
    assert (stored.metadata, stored.unfurl_media) == (DIGEST_METADATA, False)


def test_sync_client_form_body_posts_like_the_async_client(slack_server):
    client = WebClient(token=slack_server.token, base_url=slack_server.base_url, timeout=5)

    answer = client.api_call(
        "chat.postMessage", data={"channel": "#general", "text": "sync", "unfurl_links": True}
    )
    user = client.users_info(user="U0MEMBER")

    assert answer["ts"] == slack_server.messages("C0GENERAL")[0].ts
    assert slack_server.messages()[0].unfurl_links is True  # sent as "1" in the form
    assert user["user"]["name"] == "bob"


async def test_json_body_token_is_not_a_credential(slack_server):
    async with (
        aiohttp.ClientSession() as session,
        session.post(slack_server.base_url + "auth.test", json={"token": "xoxb-test"}) as response,
    ):
        answer = await response.json()

    assert (response.status, answer) == (200, {"ok": False, "error": "not_authed"})


async def test_scripted_429_reaches_the_client_with_retry_after(slack_server):
    slack_server.script("chat.postMessage", RateLimited(retry_after=7))

    with pytest.raises(SlackApiError) as raised:
        await web_client(slack_server).chat_postMessage(channel="C0GENERAL", text="x")

    response = raised.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert slack_server.messages() == []


async def test_rate_limit_retry_handler_succeeds_on_the_next_try(slack_server, monkeypatch):
    # The handler sleeps Retry-After plus random() seconds; pin the jitter to keep the test fast.
    monkeypatch.setattr("slack_sdk.http_retry.builtin_async_handlers.random.random", lambda: 0.0)
    slack_server.script("chat.postMessage", RateLimited(retry_after=0))
    client = web_client(slack_server, retry_handlers=[AsyncRateLimitErrorRetryHandler()])

    answer = await client.chat_postMessage(channel="C0GENERAL", text="patient")

    assert answer["ok"] is True
    assert slack_server.count("chat.postMessage") == 2
    assert [m.text for m in slack_server.messages()] == ["patient"]


async def test_outage_status_raises_with_that_status(slack_server):
    slack_server.script("users.info", Status(503))

    with pytest.raises(SlackApiError) as raised:
        await web_client(slack_server).users_info(user="U0ADMIN")

    assert raised.value.response.status_code == 503
    assert raised.value.response["error"] == "service_unavailable"


async def test_accept_then_drop_stores_the_message_but_the_client_sees_a_disconnect(slack_server):
    slack_server.script("chat.postMessage", AcceptThenDrop())

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await web_client(slack_server).chat_postMessage(channel="C0GENERAL", text="lost reply")

    assert [m.text for m in slack_server.messages()] == ["lost reply"]


async def test_default_client_retries_a_dropped_post_and_duplicates_it(slack_server):
    # slack_sdk's default retry handlers resend on a disconnect, whether or not Slack posted.
    # The same handler as the default one, minus its backoff, to keep the test fast.
    [default] = AsyncWebClient().retry_handlers
    assert (type(default), default.max_retry_count) == (AsyncConnectionErrorRetryHandler, 1)
    immediate = AsyncConnectionErrorRetryHandler(
        interval_calculator=FixedValueRetryIntervalCalculator(0)
    )
    slack_server.script("chat.postMessage", AcceptThenDrop())
    client = web_client(slack_server, retry_handlers=[immediate])

    await client.chat_postMessage(channel="C0GENERAL", text="twice")

    assert [m.text for m in slack_server.messages()] == ["twice", "twice"]


async def test_delay_then_scripted_error_still_answers(slack_server):
    slack_server.script("auth.test", Delay(0.05, then=SlackError("account_inactive")))
    started = time.monotonic()

    with pytest.raises(SlackApiError) as raised:
        await web_client(slack_server).auth_test()

    assert raised.value.response["error"] == "account_inactive"
    assert time.monotonic() - started >= 0.05


def test_stop_wakes_a_delayed_call_which_then_gets_no_answer():
    server = SlackServer().start()
    server.script("auth.test", Delay(30))
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            WebClient(token=server.token, base_url=server.base_url, retry_handlers=[]).auth_test()
        except BaseException as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    while server.count("auth.test") == 0:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    caller.join(2)

    assert time.monotonic() - started < 1
    assert not caller.is_alive()
    assert len(outcome) == 1 and not isinstance(outcome[0], SlackApiError)
    assert server.errors == []


async def test_users_info_reports_admin_flags_and_unknown_users(slack_server):
    client = web_client(slack_server)

    admin = (await client.users_info(user="U0ADMIN"))["user"]
    member = (await client.users_info(user="U0MEMBER"))["user"]
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0GHOST")

    assert (admin["is_admin"], admin["is_owner"], admin["deleted"]) == (True, True, False)
    assert (member["is_admin"], member["is_owner"], member["is_bot"]) == (False, False, False)
    assert raised.value.response["error"] == "user_not_found"
    assert slack_server.calls[-1] == Call("users.info", {"user": "U0GHOST"})


async def test_ephemeral_is_kept_apart_from_channel_history(slack_server):
    client = web_client(slack_server)

    answer = await client.chat_postEphemeral(channel="C0GENERAL", user="U0MEMBER", text="psst")
    history = await client.conversations_history(channel="C0GENERAL")

    [ephemeral] = slack_server.ephemerals("C0GENERAL")
    assert (ephemeral.ts, ephemeral.user, ephemeral.text) == (
        answer["message_ts"],
        "U0MEMBER",
        "psst",
    )
    assert history["messages"] == []


async def test_unknown_method_is_refused(slack_server):
    with pytest.raises(SlackApiError) as raised:
        await web_client(slack_server).reactions_add(channel="C0GENERAL", name="x", timestamp="1")

    assert raised.value.response["error"] == "unknown_method"


async def test_response_url_and_webhook_posts_are_recorded(slack_server):
    respond = AsyncWebhookClient(slack_server.response_url("cmd1"), timeout=5)
    hook = AsyncWebhookClient(slack_server.webhook_url("T0/B0/abc"), timeout=5)

    answered = await respond.send(text="Here you go", response_type="ephemeral")
    posted = await hook.send(text="Weekly digest", blocks=[{"type": "divider"}])
    empty = await hook.send_dict({"response_type": "in_channel"})

    assert (answered.status_code, answered.body) == (200, "ok")
    assert (posted.status_code, posted.body) == (200, "ok")
    assert (empty.status_code, empty.body) == (400, "no_text")
    assert slack_server.responses("cmd1") == [{"text": "Here you go", "response_type": "ephemeral"}]
    assert slack_server.responses("other") == []
    assert slack_server.webhook_posts() == [
        {"text": "Weekly digest", "blocks": [{"type": "divider"}]}
    ]
    assert slack_server.count("webhook") == 2


async def test_hooks_can_be_rate_limited_failed_or_dropped(slack_server):
    slack_server.script("webhook", RateLimited(retry_after=3), Status(500), AcceptThenDrop())
    hook = AsyncWebhookClient(slack_server.webhook_url(), timeout=5, retry_handlers=[])

    limited = await hook.send(text="a")
    failed = await hook.send(text="b")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await hook.send(text="c")

    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert (failed.status_code, failed.body) == (500, "internal_error")
    assert slack_server.webhook_posts() == [{"text": "c"}]


def test_signed_headers_pass_slacks_signature_verifier():
    body = slash_command_body(text="latest", response_url="http://127.0.0.1:9/respond/r1")
    now = 1_764_660_000
    headers = signed_headers(SECRET, body, timestamp=now)
    verifier = SignatureVerifier(SECRET, clock=_FixedClock(now))

    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace("latest", "oldest"), headers)
    assert not SignatureVerifier("other-secret", clock=_FixedClock(now)).is_valid_request(
        body, headers
    )
    assert not verifier.is_valid_request(body, signed_headers(SECRET, body, timestamp=now - 600))
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


async def test_bolt_app_answers_a_signed_slash_command_through_the_server(slack_server):
    client = AsyncWebClient(token=slack_server.token, base_url=slack_server.base_url)
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)

    @app.command("/news")
    async def news(ack, respond, command):
        await ack()
        await respond(f"you asked for {command['text']}")

    body = slash_command_body(text="latest", response_url=slack_server.response_url("cmd"))
    accepted = await app.async_dispatch(
        AsyncBoltRequest(body=body, headers=signed_headers(SECRET, body))
    )
    forged = await app.async_dispatch(
        AsyncBoltRequest(body=body, headers=signed_headers("not-the-secret", body))
    )

    assert accepted.status == 200
    assert forged.status == 401
    assert slack_server.responses("cmd") == [{"text": "you asked for latest"}]
    assert slack_server.count("auth.test") == 1  # Bolt checked the token against the server


# -- Socket Mode -----------------------------------------------------------------------------------


@asynccontextmanager
async def socket_mode_client(server: SlackServer) -> AsyncIterator[SocketModeClient]:
    """slack_sdk's aiohttp Socket Mode client (the one Bolt's async handler runs), not yet
    connected, pointed at the server and always closed afterwards."""
    web = AsyncWebClient(base_url=server.base_url, timeout=5, retry_handlers=[])
    client = SocketModeClient(app_token=server.app_token, web_client=web)
    try:
        yield client
    finally:
        await client.close()


async def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_socket_mode_client_connects_gets_hello_and_acks_an_envelope(slack_server):
    messages: list[dict[str, Any]] = []
    requests: list[SocketModeRequest] = []

    async def on_message(client: Any, message: dict[str, Any], raw: str | None) -> None:
        messages.append(message)

    async def on_request(client: Any, request: SocketModeRequest) -> None:
        requests.append(request)
        answer = SocketModeResponse(request.envelope_id, payload={"text": "got it"})
        await client.send_socket_mode_response(answer)

    async with socket_mode_client(slack_server) as client:
        client.message_listeners.append(on_message)
        client.socket_mode_request_listeners.append(on_request)
        await client.connect()
        await slack_server.wait_for_socket_async()
        payload = slash_command_payload("latest", response_url=slack_server.response_url("r1"))
        envelope_id = slack_server.send_envelope(
            "slash_commands", payload, accepts_response_payload=True
        )
        ack = await slack_server.wait_for_ack_async(envelope_id)
        live = slack_server.socket_connections()
    await eventually(lambda: slack_server.socket_connections() == 0)

    assert live == 1
    assert ack == {"envelope_id": envelope_id, "payload": {"text": "got it"}}
    assert slack_server.socket_acks() == [ack]
    hello = messages[0]
    assert (hello["type"], hello["num_connections"]) == ("hello", 1)
    assert hello["connection_info"] == {"app_id": "A0NEWSDESK"}
    [request] = requests
    assert (request.type, request.envelope_id) == ("slash_commands", envelope_id)
    assert request.payload == payload
    assert request.payload["user_name"] == "bob"
    assert request.accepts_response_payload is True
    assert (request.retry_attempt, request.retry_reason) == (0, "")
    assert slack_server.calls == [("apps.connections.open", {})]


async def test_apps_connections_open_takes_the_app_token_and_only_there(slack_server):
    web = AsyncWebClient(base_url=slack_server.base_url, timeout=5, retry_handlers=[])

    async def error_of(call: Any) -> str:
        with pytest.raises(SlackApiError) as raised:
            await call
        return raised.value.response["error"]

    opened = await web.apps_connections_open(app_token=slack_server.app_token)
    wrong = await error_of(web.apps_connections_open(app_token="xapp-wrong"))
    bot_token = await error_of(web.apps_connections_open(app_token=slack_server.token))
    app_token_elsewhere = await error_of(web.auth_test(token=slack_server.app_token))
    async with socket_mode_client(slack_server) as client:
        client.app_token = "xapp-wrong"
        with pytest.raises(SlackApiError, match="invalid_auth"):
            await client.issue_new_wss_url()  # what connect() would retry forever

    url = urllib.parse.urlsplit(opened["url"])
    assert (url.scheme, url.netloc, url.path) == ("ws", f"127.0.0.1:{slack_server.port}", "/link/")
    assert urllib.parse.parse_qs(url.query)["ticket"][0]
    assert (wrong, bot_token, app_token_elsewhere) == (
        "invalid_auth",
        "not_allowed_token_type",
        "not_allowed_token_type",
    )
    assert slack_server.socket_connections() == 0


async def test_socket_url_is_single_use_and_link_needs_an_upgrade(slack_server):
    web = AsyncWebClient(base_url=slack_server.base_url, timeout=5, retry_handlers=[])
    url = (await web.apps_connections_open(app_token=slack_server.app_token))["url"]

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as socket:
            hello = await socket.receive_json(timeout=5)
            with pytest.raises(aiohttp.WSServerHandshakeError) as reused:
                await session.ws_connect(url)
        async with session.get(url.replace("ws://", "http://")) as plain:
            plain_status = plain.status

    assert hello["type"] == "hello"
    assert reused.value.status == 401
    assert plain_status == 426
    assert slack_server.sockets_opened() == 1


def test_socket_reads_long_and_fragmented_frames_and_answers_pings(slack_server):
    with raw_socket(slack_server) as sock:
        hello = json.loads(read_frame(sock)[1])
        big = json.dumps({"envelope_id": "e-big", "payload": {"text": "x" * 70_000}}).encode()
        sock.sendall(masked_frame(0x1, big))  # a 64-bit length
        medium = json.dumps({"envelope_id": "e-medium", "payload": {"text": "y" * 300}}).encode()
        sock.sendall(masked_frame(0x1, medium[:100], final=False))  # 16-bit lengths, in parts
        sock.sendall(masked_frame(0x9, b"are you there"))  # a ping between the fragments
        sock.sendall(masked_frame(0x0, medium[100:]))
        pong = read_frame(sock)
        sock.sendall(masked_frame(0x8, (1000).to_bytes(2, "big")))
        closing = read_frame(sock)
        slack_server.wait_for_ack("e-medium")

    assert hello["type"] == "hello"
    assert pong == (0xA, b"are you there")
    assert closing == (0x8, (1000).to_bytes(2, "big"))
    assert [len(ack["payload"]["text"]) for ack in slack_server.socket_acks()] == [70_000, 300]


def test_unmasked_client_frame_is_closed_with_1002_and_reported():
    with SlackServer() as server, raw_socket(server) as sock:
        read_frame(sock)  # hello
        sock.sendall(bytes([0x81, 2]) + b"{}")
        closing = read_frame(sock)
        deadline = time.monotonic() + 5
        while not server.errors and time.monotonic() < deadline:
            time.sleep(0.01)

    assert closing == (0x8, (1002).to_bytes(2, "big") + b"client frames must be masked")
    assert "client frames must be masked" in str(server.errors)


@contextmanager
def raw_socket(server: SlackServer) -> Iterator[socket.socket]:
    """A WebSocket by hand, to send frames no client library would."""
    url = WebClient(base_url=server.base_url).apps_connections_open(app_token=server.app_token)
    parts = urllib.parse.urlsplit(url["url"])
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\n\r\n".encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101 "), head
        yield sock


def masked_frame(opcode: int, payload: bytes, *, final: bool = True) -> bytes:
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    elif size < 1 << 16:
        length = bytes([0x80 | 126]) + size.to_bytes(2, "big")
    else:
        length = bytes([0x80 | 127]) + size.to_bytes(8, "big")
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if final else 0) | opcode]) + length + mask + body


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One unfragmented server frame: (opcode, payload)."""

    def exactly(size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            assert chunk, "connection closed mid-frame"
            data += chunk
        return data

    first, second = exactly(2)
    assert first & 0x80 and not second & 0x80  # final, unmasked
    size = second & 0x7F
    if size >= 126:
        size = int.from_bytes(exactly(2 if size == 126 else 8), "big")
    return first & 0x0F, exactly(size)


async def test_disconnect_message_makes_the_client_reconnect_on_a_new_url(slack_server):
    async def ack(client: Any, request: SocketModeRequest) -> None:
        await client.send_socket_mode_response(SocketModeResponse(request.envelope_id))

    async with socket_mode_client(slack_server) as client:
        client.socket_mode_request_listeners.append(ack)
        await client.connect()
        await slack_server.wait_for_socket_async()
        slack_server.disconnect_socket("refresh_requested")
        await eventually(
            lambda: slack_server.sockets_opened() == 2 and slack_server.socket_connections() == 1
        )
        envelope_id = slack_server.send_envelope("events_api", {"event": {"type": "app_mention"}})
        ack_after = await slack_server.wait_for_ack_async(envelope_id)

    assert ack_after == {"envelope_id": envelope_id}
    assert slack_server.count("apps.connections.open") == 2


async def test_stop_closes_live_sockets_with_going_away():
    server = SlackServer().start()
    web = AsyncWebClient(base_url=server.base_url, timeout=5, retry_handlers=[])
    url = (await web.apps_connections_open(app_token=server.app_token))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive_json(timeout=5)  # hello
        started = time.monotonic()
        server.stop()
        stopped_in = time.monotonic() - started
        closing = await socket.receive(timeout=5)

    assert stopped_in < 1
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1001)
    assert server.socket_connections() == 0
    assert server.errors == []


async def test_blocking_waits_refuse_to_stall_the_event_loop(slack_server):
    with pytest.raises(RuntimeError, match="wait_for_socket_async"):
        slack_server.wait_for_socket(timeout=0.01)
    with pytest.raises(TimeoutError):
        await slack_server.wait_for_socket_async(timeout=0.01)
    with pytest.raises(RuntimeError, match="no Socket Mode client is connected"):
        slack_server.send_envelope("events_api", {})


def test_blocking_wait_for_socket_times_out_off_the_loop(slack_server):
    with pytest.raises(TimeoutError, match="no Socket Mode connection"):
        slack_server.wait_for_socket(timeout=0.01)


class _FixedClock(Clock):
    """A SignatureVerifier clock stuck at one instant, so the test does not depend on now."""

    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)
