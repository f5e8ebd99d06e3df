"""A real OpenAI-compatible chat-completions server for testing the LLM client.

A mocked transport would only test our assumptions about HTTP; retries, Retry-After, timeouts,
bounded concurrency and the headers actually sent are proven against a socket. Like the feed
server it is standard library only: a :class:`~tests.servers.loopback.LoopbackServer` on
127.0.0.1 in a daemon thread.

Usage::

    with LLMServer() as server:
        server.script(Status(429, retry_after="1"), Reply(content={"summary": "Hi"}))
        client = ChatClient(base_url=server.base_url, model="m", api_key=None, timeout=2)
        ...
        assert server.calls == 2

or through the ``llm_server`` pytest fixture at the bottom of this module.

Behaviour worth knowing when writing tests:

* Each request to ``POST /v1/chat/completions`` consumes one scripted behaviour; with the queue
  empty it gets the default answer, built from the request. A story request (the user message
  is JSON with a ``"story"`` object) gets ``{"summary": "Summary: <title>", "why_it_matters":
  …}``, an intro request (JSON with ``"titles"``) ``{"intro": …}``, anything else
  ``{"reply": "ok"}``.
* ``require_key`` is checked before the script, and a rejected request consumes nothing. Its 401
  echoes the key it was sent, as careless servers do, so tests can prove the client hides it.
* ``calls`` and ``requests`` count every request on arrival, including ones the client gave up
  on; ``max_in_flight`` is the peak of requests received but not yet answered.
* ``stop()`` wakes handlers sleeping in a ``Delay``: they hang up without answering.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import pytest

from tests.servers.loopback import DISCONNECTS, Headers, LoopbackHandler, LoopbackServer

__all__ = ["Delay", "LLMRequest", "LLMServer", "RawBody", "Reply", "Status", "llm_server"]

COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    """A 200 completion. ``content=None`` means the default answer for the request; a dict is
    JSON-encoded. ``usage="auto"`` makes up plausible token counts; None leaves usage out."""

    content: str | dict[str, Any] | None = None
    finish_reason: str | None = "stop"
    usage: dict[str, int] | str | None = "auto"


@dataclass(frozen=True)
class Status:
    """An error answer. ``body=None`` sends an OpenAI-style error object naming the status."""

    status: int
    body: str | bytes | dict[str, Any] | None = None
    retry_after: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delay:
    """Sleep, then answer with ``then`` (the default answer when None)."""

    seconds: float
    then: Behaviour | None = None


@dataclass(frozen=True)
class RawBody:
    """Any bytes at all, for answers that are not what the API promises."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


Behaviour = Reply | Status | Delay | RawBody


@dataclass
class LLMRequest:
    """One request as the server saw it."""

    method: str
    path: str
    headers: Headers
    payload: Any  # the parsed JSON body, None when it was not JSON
    received_at: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.payload.get("messages") if isinstance(self.payload, dict) else None
        return messages if isinstance(messages, list) else []

    @property
    def system(self) -> str:
        """The first system message's text, "" when there is none."""
        return next((m.get("content", "") for m in self.messages if m.get("role") == "system"), "")

    @property
    def user_data(self) -> Any:
        """The last user message parsed as JSON, None when it is not JSON."""
        users = [m.get("content", "") for m in self.messages if m.get("role") == "user"]
        try:
            return json.loads(users[-1])
        except (IndexError, TypeError, ValueError):
            return None


