"""Digests with LLM summaries, against a real OpenAI-compatible server on 127.0.0.1.

Each scenario asserts the digest a channel would get: LLM summaries when the model answers well,
the extractive summary for every story it does not (and the digest still goes out), no second
call for a digest built twice, and a budget that stops spending.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from newsdesk.config import Settings, settings_from_dict
from newsdesk.digest.compose import compose_digest
from newsdesk.feeds.canonical import content_hash
from newsdesk.feeds.poller import Pipeline
from newsdesk.models import Item, ParsedFeed, Subscription
from newsdesk.store import Store
from newsdesk.summarizer.llm import ChatClient
from tests.conftest import NOW
from tests.servers.llm_server import Delay, RawBody, Reply, Status

TAXONOMY = Pipeline.default().taxonomy
EVERYTHING = Subscription(name="team")
STORIES = [
    ("DeepSeek releases V4 with a million-token window",
     "DeepSeek released V4, an open-weights model. It handles a million tokens of context."),
    ("Anthropic hires a new head of research in London",
     "Anthropic named a new research head. The London office will double."),
    ("Mistral raises 1 billion euros",
     "Mistral AI closed a funding round of 1 billion euros. Investors include Nvidia."),
    ("智谱发布新一代开源模型",
     "智谱AI发布了新一代开源大模型。该模型在多项评测中领先。"),
    ("New chip export rules for AI accelerators",
     "The Commerce Department published new export rules. They cover H20-class chips."),
]  # fmt: skip


@pytest.fixture
def archive(store: Store) -> Store:
    """Five stories from three feeds in the week before NOW."""
    feeds = [store.add_feed(f"https://outlet{n}.example/feed") for n in range(3)]
    for n, (title, text) in enumerate(STORIES):
        item = Item(
            guid=str(n),
            url=f"https://outlet{n % 3}.example/{n}",
            title=title,
            summary=text,
            author=None,
            published=NOW - timedelta(days=1, hours=n),
            content_hash=content_hash(title, text),
        )
        prepared = Pipeline.default().prepare(item, feeds[n % 3])
        store.save_items(
            feeds[n % 3].id,
            ParsedFeed(title=f"Outlet {n % 3}", link=None, items=[prepared]),
            now=NOW - timedelta(days=1, hours=n),
            next_poll_at=NOW,
        )
    return store


def llm_settings(server, **summarizer) -> Settings:
    return settings_from_dict(
        {
            "summarizer": {
                "provider": "openai-compatible",
                "base_url": server.base_url,
                "model": "test-model",
                "api_key_env": "",
                "max_retries": 1,
                "timeout_seconds": 1.0,
                **summarizer,
            }
        }
    )


async def compose(archive, settings, subscription=EVERYTHING, *, backoff=0.01):
    """One digest for the week before NOW, through a client with a short backoff."""
    async with ChatClient.from_settings(settings.summarizer, backoff_base=backoff) as client:
        return await compose_digest(
            archive, settings, TAXONOMY, subscription, now=NOW, client=client
        )


def origins(digest) -> list[str]:
    return [entry.summary.origin for entry in digest.stories]


async def test_a_good_answer_gives_llm_summaries_and_a_rebuild_makes_no_calls(archive, llm_server):
    settings = llm_settings(llm_server)
    first = await compose(archive, settings)
    assert llm_server.calls == 5
    assert origins(first.digest) == ["llm"] * 5
    for entry in first.digest.stories:
        assert entry.summary.text == f"Summary: {entry.story.title}"
        assert entry.summary.why == f"It matters: {entry.story.title}"
    assert (first.summaries.llm_calls, first.summaries.cached) == (5, 0)

    second = await compose(archive, settings)
    assert llm_server.calls == 5  # zero new calls
    assert second.summaries.cached == 5 and second.summaries.llm_calls == 0
    assert second.digest == first.digest


async def test_the_configured_endpoint_is_used_without_a_client_being_passed(archive, llm_server):
    composed = await compose_digest(
        archive, llm_settings(llm_server), TAXONOMY, EVERYTHING, now=NOW
    )
    assert origins(composed.digest) == ["llm"] * 5
    assert "test-model" in composed.llm


async def test_a_rate_limit_is_waited_out_and_the_summary_still_comes_from_the_llm(
    archive, llm_server
):
    llm_server.script(Status(429, retry_after="1"))
    composed = await compose(archive, llm_settings(llm_server, concurrency=1))
    assert llm_server.calls == 6
    assert origins(composed.digest) == ["llm"] * 5
    waited = llm_server.requests[1].received_at - llm_server.requests[0].received_at
    assert waited >= 0.95


@pytest.mark.parametrize(
    ("failure", "attempts"),
    [
        (Status(500), 2),  # retried once (max_retries = 1)
        (Delay(3.0), 2),  # longer than the 1 s timeout; retried
        (RawBody(b"<html>502 Bad Gateway</html>"), 1),  # an answer, just not JSON
        (Reply(content="Sure! Here is a summary: DeepSeek did things."), 1),
        (Reply(content={"headline": "wrong schema"}), 1),
        (
            Reply(content={"summary": "DeepSeek released V4, an open-wei"}, finish_reason="length"),
            1,
        ),
    ],
    ids=["500", "timeout", "non-json", "prose", "wrong-schema", "length"],
)
async def test_any_failure_gives_that_story_its_extractive_summary_and_the_digest_goes_out(
    archive, llm_server, failure, attempts
):
    # Every attempt at the best-ranked story fails; the others are answered.
    llm_server.script(*[failure] * attempts)
    composed = await compose(archive, llm_settings(llm_server, concurrency=1, max_retries=1))
    digest = composed.digest
    assert len(digest.stories) == 5
    failed = [entry for entry in digest.stories if entry.summary.origin == "extractive"]
    assert len(failed) == 1 and composed.summaries.failed == 1
    [entry] = failed
    assert entry.summary.text and not entry.summary.text.startswith("Summary:")
    assert entry.summary.why == ""
    assert origins(digest).count("llm") == 4


async def test_a_failed_story_is_asked_again_next_time_but_answered_ones_are_not(
    archive, llm_server
):
    llm_server.script(Status(500), Status(500))
    settings = llm_settings(llm_server, concurrency=1, max_retries=1)
    await compose(archive, settings)
    calls = llm_server.calls
    again = await compose(archive, settings)
    assert llm_server.calls == calls + 1
    assert origins(again.digest) == ["llm"] * 5


async def test_the_call_budget_goes_to_the_best_stories_and_the_rest_are_extractive(
    archive, llm_server
):
    composed = await compose(archive, llm_settings(llm_server, max_calls_per_digest=2))
    assert llm_server.calls == 2
    best_first = sorted(composed.digest.stories, key=lambda entry: -entry.score)
    assert [entry.summary.origin for entry in best_first] == ["llm"] * 2 + ["extractive"] * 3
    assert composed.summaries.over_budget == 3


async def test_the_token_budget_stops_spending_before_it_is_exceeded(archive, llm_server):
    composed = await compose(archive, llm_settings(llm_server, max_input_tokens_per_digest=700))
    sent = sum(len(str(request.messages)) for request in llm_server.requests)
    assert 1 <= llm_server.calls < 5
    assert composed.summaries.over_budget == 5 - llm_server.calls
    assert sent < 700 * 4 * 1.5  # what was sent is in the budget's order of magnitude


async def test_a_zero_budget_makes_no_calls(archive, llm_server):
    composed = await compose(archive, llm_settings(llm_server, max_calls_per_digest=0))
    assert llm_server.calls == 0
    assert origins(composed.digest) == ["extractive"] * 5


async def test_summaries_are_written_in_the_subscription_language_and_cached_per_language(
    archive, llm_server
):
    settings = llm_settings(llm_server)
    await compose(archive, settings)
    assert llm_server.calls == 5
    chinese = Subscription(name="cn", language="zh")
    digest = (await compose(archive, settings, chinese)).digest
    assert llm_server.calls == 10  # English summaries are no use to a Chinese channel
    assert "Chinese" in llm_server.requests[-1].system
    assert digest.language == "zh"
    await compose(archive, settings, chinese)
    assert llm_server.calls == 10


async def test_an_intro_line_costs_one_call_once(archive, llm_server):
    settings = llm_settings(llm_server, intro=True)
    first = (await compose(archive, settings)).digest
    assert llm_server.calls == 6
    assert first.intro.startswith("This week brought 5 stories")
    second = (await compose(archive, settings)).digest
    assert llm_server.calls == 6 and second.intro == first.intro


async def test_a_subscription_can_opt_out_of_llm_summaries(archive, llm_server):
    plain = Subscription(name="plain", llm_summaries=False)
    composed = await compose_digest(archive, llm_settings(llm_server), TAXONOMY, plain, now=NOW)
    assert llm_server.calls == 0
    assert origins(composed.digest) == ["extractive"] * 5
    assert composed.llm == "extractive"


async def test_a_missing_api_key_falls_back_to_extractive_and_names_only_the_variable(
    archive, llm_server, monkeypatch, caplog
):
    monkeypatch.delenv("NEWSDESK_TEST_LLM_KEY", raising=False)
    settings = llm_settings(llm_server, api_key_env="NEWSDESK_TEST_LLM_KEY")
    with caplog.at_level(logging.WARNING):
        composed = await compose_digest(archive, settings, TAXONOMY, EVERYTHING, now=NOW)
    assert llm_server.calls == 0
    assert origins(composed.digest) == ["extractive"] * 5
    assert "NEWSDESK_TEST_LLM_KEY" in caplog.text


async def test_the_api_key_reaches_the_server_but_never_the_logs_or_the_database(
    archive, llm_server, monkeypatch, caplog
):
    secret = "sk-test-do-not-leak-4242"
    monkeypatch.setenv("NEWSDESK_TEST_LLM_KEY", secret)
    llm_server.require_key = secret
    settings = llm_settings(llm_server, api_key_env="NEWSDESK_TEST_LLM_KEY", concurrency=1)
    llm_server.script(Status(500), Status(500))  # a failure is logged
    with caplog.at_level(logging.DEBUG):
        composed = await compose_digest(archive, settings, TAXONOMY, EVERYTHING, now=NOW)
    assert origins(composed.digest).count("llm") == 4
    assert all(r.headers["authorization"] == f"Bearer {secret}" for r in llm_server.requests)
    assert secret not in caplog.text
    dump = "\n".join(archive.db.conn.iterdump())
    assert secret not in dump


async def test_a_model_answer_cannot_mention_anyone_or_add_a_link_to_the_digest(
    archive, llm_server
):
    from newsdesk.digest.render_discord import render_discord
    from newsdesk.digest.render_slack import render_slack

    injected = {
        "summary": "<!channel> @everyone see [this](https://evil.example/a) or "
        "<https://evil.example/b|here> and <@U024BE7LH> <@&123456789012345678>",
        "why_it_matters": "<b>Click</b> https://evil.example/c @here",
    }
    llm_server.script(Reply(content=injected))
    composed = await compose(archive, llm_settings(llm_server, concurrency=1))
    [entry] = [e for e in composed.digest.stories if "see this" in e.summary.text]
    assert "evil.example" not in entry.summary.text + entry.summary.why
    assert "<b>" not in entry.summary.why

    slack = json.dumps(render_slack(composed.digest), ensure_ascii=False)
    assert "evil.example" not in slack
    for mention in ("<!channel>", "<!here>", "<@U024BE7LH>", "@everyone", "@here"):
        assert mention not in slack
    discord = render_discord(composed.digest)
    text = json.dumps(discord, ensure_ascii=False)
    assert "evil.example" not in text and "@everyone" not in text and "@here" not in text
    assert "<@&123456789012345678>" not in text
    assert all(payload["allowed_mentions"] == {"parse": []} for payload in discord)
