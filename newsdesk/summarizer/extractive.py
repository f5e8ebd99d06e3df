"""The summary that is always there: the first sentences of a story's own text.

No model, no network, no cost: this is what a digest shows when no LLM is configured, when the
budget is spent, and whenever the LLM fails. Feed text is already plain (the parser cleaned it),
but it is full of furniture that is not news — "The post … appeared first on …", "Continue
reading", aggregator fields like "Points: 812", arXiv's "Announce Type" — and of links, which a
summary may not carry (the story's own link is the only one a digest shows). Both go first;
then whole sentences are taken while they fit, in Latin or CJK punctuation.
"""

from __future__ import annotations

import re

from newsdesk.feeds.canonical import truncate
from newsdesk.models import Summary

__all__ = ["extractive_summary", "sentences", "strip_links"]

DEFAULT_MAX_CHARS = 300

# Links in the forms feeds and models write them. A markdown or Slack link keeps its text.
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]{0,300})\]\(\s*[^)\s]{1,2000}[^)]{0,200}\)")
_SLACK_LINK = re.compile(r"<(?:https?|mailto|ftp):[^|>\s]{1,2000}(?:\|([^>\n]{0,300}))?>", re.I)
_BARE_URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'\])}，。、]+", re.I)
_EMPTY_BRACKETS = re.compile(r"[(\[<]\s*[)\]>]")

# Furniture, removed wherever it is: aggregator fields, then whole trailing phrases.
_FIELDS = re.compile(
    r"(?:Article URL|Comments URL|Points|# Comments|Comments)\s*:\s*\d*",
    re.I,
)
_ARXIV_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.I)
_TRAILERS = re.compile(
    r"""(?:
        The\s+post\s+.{1,300}?\s+appeared\s+first\s+on\s+.{1,200}?\.?
      | (?:Continue|Keep)\s+reading\b.{0,200}
      | Read\s+(?:the\s+)?(?:full\s+|more\b|rest\b).{0,200}
      | \[(?:…|\.\.\.)\]
      | (?:阅读|查看)(?:全文|原文|更多).{0,50}
    )\s*$""",
    re.I | re.X | re.S,
)

# A sentence ends at CJK end punctuation, or at . ! ? followed by space and a capital, a digit,
# an opening quote or a CJK character (the next sentence), with closing quotes kept.
_CJK_END = re.compile(r"[。！？][”」』）)]*")
_LATIN_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9\u3400-\u9fff])")
# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc inc ltd corp co no fig eq al approx dept est gov "  # noqa: SIM905
    "jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n".split()
)
_LAST_WORD = re.compile(r"([\w.]+)\.$")


def strip_links(text: str) -> str:
    """Remove every link from untrusted text, keeping a link's words: `[words](url)` and
    `<url|words>` become `words`, a bare URL goes. A digest links only to the stories' own
    pages, so neither a feed nor a model can smuggle one in."""
    if not text:
        return ""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _SLACK_LINK.sub(lambda m: m.group(1) or "", text)
    text = _BARE_URL.sub("", text)
    text = _EMPTY_BRACKETS.sub("", text)
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    """Split text into sentences, in English and Chinese alike; imperfect on purpose-built
    edge cases, good on news prose. Abbreviations ("U.S.", "e.g.", "Dr.") and initials do
    not end a sentence."""
    ends = sorted(
        {m.end() for m in _CJK_END.finditer(text)}
        | {m.end() for m in _LATIN_END.finditer(text) if not _is_abbreviation(text, m.start())}
    )
    parts, start = [], 0
    for end in ends:
        part = text[start:end].strip()
        if part:
            parts.append(part)
        start = end
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def extractive_summary(title: str, text: str, max_chars: int = DEFAULT_MAX_CHARS) -> Summary:
    """The first sentences of `text` that fit in `max_chars`, without furniture or links.

    A text that only repeats the title says nothing more, so it gives an empty summary; a
    first sentence longer than the cap is cut at a word boundary with an ellipsis.
    """
    body = _without_furniture(text)
    body = _without_title(body, title)
    if not body:
        return Summary(text="")
    chosen = ""
    for sentence in sentences(body):
        joined = f"{chosen} {sentence}" if chosen and not _is_cjk(chosen[-1]) else chosen + sentence
        if len(joined) > max_chars:
            break
        chosen = joined
    return Summary(text=chosen or truncate(body, max_chars))


def _without_furniture(text: str) -> str:
    text = strip_links(text or "")
    text = _ARXIV_PREFIX.sub("", text)
    text = _FIELDS.sub(" ", text)
    previous = None
    while previous != text:  # "… Continue reading [...]": trailers can stack
        previous = text
        text = _TRAILERS.sub("", text).rstrip(" -–—|:")
    return " ".join(text.split())


def _without_title(body: str, title: str) -> str:
    """Feeds often start the summary with the title; the digest shows the title already."""
    title = " ".join((title or "").split())
    if title and body.casefold().startswith(title.casefold()):
        body = body[len(title) :].lstrip(" .:-–—|。：")
    return body


def _is_abbreviation(text: str, period_at: int) -> bool:
    match = _LAST_WORD.search(text[max(0, period_at - 12) : period_at + 1])
    if not match:
        return False
    word = match.group(1).lower()
    # A single letter is an initial ("J. Smith"); "U.S." ends in one too.
    return word in _ABBREVIATIONS or len(word.rsplit(".", 1)[-1]) == 1


def _is_cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"