def default_answer(request: LLMRequest) -> str:
    """A valid answer to what the client asked, so tests only script what they care about."""
    data = request.user_data
    if isinstance(data, dict) and isinstance(data.get("story"), dict):
        title = data["story"].get("title", "")
        answer = {"summary": f"Summary: {title}", "why_it_matters": f"It matters: {title}"}
    elif isinstance(data, dict) and isinstance(data.get("titles"), list):
        titles = data["titles"]
        lead = f", led by {titles[0]}" if titles else ""
        answer = {"intro": f"This week brought {len(titles)} stories{lead}."}
    else:
        answer = {"reply": "ok"}
    return json.dumps(answer, ensure_ascii=False)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class _Handler(LoopbackHandler):
    server_version = "newsdesk-llm-server/1.0"
    owner: LLMServer

    def do_GET(self) -> None:
        self.send_body(405, {"error": {"message": "use POST", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        owner = self.owner
        length = self.headers.get("Content-Length", "")
        raw = self.rfile.read(int(length)) if length.isdigit() else b""
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        record = LLMRequest(self.command, self.path, Headers(self.headers.items()), payload)
        owner._arrive(record)
        try:
            self._answer(record)
        except DISCONNECTS:
            self.close_connection = True
        finally:
            owner._leave()

    def _answer(self, record: LLMRequest) -> None:
        owner = self.owner
        if self.path != COMPLETIONS_PATH:
            self.send_body(404, {"error": {"message": f"no route {self.path}", "code": 404}})
            return
        if owner.require_key is not None:
            sent = record.headers.get("Authorization", "")
            if sent != f"Bearer {owner.require_key}":
                presented = sent.removeprefix("Bearer ")
                message = f"Incorrect API key provided: {presented}." if presented else "No key."
                error = {"message": message, "type": "invalid_request_error", "code": "bad_key"}
                self.send_body(401, {"error": error})
                return
        behaviour: Behaviour | None = owner._next()
        while isinstance(behaviour, Delay):
            if owner._stopping.wait(behaviour.seconds):
                self.close_connection = True
                return
            behaviour = behaviour.then
        if behaviour is None or isinstance(behaviour, Reply):
            self.send_body(200, self._completion(behaviour or Reply(), record))
        elif isinstance(behaviour, Status):
            headers = dict(behaviour.headers)
            if behaviour.retry_after is not None:
                headers["Retry-After"] = behaviour.retry_after
            body = behaviour.body
            if body is None:
                phrase = HTTPStatus(behaviour.status).phrase
                body = {"error": {"message": phrase, "type": "server_error", "code": None}}
            self.send_body(behaviour.status, body, headers)
        else:
            self.send_body(behaviour.status, behaviour.body, content_type=behaviour.content_type)

    def _completion(self, reply: Reply, record: LLMRequest) -> dict[str, Any]:
        content = reply.content
        if content is None:
            content = default_answer(record)
        elif isinstance(content, dict):
            content = json.dumps(content, ensure_ascii=False)
        usage = reply.usage
        if usage == "auto":
            prompt = sum(_tokens(str(m.get("content", ""))) + 4 for m in record.messages)
            usage = {"prompt_tokens": prompt, "completion_tokens": _tokens(content)}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        answer: dict[str, Any] = {
            "id": f"chatcmpl-{self.owner.calls}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": record.payload.get("model", "") if isinstance(record.payload, dict) else "",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": reply.finish_reason,
                }
            ],
        }
        if usage is not None:
            answer["usage"] = usage
        return answer


class LLMServer(LoopbackServer):
    """An OpenAI-compatible endpoint on 127.0.0.1 that a test scripts call by call.

    Use as ``with LLMServer() as server:`` or call :meth:`start` and :meth:`stop`; each instance
    listens on its own free port. :meth:`stop` wakes handlers asleep in a Delay.
    """

    handler_class = _Handler
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[LLMRequest] = []
        self.require_key: str | None = None
        self.max_in_flight = 0
        self._in_flight = 0
        self._queue: deque[Behaviour] = deque()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, as an OpenAI-compatible client is configured."""
        return self.origin + "/v1"

    def script(self, *behaviours: Behaviour) -> None:
        """Queue answers for the next requests, one each, after any already queued."""
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def pending(self) -> int:
        """Scripted behaviours not yet used, to check a test ran the calls it meant to."""
        with self._lock:
            return len(self._queue)

    # -- internals used by the handler -------------------------------------------------------

    def _next(self) -> Behaviour | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _arrive(self, request: LLMRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """A running LLMServer per test, stopped afterwards; handler bugs fail the test loudly."""
    with LLMServer() as server:
        yield server
    if server.errors:
        raise AssertionError(f"LLMServer handler raised: {server.errors!r}")
