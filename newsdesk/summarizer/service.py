"""Summaries for a digest: the LLM where it is set up, paid for and working; else extractive.

Summaries cost money and time, so: only the stories that made the digest are summarized; an
answer is cached in the store under a hash of everything that shaped it (the story's text, the
model, the language, the prompt version), so rebuilding a digest makes no calls at all; and a
per-digest budget of calls and input tokens is spent on the best-ranked stories first. Past the
budget, and on any failure of the model (an outage, a timeout, an answer that is not the JSON we
asked for), a story gets its extractive summary and the digest still goes out.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from newsdesk.config import DigestSettings, SummarizerSettings
from newsdesk.models import Digest, DigestSection, DigestStory, Summary
from newsdesk.store import Store
from newsdesk.summarizer.extractive import extractive_summary
from newsdesk.summarizer.llm import (
    PROMPT_VERSION,
    ChatClient,
    Completion,
    LLMError,
    estimate_tokens,
    intro_messages,
    parse_intro,
    parse_story_summary,
    story_messages,
)

__all__ = ["Summarizer", "SummaryReport"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SummaryReport:
    """What summarizing one digest cost and how it went, for the CLI and the logs."""

    llm_calls: int = 0  # requests answered or failed, retries not counted
    cached: int = 0
    llm_summaries: int = 0
    extractive: int = 0
    over_budget: int = 0
    failed: int = 0
    input_tokens: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Job:
    """One LLM request to make, with its cache key and its estimated input size."""

    key: str
    messages: list[dict[str, str]]
    tokens: int
    entry: DigestStory | None  # None: the intro


class Summarizer:
    """Summarizes digests for one configured endpoint; without one, extractive only.

    `client` is an open ChatClient (its owner closes it) or None for no LLM.
    """

    def __init__(
        self,
        store: Store,
        settings: SummarizerSettings,
        digest_settings: DigestSettings,
        client: ChatClient | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.max_chars = digest_settings.summary_max_chars
        self.client = client

    async def summarize(
        self, digest: Digest, *, use_llm: bool = True
    ) -> tuple[Digest, SummaryReport]:
        """The digest with a summary for every story (and an intro if configured)."""
        report = SummaryReport()
        texts = self._best_texts(digest)
        summaries: dict[int, Summary] = {}
        intro = ""
        if self.client is not None and use_llm and not digest.quiet:
            summaries, intro = await self._with_llm(digest, texts, report)
        for entry in digest.stories:
            if entry.story.id not in summaries:
                summaries[entry.story.id] = extractive_summary(
                    entry.story.title, texts[entry.story.id], self.max_chars
                )
                report.extractive += 1
        sections = tuple(
            replace(section, stories=_with_summaries(section, summaries))
            for section in digest.sections
        )
        return replace(digest, sections=sections, intro=intro or digest.intro), report

    def _best_texts(self, digest: Digest) -> dict[int, str]:
        """The text to summarize each story from: its representative's, unless that says
        nothing beyond the title (an aggregator's link), then another outlet's."""
        best = {entry.story.id: entry.story.summary for entry in digest.stories}
        several = {
            entry.story.id: entry.story for entry in digest.stories if entry.story.item_count > 1
        }
        for story_id, texts in self.store.story_texts(several).items():
            title = several[story_id].title
            best[story_id] = next(
                (text for text in texts if extractive_summary(title, text, self.max_chars).text),
                best[story_id],
            )
        return best

    async def _with_llm(
        self, digest: Digest, texts: dict[int, str], report: SummaryReport
    ) -> tuple[dict[int, Summary], str]:
        client = self.client
        assert client is not None
        language = digest.language
        # The budget goes to the best stories first, whatever section they are in.
        ranked = sorted(digest.stories, key=lambda entry: -entry.score)
        jobs = [
            # Only the representative outlet: another outlet joining the story later should
            # not make its cached summary stale.
            self._job(
                story_messages(e.story.title, texts[e.story.id], e.story.sources[:1], language), e
            )
            for e in ranked
        ]
        if self.settings.intro:
            titles = [e.story.title for e in ranked]
            jobs.append(self._job(intro_messages(titles, language), None))
        cached = self.store.cached_summaries(job.key for job in jobs)

        summaries: dict[int, Summary] = {}
        intro = ""
        to_call: list[_Job] = []
        calls = tokens = 0
        for job in jobs:
            if job.key in cached:
                report.cached += 1
                value = self._from_cache(cached[job.key], job)
                if job.entry is None:
                    intro = value
                else:
                    summaries[job.entry.story.id] = value
            elif (
                calls + 1 > self.settings.max_calls_per_digest
                or tokens + job.tokens > self.settings.max_input_tokens_per_digest
            ):
                report.over_budget += 1
            else:
                calls += 1
                tokens += job.tokens
                to_call.append(job)

        results = await asyncio.gather(*(self._call(job) for job in to_call))
        for job, result in zip(to_call, results, strict=True):
            report.llm_calls += 1
            if isinstance(result, str):
                report.failed += 1
                report.errors.append(result)
                continue
            value, completion = result
            report.input_tokens += completion.input_tokens or job.tokens
            if job.entry is None:
                intro = value
                body: dict[str, Any] = {"intro": value}
            else:
                summaries[job.entry.story.id] = value
                body = {"summary": value.text, "why_it_matters": value.why}
            self.store.save_summary(
                job.key,
                body,
                kind="intro" if job.entry is None else "story",
                model=client.model,
                language=language,
                prompt_version=PROMPT_VERSION,
                input_tokens=completion.input_tokens,
                output_tokens=completion.output_tokens,
            )
        report.llm_summaries = len(summaries)
        return summaries, intro

    def _job(self, messages: list[dict[str, str]], entry: DigestStory | None) -> _Job:
        assert self.client is not None
        return _Job(
            key=cache_key(self.client.model, messages),
            messages=messages,
            tokens=estimate_tokens(messages),
            entry=entry,
        )

    async def _call(self, job: _Job) -> tuple[Any, Completion] | str:
        """The parsed answer and its completion, or why there is none (logged, never raised)."""
        assert self.client is not None
        what = "the intro" if job.entry is None else f"story {job.entry.story.id}"
        try:
            completion = await self.client.complete(job.messages)
            if job.entry is None:
                return parse_intro(completion), completion
            summary = parse_story_summary(
                completion,
                max_summary_chars=self.max_chars,
                max_why_chars=self.settings.why_max_chars,
            )
            return summary, completion
        except LLMError as exc:
            log.warning("LLM summary of %s failed, using the extractive one: %s", what, exc)
            return f"{what}: {exc}"

    def _from_cache(self, body: dict[str, Any], job: _Job) -> Any:
        if job.entry is None:
            return str(body.get("intro", ""))
        return Summary(
            text=str(body.get("summary", "")), why=str(body.get("why_it_matters", "")), origin="llm"
        )


def cache_key(model: str, messages: Sequence[dict[str, str]]) -> str:
    """A hash of everything that shapes an answer: the prompt version, the model and the exact
    messages, which hold the story's text and the language asked for."""
    payload = json.dumps([PROMPT_VERSION, model, list(messages)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _with_summaries(
    section: DigestSection, summaries: dict[int, Summary]
) -> tuple[DigestStory, ...]:
    return tuple(
        replace(entry, summary=summaries.get(entry.story.id, entry.summary))
        for entry in section.stories
    )
